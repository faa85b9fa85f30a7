#!/bin/bash
# Installs the Debian 12 packages gadgetd needs; only the missing ones, so it is quick when
# all are there. Needs root (or sudo).
#   install-deps.sh build   what building the daemon needs (also on a Pi)
#   install-deps.sh all     plus unit tests, lint, and the VM rig (kernel headers, QEMU)
#   install-deps.sh cross   the armhf and arm64 cross builds, their unit tests under qemu-user
#                           and the arm64 VM rig (adds the two architectures to dpkg)
set -euo pipefail
# One at a time (a parallel make asks for two lists at once, and apt holds its lock): a lock on
# this script itself, which needs no file of its own.
exec 9< "$0"
flock 9
WHAT=${1:-all}
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
KV=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1 || true)
PKGS=(gcc make pkg-config libusbgx-dev libconfig-dev libmicrohttpd-dev libjansson-dev
      libinih-dev libcrypt-dev libssl-dev libsystemd-dev libcurl4-openssl-dev
      libgpiod-dev libwslay-dev libtelnet-dev dosfstools mtools)
if [ "$WHAT" = all ]; then
  PKGS+=(clang libclang-rt-14-dev libevdev-dev libcmocka-dev clang-format clang-tidy cppcheck valgrind
         qemu-system-x86 busybox-static cpio kmod xorriso curl xz-utils python3
         libxkbcommon-dev xkb-data libx11-data e2fsprogs file
         python3-websockets socat nginx wrk systemd openssl chromium fonts-dejavu-core
         python3-sushy redfishtool python3-ironic ipmitool freeipmi-tools
         usbredirect ovmf grub-pc-bin grub-efi-amd64-bin grub-common seabios)
fi
if [ "$WHAT" = cross ]; then
  for arch in armhf arm64; do
    dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch"
  done
  PKGS+=(gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu qemu-user qemu-system-arm ipxe-qemu file
         busybox-static cpio kmod xz-utils curl python3 linux-kbuild-6.1)
  # libwslay-dev is not Multi-Arch: the cross builds use its headers and the :ARCH runtime.
  for arch in armhf arm64; do
    for p in libusbgx-dev libconfig-dev libmicrohttpd-dev libjansson-dev libinih-dev libcrypt-dev \
             libssl-dev libsystemd-dev libcurl4-openssl-dev libgpiod-dev libwslay1 libtelnet-dev \
             libcmocka-dev; do
      PKGS+=("$p:$arch")
    done
  done
  PKGS+=(libxkbcommon-dev:armhf libxkbcommon-dev:arm64 libasan8:armhf libasan8:arm64 libubsan1:armhf libubsan1:arm64)
  # The ARM rigs' observer links it.
  PKGS+=(libevdev-dev:armhf libevdev-dev:arm64)
fi
# Node and npm build the browser panel (and run its tests). A Node.js installed some other
# way is used as it is.
command -v npm >/dev/null || PKGS+=(nodejs npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The rig builds gpio-sim against the headers of the kernel it boots.
if { [ "$WHAT" = all ] || [ "$WHAT" = cross ]; } && { [ -z "$KV" ] || ! dpkg-query -W -f='${Status}' "linux-headers-$KV" 2>/dev/null | grep -q 'install ok installed'; }; then
  missing+=(HEADERS)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
# A mirror in the middle of a sync serves an index that does not match its Release file ("File
# has unexpected size ... Mirror sync in progress?"), often for one architecture alone: try
# again while it settles, then go on with every index but the broken ones.
for attempt in 1 2 3; do
  out=$($SUDO apt-get update -qq 2>&1) && break
  echo "$out" >&2
  if [ $attempt -eq 3 ]; then
    # apt keeps none of a release's new indexes when one of them fails: fetch them again
    # without the architectures whose index is broken (which drops those architectures' lists),
    # then once more with all (which brings back all of theirs but the broken one).
    bad=$(sed -n 's|.*/binary-\([a-z0-9]*\)/Packages.*|\1|p' <<< "$out" | sort -u)
    good=()
    for a in $(dpkg --print-architecture) $(dpkg --print-foreign-architectures); do
      grep -qx "$a" <<< "$bad" || good+=(-o "APT::Architectures::=$a")
    done
    echo "deps: apt-get update kept failing for: $bad; keeping the other architectures' indexes" >&2
    $SUDO apt-get update -qq "${good[@]}" >&2 || true
    $SUDO apt-get update -qq >&2 || true
    break
  fi
  echo "deps: apt-get update failed (attempt $attempt); again in 20 s" >&2
  sleep 20
done
KV=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1)
pkgs=()
for p in "${missing[@]}"; do
  if [ "$p" = HEADERS ]; then pkgs+=("linux-headers-$KV"); else pkgs+=("$p"); fi
done
# pair_unmet PKG...: what apt says stops installing PKGs, as native packages to move to a
# version every architecture's index has ("PKG:ARCH=VERSION" lines). Multi-Arch: same needs
# one version on every architecture, and an index that missed its mirror's sync (one
# architecture's security updates, say) leaves the native package at a version the foreign
# architecture cannot match.
pair_unmet() {
  local native archs out p common a
  native=$(dpkg --print-architecture)
  archs=$(dpkg --print-foreign-architectures)
  out=$(apt-get install -s --no-install-recommends "$@" 2>&1) && return 0
  for p in $(sed -n 's/.*\(Depends\|Breaks\): \([a-z0-9.+-]*\).*/\2/p' <<< "$out" | sort -u); do
    dpkg-query -W -f='${Version}' "$p:$native" >/dev/null 2>&1 || continue
    for common in $(apt-cache madison "$p" | awk -F'|' '{gsub(/ /, "", $2); print $2}'); do
      for a in $archs; do
        apt-cache madison "$p:$a" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$common" || continue 2
      done
      echo "$p:$native=$common"
      break
    done
  done
}
# pair_siblings PKG:ARCH=VERSION...: the installed packages of ARCH that need exactly the
# version of one of them (libssl-dev beside libssl3), moved along, so that none is removed.
pair_siblings() {
  local pin p a v sib
  for pin in "$@"; do
    p=${pin%%:*} a=${pin%%=*} a=${a#*:} v=${pin#*=}
    for sib in $(dpkg-query -W -f='${Package}:${Architecture}|${Depends}\n' |
                 grep ":$a|.*\b$p (= " | cut -d'|' -f1); do
      apt-cache madison "${sib%%:*}" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$v" &&
        echo "$sib=$v"
    done
  done | sort -u
}
echo "deps: installing ${pkgs[*]}" >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; then
  [ "$WHAT" = cross ] || exit 1
  pins=()
  for round in 1 2 3 4 5; do
    more=$(pair_unmet "${pins[@]}" "${pkgs[@]}")
    [ -n "$more" ] || break
    # shellcheck disable=SC2206 # one package=version a line
    pins+=($more)
  done
  [ ${#pins[@]} -gt 0 ] || exit 1
  # shellcheck disable=SC2207 # one package=version a line
  pins+=($(pair_siblings "${pins[@]}"))
  echo "deps: pairing versions across architectures: ${pins[*]}" >&2
  $SUDO apt-get install -y -qq --no-install-recommends --no-remove --allow-downgrades \
    "${pins[@]}" "${pkgs[@]}" >&2
fi
# make bench only runs nginx's binary (as a reference, from a config of its own): the system
# service that installing the package started on port 80 is not wanted.
if [[ " ${pkgs[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx.service >&2 || true
fi
