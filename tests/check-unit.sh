#!/bin/bash
# The systemd unit, rendered from docs/gadgetd.service.in by the Makefile's own install recipe:
# systemd-analyze verify accepts it, the hardening is in place, and the exposure score of
# `systemd-analyze security` stays at or below MAX_EXPOSURE (docs/SECURITY.md has the score).
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_EXPOSURE=${MAX_EXPOSURE:-2.5}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (package systemd)"; exit 1; }

# The sed line of `make install`, run as make would run it; PREFIX under $D so that ExecStart
# names a file verify can find (a stand-in: verify only checks that it is executable).
mkdir -p "$D/etc/systemd/system" "$D/usr/bin"
ln -s /bin/true "$D/usr/bin/gadgetd"
render=$(make -n --no-print-directory install DESTDIR= PREFIX="$D/usr" UNITDIR="$D/etc/systemd/system" 2>/dev/null |
  sed -n '/@BINDIR@/,/gadgetd\.service\.in/p')
[ -n "$render" ] || { echo "no rendering of docs/gadgetd.service.in in make install's recipe"; exit 1; }
bash -c "$render"
U="$D/etc/systemd/system/gadgetd.service"
grep -q "^ExecStart=$D/usr/bin/gadgetd --config /etc/gadgetd/gadgetd.conf\$" "$U" ||
  { echo "ExecStart not rendered as expected:"; grep '^ExecStart=' "$U"; exit 1; }

systemd-analyze verify "$U"

missing=0
for line in \
  'Type=notify' \
  'StateDirectory=gadgetd' \
  'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
  'NoNewPrivileges=yes' \
  'ProtectSystem=strict' \
  'ReadWritePaths=/sys/kernel/config' \
  'ProtectHome=yes' \
  'PrivateTmp=yes' \
  'ProtectKernelTunables=yes' \
  'ProtectKernelModules=yes' \
  'ProtectControlGroups=yes' \
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
  'RestrictNamespaces=yes' \
  'LockPersonality=yes' \
  'MemoryDenyWriteExecute=yes' \
  'SystemCallArchitectures=native'; do
  grep -qxF "$line" "$U" || { echo "missing: $line"; missing=1; }
done
# Settings that would break the daemon (docs/SECURITY.md, "The systemd unit"): a device allow
# list (ProtectClock= implies one) forbids /dev/hidg0, whose device group appears only after
# gadgetd creates the HID function; modprobe needs CAP_SYS_MODULE, which the unit drops.
for bad in '^DeviceAllow=' '^DevicePolicy=(closed|strict)' '^PrivateDevices=(yes|true)' \
  '^ProtectClock=(yes|true)' '^ExecStartPre=.*modprobe' '^PrivateUsers=(yes|true)' '^User='; do
  if grep -Eq "$bad" "$U"; then
    echo "must not be set: $(grep -E "$bad" "$U")"
    missing=1
  fi
done
[ $missing -eq 0 ]

out=$(systemd-analyze security --offline=true "$U" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for gadgetd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { printf '%s\n' "$out" | tail -5; echo "no exposure score"; exit 1; }
if ! awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
  printf '%s\n' "$out" | grep '✗' || true
  echo "exposure $score is above $MAX_EXPOSURE"
  exit 1
fi
echo "unit ok: exposure $score (at most $MAX_EXPOSURE)"
