#!/bin/bash
# Runs the unit tests (ASan+UBSan builds), the checks, the armhf and arm64 unit tests under
# qemu-user, the arm64 rig's end-to-end tests named by ARM64_E2E (beside the checks: a guest of
# their own), the VM end-to-end suite and the real-firmware modules on a UEFI server VM, each as TAP into build/test-results/, then prints one
# summary line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
R=build/test-results
rm -rf "$R" && mkdir -p "$R"

tests/run-unit.sh build/unit "$R"

PY=${PYTHON:-/usr/bin/python3}
ARM64_E2E=${ARM64_E2E:-test_foundation. test_keyboard. test_media. test_power.}
# shellcheck disable=SC2086 # a list of name filters
GADGETD_RIG_ARCH=arm64 GADGETD_VM_DIR=build/vm-arm64 $PY tests/e2e/run.py $ARM64_E2E \
  > "$R/arm64-e2e.out" 2>&1 &
arm64_e2e=$!

# check NAME COMMAND...: one TAP line for a whole command; its output only when it fails.
check() {
  local name=$1; shift
  if "$@" > "$R/check.out" 2>&1; then
    echo "ok - $name"
  else
    echo "not ok - $name"
    tail -30 "$R/check.out" | sed 's/^/#   /'
  fi
}
{
  check "lint: clang-format, cppcheck, clang-tidy" make --no-print-directory lint
  check "builds clean with clang" make --no-print-directory CC=clang B=build/clang build/clang/gadgetd
  check "unit tests clean under valgrind" make --no-print-directory valgrind
  check "make install puts the files in place" tests/check-install.sh
  check "fuzz harnesses run clean (5 s each)" make --no-print-directory fuzz FUZZ_TIME=5
  check "systemd unit: verify, hardening, exposure score" tests/check-unit.sh
} | tee "$R/checks.tap"

echo "# cross: the armhf and arm64 builds, their unit tests under qemu-user"
tests/run-cross.sh "$R" | tee "$R/cross.tap"
[ "${PIPESTATUS[0]}" -eq 0 ] || grep -q '^not ok' "$R/cross.tap" || echo "not ok - cross runner failed" >> "$R/cross.tap"

echo "# e2e on the arm64 rig: $ARM64_E2E"
wait $arm64_e2e
rc=$?
sed -E 's/^(ok|not ok) ([0-9]+) - /\1 \2 - arm64: /' "$R/arm64-e2e.out" | tee "$R/arm64-e2e.tap"
[ $rc -eq 0 ] || grep -q '^not ok' "$R/arm64-e2e.tap" || echo "not ok - arm64 e2e runner failed ($rc)" >> "$R/arm64-e2e.tap"

echo "# e2e: booting the VM rig"
$PY tests/e2e/run.py | tee "$R/e2e.tap"
[ "${PIPESTATUS[0]}" -eq 0 ] || grep -q '^not ok' "$R/e2e.tap" || echo "not ok - e2e runner failed" >> "$R/e2e.tap"

# Real firmware (OVMF) on a server VM that reaches gadgetd only through USB; make test-firmware
# adds SeaBIOS.
echo "# e2e on a server VM with UEFI firmware"
GADGETD_SERVER=uefi $PY tests/e2e/run.py | sed -E 's/^(ok|not ok) ([0-9]+) - /\1 \2 - uefi: /' | tee "$R/firmware-e2e.tap"
[ "${PIPESTATUS[0]}" -eq 0 ] || grep -q '^not ok' "$R/firmware-e2e.tap" || echo "not ok - firmware e2e runner failed" >> "$R/firmware-e2e.tap"

passed=$(cat "$R"/*.tap | grep -c '^ok')
failed=$(cat "$R"/*.tap | grep -c '^not ok')
echo
grep -h '^not ok' "$R"/*.tap | sed 's/^/FAILED: /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
