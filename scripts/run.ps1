# 举证助手 — Windows 启动脚本（PowerShell）：创建 .venv、安装并启动助手。
# Windows counterpart of scripts/run: create .venv, install, start the helper on the default evidence folder.
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
if (-not (Test-Path ".venv\Scripts\python.exe")) { py -3 -m venv .venv }
# The ocr extra (offline reading of unnamed photos) by default; without it the helper still runs.
& .venv\Scripts\python.exe -m pip install -q --disable-pip-version-check -e ".[ocr]"
if ($LASTEXITCODE -ne 0) {
  Write-Warning "图片识别组件（ocr）安装失败，助手仍可运行，未命名的照片需在文件名中写上订单号"
  & .venv\Scripts\python.exe -m pip install -q --disable-pip-version-check -e .
}
& .venv\Scripts\juzheng.exe serve @args
exit $LASTEXITCODE
