# Shared by scripts/run, scripts/test and scripts/bench: a project venv with the package installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
# Some images set PYTHONDONTWRITEBYTECODE. The package is installed editable, so its sources (and the
# tests, which pytest rewrites) were then compiled afresh by every process: ~0.3 s of CPU for each
# helper, CLI call and sort the tests start. __pycache__ is ignored by git.
unset PYTHONDONTWRITEBYTECODE

ensure_venv() {  # $1: pip extras, e.g. "" or "[test]"
  local extras="${1:-}"
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  local stamp=".venv/.installed${extras}"
  # Reinstall only when pyproject.toml changed since the last install: keeps reruns fast.
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" || return 1  # callers may fall back
    touch "$stamp"
  fi
}

apt_install_missing() {  # installs the Debian packages named that are not installed yet
  command -v dpkg-query >/dev/null 2>&1 || { echo "提示：不是 Debian/Ubuntu，跳过系统包安装：$*" >&2; return 0; }
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "缺少系统包且无 root 权限：${missing[*]}" >&2; return 1; }
    sudo="sudo -n"
  fi
  echo "安装系统包：${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_node_tools() {  # eslint and its config's packages from package.json (npm dev dependencies)
  command -v npm >/dev/null 2>&1 || apt_install_missing nodejs npm
  if [ ! -x node_modules/.bin/eslint ] || [ package.json -nt node_modules/.installed ]; then
    npm install --silent --no-audit --no-fund >/dev/null
    touch node_modules/.installed
  fi
}
