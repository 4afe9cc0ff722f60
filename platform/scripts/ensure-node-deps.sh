#!/usr/bin/env bash
# Front-end packages pinned in package-lock.json (npm registry only), installed with `npm ci` when the
# lock file changed. Installs Debian's nodejs and npm first when they are missing (as root).
set -euo pipefail
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" != "0" ]; then
    echo "npm is missing: run 'sudo apt-get install nodejs npm' (front-end packages come from npm)." >&2
    exit 1
  fi
  echo "Installing Debian's nodejs and npm for the pinned front-end packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
stamp=node_modules/.installed-lock
digest=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Installing front-end packages from package-lock.json..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$digest" > "$stamp"
fi
