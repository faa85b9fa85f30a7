#!/bin/bash
# Checks the armhf and arm64 builds (make cross-build): each gadgetd is an ELF binary of its
# architecture, and every unit test binary passes under qemu-user, ASan and UBSan included
# (LeakSanitizer cannot run under qemu-user: leaks are the amd64 runs' and valgrind's to find).
# TAP on stdout, each name prefixed with its architecture; per-binary TAP in RESULTS/cross-ARCH/.
# Usage: run-cross.sh RESULTS [ARCH...]   (default: armhf arm64)
set -u
cd "$(dirname "$0")/.."
R=$1
shift
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(armhf arm64)
rc=0
for a in "${arches[@]}"; do
  case $a in
    armhf) qemu=qemu-arm want='^ELF 32-bit LSB .*, ARM, EABI5' ;;
    arm64) qemu=qemu-aarch64 want='^ELF 64-bit LSB .*, ARM aarch64' ;;
    *) echo "run-cross: no architecture '$a' (armhf, arm64)" >&2; exit 2 ;;
  esac
  kind=$(file -b "build/$a/gadgetd" 2>&1)
  if grep -Eq "$want" <<<"$kind"; then
    echo "ok - $a: build/$a/gadgetd is $(sed 's/, version.*//' <<<"$kind")"
  else
    echo "not ok - $a: build/$a/gadgetd is not $want: $kind"
    rc=1
  fi
  ASAN_OPTIONS=detect_leaks=0 tests/run-unit.sh "build/$a/unit" "$R/cross-$a" "$qemu" |
    sed -E "s/^(ok|not ok) ([0-9]+ )?- /\1 \2- $a: /"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
done
exit $rc
