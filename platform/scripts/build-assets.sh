#!/usr/bin/env bash
# Front-end bundles built from packages pinned in package-lock.json: the notebook editor (CodeMirror 6,
# grading/frontend/editor.js) bundled by esbuild into static/js/editor.bundle.js, which the site serves.
# The bundle is a build output (not committed); this script rebuilds it when a source or the lock changed.
#   --optional  (for `make run`): when npm is missing and cannot be installed here, say so in one line and
#               carry on; the editor then works as plain text areas.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=static/js/editor.bundle.js
if [ "${1:-}" = "--optional" ]; then
  if { ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" != "0" ]; } || ! "$0"; then
    echo "assets: the notebook editor stays plain text areas (npm missing or the bundle failed); run 'sudo make assets' for the code editor."
  fi
  exit 0
fi
platform/scripts/ensure-node-deps.sh
stamp=$( (sha256sum package-lock.json grading/frontend/*.js platform/scripts/build-assets.sh) | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(head -c 64 "$out" | sed -n 's|^// build \([0-9a-f]*\).*|\1|p')" = "$stamp" ]; then
  exit 0
fi
echo "Bundling the notebook editor into $out..."
node_modules/.bin/esbuild grading/frontend/editor.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --log-level=warning --banner:js="// build $stamp (make assets; grading/frontend/editor.js)" \
  --outfile="$out"
