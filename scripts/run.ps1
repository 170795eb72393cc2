# 举证助手 — Windows 启动脚本（PowerShell）：创建 .venv、安装并启动助手。
# Windows counterpart of scripts/run: create .venv, install, start the helper on the default evidence folder.
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
if (-not (Test-Path ".venv\Scripts\python.exe")) { py -3 -m venv .venv }
& .venv\Scripts\python.exe -m pip install -q --disable-pip-version-check -e .
& .venv\Scripts\juzheng.exe serve @args
exit $LASTEXITCODE
