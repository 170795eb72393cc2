# 举证助手 — Windows 启动脚本。双击项目文件夹里的「举证助手.cmd」即可（它以 -ExecutionPolicy Bypass 只为本脚本放行）。
# Windows start: find Python 3.11+, install once into .venv (again only when pyproject.toml changed),
# start the helper without a console window (pythonw) with its tray icon, turn autostart on once.
# Runs on Windows PowerShell 5.1 (every Windows 10/11) and PowerShell 7. Saved as UTF-8 with BOM:
# Windows PowerShell reads a BOM-less script in the ANSI code page and would garble the Chinese.
[CmdletBinding()]
param(
    [switch]$NoAutostart,
    [switch]$Console,
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$ServeArgs
)
# Continue, not Stop: Windows PowerShell 5.1 turns any stderr line of a native program (pip's
# warnings) into a terminating error under Stop. Every native call's exit code is checked instead.
$ErrorActionPreference = "Continue"
try { [Console]::OutputEncoding = [System.Text.Encoding]::UTF8 } catch { }

$Root = Split-Path -Parent $PSScriptRoot
$Venv = Join-Path $Root ".venv"
$VenvPython = Join-Path $Venv "Scripts\python.exe"
$VenvPythonw = Join-Path $Venv "Scripts\pythonw.exe"
$Stamp = Join-Path $Venv ".installed-pyproject"
$AutostartDone = Join-Path $Venv ".autostart-set"
$Port = 17817
if ($env:JUZHENG_PORT) { $Port = [int]$env:JUZHENG_PORT }
$LogDir = Join-Path $env:LOCALAPPDATA "juzheng"
$Log = Join-Path $LogDir "helper.log"

function Stop-WithMessage([string]$Text) {
    Write-Host ""
    Write-Host $Text -ForegroundColor Red
    Write-Host ""
    if (-not $env:JUZHENG_NO_PAUSE) { Read-Host "按回车键关闭此窗口" | Out-Null }
    exit 1
}

# -- Python 3.11+ ------------------------------------------------------------------------------
function Test-Python([string]$Exe, [string[]]$Prefix) {
    try {
        & $Exe @Prefix -c "import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)" 2>$null | Out-Null
        return ($LASTEXITCODE -eq 0)
    } catch {
        return $false
    }
}

function Find-Python {
    # 1. The py launcher (python.org installs it); -3 picks the newest Python 3 it knows.
    $py = Get-Command py.exe -ErrorAction SilentlyContinue
    if ($py) {
        foreach ($v in @("-3", "-3.13", "-3.12", "-3.11")) {
            if (Test-Python $py.Source @($v)) { return @{ Exe = $py.Source; Prefix = @($v) } }
        }
    }
    # 2. python.exe on PATH; the Store's "App execution alias" stub only counts when the Store's
    #    Python is really installed (the bare stub opens the Store instead of running anything).
    foreach ($cmd in @(Get-Command python.exe -All -ErrorAction SilentlyContinue)) {
        $isStoreAlias = $cmd.Source -like "*\Microsoft\WindowsApps\*"
        if ($isStoreAlias -and -not (Get-StorePython)) { continue }
        if (Test-Python $cmd.Source @()) { return @{ Exe = $cmd.Source; Prefix = @() } }
    }
    # 3. The Store's Python, even when its alias is switched off in 设置 → 应用执行别名.
    $store = Get-StorePython
    if ($store) {
        foreach ($name in @("python3.13.exe", "python3.12.exe", "python3.11.exe")) {
            $alias = Join-Path $env:LOCALAPPDATA "Microsoft\WindowsApps\$name"
            if ((Test-Path $alias) -and (Test-Python $alias @())) { return @{ Exe = $alias; Prefix = @() } }
        }
    }
    return $null
}

function Get-StorePython {
    try {
        return @(Get-AppxPackage -Name "PythonSoftwareFoundation.Python.3.*" -ErrorAction Stop |
            Where-Object { [int]($_.Name -replace '^PythonSoftwareFoundation\.Python\.3\.', '') -ge 11 })[0]
    } catch {
        return $null  # Get-AppxPackage is missing on some editions (Server Core, PowerShell 7 without Appx)
    }
}

$NoPython = @"
没有找到 Python 3.11 或更新的版本，举证助手需要它。请任选一种方式安装，装好后再双击「举证助手.cmd」：
  1. 打开 https://www.python.org/downloads/windows/ ，下载「Windows installer (64-bit)」（3.11 或更新），
     安装时勾选「Add python.exe to PATH」，然后点「Install Now」；
  2. 或者打开 Microsoft Store（微软商店），搜索「Python 3.12」，点「获取」。
不需要管理员权限。
"@

# -- the helper already running? ---------------------------------------------------------------
function Test-HelperRunning {
    try {
        $r = Invoke-WebRequest -Uri "http://127.0.0.1:$Port/api/health" -UseBasicParsing -TimeoutSec 2
        return [bool]$r.Headers["X-Juzheng-Version"]
    } catch {
        return $false
    }
}

Set-Location $Root
if (Test-HelperRunning) {
    Write-Host "举证助手已经在运行（任务栏右下角的「证」图标）。无需再次启动。"
    Start-Sleep -Seconds 3
    exit 0
}

# -- the venv, installed once ------------------------------------------------------------------
if (Test-Path $VenvPython) {
    if (-not (Test-Python $VenvPython @())) {
        Write-Host "项目里的 .venv 不是 Python 3.11+ 建的，正在重建…"
        Remove-Item -Recurse -Force $Venv -ErrorAction Stop
    }
}
if (-not (Test-Path $VenvPython)) {
    $found = Find-Python
    if (-not $found) { Stop-WithMessage $NoPython }
    Write-Host "正在准备运行环境（只需一次）…"
    $prefix = $found.Prefix
    & $found.Exe @prefix -m venv $Venv
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $VenvPython)) {
        Stop-WithMessage "无法在 $Venv 创建 Python 运行环境。请确认项目文件夹可以写入（不要放在只读的压缩包预览里，先解压），然后重试。"
    }
}

$want = (Get-FileHash -Algorithm SHA256 (Join-Path $Root "pyproject.toml")).Hash
$have = if (Test-Path $Stamp) { (Get-Content -Raw $Stamp).Trim() } else { "" }
if ($want -ne $have) {
    Write-Host "首次安装（或程序有更新）：正在下载并安装所需组件，需要联网，约 1–3 分钟…"
    $installLog = Join-Path $Venv "install.log"
    # Output into a log: pip and setuptools print dozens of English lines a seller need not read.
    & $VenvPython -m pip install --disable-pip-version-check --no-input -q -e $Root *> $installLog
    if ($LASTEXITCODE -ne 0) {
        $tail = (Get-Content $installLog -Tail 8) -join "`n"
        Stop-WithMessage "安装失败。最常见的原因是没有联网或网络被拦截：请联网后再双击「举证助手.cmd」。`n详细记录：$installLog`n$tail"
    }
    Set-Content -Path $Stamp -Value $want -Encoding ASCII
    Write-Host "安装完成。"
}

# -- start, without a console window -----------------------------------------------------------
if ($Console) {
    # For troubleshooting: run in this window and see every message.
    & $VenvPython -m juzheng serve @ServeArgs
    exit $LASTEXITCODE
}
New-Item -ItemType Directory -Force -Path $LogDir | Out-Null
# Start-Process joins its arguments with spaces: quote the ones that contain any (a --root path).
$serve = @("-m", "juzheng", "serve") + @($ServeArgs | Where-Object { $_ } | ForEach-Object { if ($_ -match '\s') { '"' + $_ + '"' } else { $_ } })
$proc = Start-Process -FilePath $VenvPythonw -ArgumentList $serve -WorkingDirectory $Root `
    -RedirectStandardError $Log -RedirectStandardOutput "$Log.out" -PassThru
$deadline = (Get-Date).AddSeconds(30)
while (-not (Test-HelperRunning)) {
    if ($proc.HasExited) {
        $tail = if (Test-Path $Log) { (Get-Content $Log -Tail 12 -Encoding UTF8) -join "`n" } else { "" }
        Stop-WithMessage "举证助手没能启动：`n$tail`n（完整记录：$Log）"
    }
    if ((Get-Date) -gt $deadline) {
        Stop-WithMessage "举证助手 30 秒内没有响应。请查看记录 $Log ，或用「举证助手.cmd -Console」在窗口中运行以查看原因。"
    }
    Start-Sleep -Milliseconds 300
}

# -- autostart, once ---------------------------------------------------------------------------
if (-not $NoAutostart -and -not (Test-Path $AutostartDone)) {
    & $VenvPython -m juzheng autostart on | Out-Null
    if ($LASTEXITCODE -eq 0) {
        Set-Content -Path $AutostartDone -Value (Get-Date -Format o) -Encoding ASCII
        Write-Host "已设置开机自动启动。要关闭：打开「设置 → 应用 → 启动」关掉「juzheng」，"
        Write-Host "  或在项目文件夹运行 .venv\Scripts\juzheng.exe autostart off 。"
    }
}

Write-Host ""
Write-Host "举证助手已在后台运行：任务栏右下角有「证」图标（可能在 ^ 里）。这个窗口可以关掉。"
Write-Host "下一步：在浏览器里打开扩展的「选项」页，点「开始配对」，再在弹出的页面点「允许」。"
Start-Sleep -Seconds 8
exit 0
