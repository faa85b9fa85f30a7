#!/bin/bash
# Fetches what the VM rig boots for ARCH (amd64; arm64 or armhf, the Pi Zeros'): Debian's
# current kernel package (modules included) and gpio-sim built out of tree from Debian's kernel
# source against the headers. For ARM also busybox, mkfs.fat and mtools of that architecture
# (amd64's come from the build machine), and the module is cross-built with the build machine's
# kbuild tools. Everything lands in a cache directory keyed by the kernel version; a .deb is used
# only if its sha256 matches apt's index.
# Usage: fetch-kernel.sh CACHE_DIR [ARCH]   (prints the kernel version on stdout)
set -euo pipefail
CACHE=${1:?usage: fetch-kernel.sh CACHE_DIR [ARCH]}
ARCH=${2:-amd64}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
log() { echo "rig: $*" >&2; }

# Debian's kernel flavour and the kernel's own name for each architecture.
case $ARCH in
  amd64) FLAVOUR=amd64 KARCH=x86 ;;
  arm64) FLAVOUR=arm64 KARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- ;;
  armhf) FLAVOUR=armmp KARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- ;;
  *) log "no rig for $ARCH (amd64, arm64, armhf)"; exit 1 ;;
esac
KV=$(apt-cache depends "linux-image-$FLAVOUR:$ARCH" | sed -n 's/.*Depends: linux-image-\([^:]*\).*$/\1/p' | head -1)
[ -n "$KV" ] || { log "cannot resolve linux-image-$FLAVOUR (run apt-get update; install-deps.sh cross adds $ARCH)"; exit 1; }
DIR="$CACHE/$KV"
mkdir -p "$DIR"

# download_checked PACKAGE: leaves PACKAGE_*.deb verified against apt's SHA256 in $DIR, or in
# $CACHE for an architecture-independent package (the kernel source both rigs build from);
# prints the .deb's path.
download_checked() {
  local pkg=$1 spec=$1 dest=$CACHE want deb
  if [ "$(apt-cache show --no-all-versions "$pkg:$ARCH" 2>/dev/null | sed -n "s/^Architecture: //p")" = "$ARCH" ]; then
    spec="$pkg:$ARCH" dest=$DIR
  fi
  want=$(apt-cache show --no-all-versions "$spec" | sed -n 's/^SHA256: //p' | head -1)
  deb=$(ls "$dest/${pkg}"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ] || [ "$(sha256sum "$deb" | cut -d' ' -f1)" != "$want" ]; then
    rm -f "$dest/${pkg}"_*.deb
    log "downloading $spec"
    (cd "$dest" && apt-get download -qq "$spec" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    deb=$(ls "$dest/${pkg}"_*.deb | head -1)
    [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$want" ] || { log "$pkg: sha256 mismatch"; exit 1; }
  fi
  echo "$deb"
}

if [ ! -f "$DIR/img/boot/vmlinuz-$KV" ]; then
  deb=$(download_checked "linux-image-$KV")
  rm -rf "$DIR/img"
  dpkg -x "$deb" "$DIR/img"
  depmod -b "$DIR/img" "$KV"
fi

# The headers the module builds against: the build machine's own for amd64; for ARM the
# package unpacked here, its scripts and tools pointed at the build machine's kbuild of the
# same kernel series (host programs), as Debian's cross builds of modules do.
HEADERS=/usr/src/linux-headers-$KV
KMAKE=()
if [ "$ARCH" != amd64 ]; then
  HEADERS=$DIR/headers/usr/src/linux-headers-$KV
  KMAKE=(ARCH=$KARCH CROSS_COMPILE=$CROSS_COMPILE)
  if [ ! -d "$HEADERS" ]; then
    deb=$(download_checked "linux-headers-$KV")
    rm -rf "$DIR/headers"
    dpkg -x "$deb" "$DIR/headers"
    # The flavour's headers include the series' common headers by absolute path: the build
    # machine has them only for its own kernel's version, which the ARM index may not match.
    common=$(sed -n 's|^include /usr/src/\(linux-headers-[^/]*-common\)/Makefile$|\1|p' "$HEADERS/Makefile")
    if [ -n "$common" ] && [ ! -d "/usr/src/$common" ]; then
      dpkg -x "$(download_checked "$common")" "$DIR/headers"
      sed -i "s|^include /usr/src/$common/|include $DIR/headers/usr/src/$common/|" "$HEADERS/Makefile"
    else
      common=
    fi
    KBUILD=$(readlink "$HEADERS/scripts" | sed 's|^\.\./\.\./|/usr/|; s|/scripts$||')
    [ -d "$KBUILD" ] || { log "$KBUILD missing (install-deps.sh cross installs it)"; exit 1; }
    for d in "$HEADERS" ${common:+"$DIR/headers/usr/src/$common"}; do
      [ -L "$d/scripts" ] || [ ! -e "$d/scripts" ] || continue
      ln -sfn "$KBUILD/scripts" "$d/scripts"
      ln -sfn "$KBUILD/tools" "$d/tools"
    done
  fi
fi

# gpio-sim is off in Debian's kernels: build it together with irq_sim as one module.
if [ ! -f "$DIR/mod/gpio-sim-oot.ko" ]; then
  [ -d "$HEADERS" ] || { log "$HEADERS missing (make deps installs it)"; exit 1; }
  deb=$(download_checked linux-source-6.1)
  rm -rf "$DIR/src" "$DIR/mod"
  mkdir -p "$DIR/src" "$DIR/mod"
  dpkg -x "$deb" "$DIR/src"
  tar -xJf "$DIR"/src/usr/src/linux-source-6.1.tar.xz -C "$DIR/src" \
    linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
    linux-source-6.1/kernel/irq/irq_sim.c
  cp "$DIR"/src/linux-source-6.1/drivers/gpio/{gpio-sim.c,gpiolib.h} \
     "$DIR"/src/linux-source-6.1/kernel/irq/irq_sim.c "$DIR/mod/"
  # irq_to_desc is not exported to modules; generic_handle_irq does the same lookup.
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$DIR/mod/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum)' "$DIR/mod/irq_sim.c" || { log "irq_sim.c patch did not apply"; exit 1; }
  # No module alias table: the rig loads it by name, and the build machine's modpost reads such
  # tables with its own word size, which fails for 32-bit ARM.
  sed -i '/^MODULE_DEVICE_TABLE(of, /d' "$DIR/mod/gpio-sim.c"
  printf 'obj-m := gpio-sim-oot.o\ngpio-sim-oot-objs := gpio-sim.o irq_sim.o\n' > "$DIR/mod/Makefile"
  make -s -C "$HEADERS" M="$DIR/mod" "${KMAKE[@]}" modules >&2
  rm -rf "$DIR/src"
fi

# The guest's userland tools of a foreign architecture, unpacked under $DIR/userland.
if [ "$ARCH" != amd64 ] && [ ! -x "$DIR/userland/usr/bin/mtools" ]; then
  rm -rf "$DIR/userland"
  for pkg in busybox-static dosfstools mtools; do
    dpkg -x "$(download_checked "$pkg")" "$DIR/userland"
  done
fi
echo "$KV"
