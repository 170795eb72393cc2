@echo off
rem Double-click to start the helper (Windows). ASCII only: cmd.exe reads this file in the OEM code page.
rem -ExecutionPolicy Bypass applies to this one script only; the machine's policy is left as it is.
chcp 65001 >nul
setlocal
set "JZ_PS=%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
if not exist "%JZ_PS%" set "JZ_PS=powershell.exe"
"%JZ_PS%" -NoLogo -NoProfile -ExecutionPolicy Bypass -File "%~dp0scripts\run.ps1" %*
set "JZ_RC=%ERRORLEVEL%"
endlocal & exit /b %JZ_RC%
