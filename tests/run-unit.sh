#!/bin/bash
# Runs every unit test binary in DIR (with RUNNER before it, e.g. qemu-aarch64), each as TAP into
# RESULTS/NAME.tap, printed as it goes. Exits 1 if any failed or none ran.
# Usage: run-unit.sh DIR RESULTS [RUNNER...]
set -u
DIR=$1 R=$2
shift 2
mkdir -p "$R"
ran=0 failed=0
for t in "$DIR"/test_*; do
  case "$t" in *.d) continue ;; esac
  name=$(basename "$t")
  CMOCKA_MESSAGE_OUTPUT=TAP "$@" "$t" > "$R/$name.tap" 2> "$R/$name.err"
  rc=$?
  # A crash (sanitizer report, signal) fails the binary even if its TAP looked fine.
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$R/$name.tap"; then
    echo "not ok - $name exited with $rc" >> "$R/$name.tap"
  fi
  cat "$R/$name.tap"
  [ -s "$R/$name.err" ] && sed 's/^/# /' "$R/$name.err"
  ran=$((ran + 1))
  grep -q '^not ok' "$R/$name.tap" && failed=$((failed + 1))
done
[ $ran -gt 0 ] && [ $failed -eq 0 ]
