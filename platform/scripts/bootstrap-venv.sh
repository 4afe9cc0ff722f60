#!/usr/bin/env bash
# Create .venv and install the pinned requirements, again only when a requirements file changed.
# Usage: bootstrap-venv.sh requirements.txt|requirements-dev.txt
set -euo pipefail
req="${1:-requirements.txt}"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$py" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$py" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      echo "Installing python3-venv (Debian splits venv out of python3)..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv .venv
    else
      echo "Cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)." >&2
      exit 1
    fi
  fi
fi
stamp=".venv/.installed-$(basename "$req")"
digest=$(cat requirements*.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Installing Python packages from $req..."
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # (This machine's pip configuration names local index folders that may not exist: drop those warnings.)
  .venv/bin/python -m pip install -q -r "$req" 2>&1 | { grep -v "^WARNING: Location 'file://" || true; }
  echo "$digest" > "$stamp"
  # The dev requirements include the runtime ones.
  if [ "$(basename "$req")" = "requirements-dev.txt" ]; then
    echo "$digest" > .venv/.installed-requirements.txt
  fi
fi
