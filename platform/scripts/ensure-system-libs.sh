#!/usr/bin/env bash
# Debian libraries WeasyPrint needs to render certificate PDFs (Pango, HarfBuzz, fonts).
# Idempotent: installs only what is missing, as root; otherwise says what to install.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libharfbuzz0b fonts-dejavu-core)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "Install the libraries WeasyPrint needs for PDFs: ${missing[*]} (Pango 1.44+ and HarfBuzz)." >&2
  exit 0  # not Debian: the PDF download is the only thing that needs them
fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing for certificate PDFs: ${missing[*]}. Run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} for certificate PDFs..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
