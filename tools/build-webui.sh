#!/bin/sh
# Builds the browser panel's static files into OUT: webui/'s own files, the terminal library
# from the npm packages pinned by webui/package-lock.json, and a gzip copy of every text file
# (gadgetd sends it to browsers that take gzip). Node is needed here, never where it is served.
set -eu
OUT=$1
cd "$(dirname "$0")/.."
if [ ! -f webui/node_modules/.package-lock.json ] ||
   [ webui/package-lock.json -nt webui/node_modules/.package-lock.json ]; then
  command -v npm >/dev/null || { echo "build-webui: npm is missing (scripts/install-deps.sh build)" >&2; exit 1; }
  npm ci --prefix webui --no-audit --no-fund --loglevel=error
fi
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp/vendor"
(cd webui && find . -type f ! -path './node_modules/*' ! -name 'package*.json' ! -name README.md) |
  while read -r f; do install -D -m 0644 "webui/$f" "$OUT.tmp/$f"; done
XT=webui/node_modules/@xterm
# Without their source maps (not shipped): a browser's developer tools would ask for them.
sed '/^\/\/# sourceMappingURL=/d' "$XT/xterm/lib/xterm.js" >"$OUT.tmp/vendor/xterm.js"
sed '/^\/\/# sourceMappingURL=/d' "$XT/addon-fit/lib/addon-fit.js" >"$OUT.tmp/vendor/addon-fit.js"
cp "$XT/xterm/css/xterm.css" "$OUT.tmp/vendor/xterm.css"
cp "$XT/xterm/LICENSE" "$OUT.tmp/vendor/xterm.LICENSE.txt"
find "$OUT.tmp" -type f \( -name '*.html' -o -name '*.css' -o -name '*.js' -o -name '*.svg' \
  -o -name '*.json' -o -name '*.webmanifest' \) -exec gzip -9 -n -k {} +
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
