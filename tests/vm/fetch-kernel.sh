#!/bin/bash
# Fetches what the VM rig boots: Debian's current amd64 kernel package (modules included), its
# headers, and gpio-sim built out of tree from Debian's kernel source. Everything lands in a cache
# directory keyed by the kernel version; a .deb is used only if its sha256 matches apt's index.
# Usage: fetch-kernel.sh CACHE_DIR   (prints the kernel version on stdout)
set -euo pipefail
CACHE=${1:?usage: fetch-kernel.sh CACHE_DIR}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
log() { echo "rig: $*" >&2; }

KV=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | head -1)
[ -n "$KV" ] || { log "cannot resolve linux-image-amd64 (run apt-get update)"; exit 1; }
DIR="$CACHE/$KV"
mkdir -p "$DIR"

# download_checked PACKAGE: leaves PACKAGE_*.deb in $DIR, verified against apt's SHA256.
download_checked() {
  local pkg=$1 want deb
  want=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^SHA256: //p' | head -1)
  deb=$(ls "$DIR/${pkg}"_*.deb 2>/dev/null | head -1 || true)
  if [ -n "$deb" ] && [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$want" ]; then
    return 0
  fi
  rm -f "$DIR/${pkg}"_*.deb
  log "downloading $pkg"
  (cd "$DIR" && apt-get download -qq "$pkg" >&2)
  deb=$(ls "$DIR/${pkg}"_*.deb | head -1)
  [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$want" ] || { log "$pkg: sha256 mismatch"; exit 1; }
}

if [ ! -f "$DIR/img/boot/vmlinuz-$KV" ]; then
  download_checked "linux-image-$KV"
  rm -rf "$DIR/img"
  dpkg -x "$DIR/linux-image-${KV}"_*.deb "$DIR/img"
  depmod -b "$DIR/img" "$KV"
fi

# gpio-sim is off in Debian's kernel: build it together with irq_sim as one module.
if [ ! -f "$DIR/mod/gpio-sim-oot.ko" ]; then
  [ -d "/usr/src/linux-headers-$KV" ] || { log "linux-headers-$KV missing (make deps installs it)"; exit 1; }
  download_checked linux-source-6.1
  rm -rf "$DIR/src" "$DIR/mod"
  mkdir -p "$DIR/src" "$DIR/mod"
  dpkg -x "$DIR"/linux-source-6.1_*.deb "$DIR/src"
  tar -xJf "$DIR"/src/usr/src/linux-source-6.1.tar.xz -C "$DIR/src" \
    linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
    linux-source-6.1/kernel/irq/irq_sim.c
  cp "$DIR"/src/linux-source-6.1/drivers/gpio/{gpio-sim.c,gpiolib.h} \
     "$DIR"/src/linux-source-6.1/kernel/irq/irq_sim.c "$DIR/mod/"
  # irq_to_desc is not exported to modules; generic_handle_irq does the same lookup.
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$DIR/mod/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum)' "$DIR/mod/irq_sim.c" || { log "irq_sim.c patch did not apply"; exit 1; }
  printf 'obj-m := gpio-sim-oot.o\ngpio-sim-oot-objs := gpio-sim.o irq_sim.o\n' > "$DIR/mod/Makefile"
  make -s -C "/usr/src/linux-headers-$KV" M="$DIR/mod" modules >&2
  rm -rf "$DIR/src"
fi
echo "$KV"
