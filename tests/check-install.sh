#!/bin/bash
# make install into a scratch DESTDIR: the binary runs, the unit and example config are there.
set -euo pipefail
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
make --no-print-directory install DESTDIR="$D" PREFIX=/usr >/dev/null
"$D/usr/bin/gadgetd" --version | grep -q '^gadgetd '
grep -q '^Type=notify$' "$D/etc/systemd/system/gadgetd.service"
grep -q '^ExecStart=/usr/bin/gadgetd --config /etc/gadgetd/gadgetd.conf$' "$D/etc/systemd/system/gadgetd.service"
grep -q '^Restart=on-failure$' "$D/etc/systemd/system/gadgetd.service"
# The example config is a valid config: the daemon accepts every key in it.
"$D/usr/bin/gadgetd" --config "$D/etc/gadgetd/gadgetd.conf.example" passwd --users "$D/users" probe <<< "pw" 2>/dev/null
test -d "$D/usr/share/gadgetd/keymaps"
test -f "$D/usr/share/gadgetd/boot-profiles/ovmf.conf"
# The panel as built: its page, the terminal library, the gzip copies gadgetd serves.
test -f "$D/usr/share/gadgetd/webui/index.html" && test -f "$D/usr/share/gadgetd/webui/index.html.gz"
test -f "$D/usr/share/gadgetd/webui/vendor/xterm.js" && test -f "$D/usr/share/gadgetd/webui/vendor/xterm.css"
echo "install ok"
