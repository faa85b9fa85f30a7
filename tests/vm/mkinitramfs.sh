#!/bin/bash
# Packs the VM rig's initramfs: busybox, the kernel modules both sides need (in dependency
# order), gpio-sim, gadgetd, the observer, atx-sim and the server's firmware with the shared
# libraries they link.
# For a foreign architecture (arm64), busybox, mkfs.fat and mtools come from KERNEL_DIR/userland
# (fetch-kernel.sh) and the libraries are listed by that architecture's dynamic loader under
# QEMU_USER (qemu-aarch64): the multiarch libraries sit at the paths the guest looks in.
# Usage: [QEMU_USER=qemu-aarch64] mkinitramfs.sh KERNEL_DIR BUILD_DIR OUTPUT
set -euo pipefail
KDIR=$1 B=$2 OUT=$3
QEMU_USER=${QEMU_USER:-}
KV=$(basename "$KDIR")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$B/rig/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,proc,sys,dev,tmp,run,mnt,lib/modules,etc/gadgetd,etc/rig,var/lib}

TOOLS=
[ -z "$QEMU_USER" ] || TOOLS=$KDIR/userland
cp "$TOOLS/bin/busybox" "$ROOT/bin/"
# Debian builds both architectures' busybox-static from one configuration: the build machine's
# lists the applets.
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf busybox "$ROOT/bin/$a"
done

MODULES=(configfs dummy_hcd libcomposite usb_f_hid usb_f_mass_storage usb_f_acm
         usbhid hid-generic evdev usb-storage sr_mod sd_mod isofs cdc-acm
         virtio_pci virtio_net virtio_console virtio_blk ext4 vfat nls_cp437 nls_iso8859-1
         nls_ascii nls_utf8)
i=0
for m in $(for n in "${MODULES[@]}"; do modprobe -d "$KDIR/img" -S "$KV" --show-depends "$n"; done |
           awk '/^insmod/{print $2}' | awk '!seen[$0]++'); do
  i=$((i + 1))
  cp "$m" "$ROOT/lib/modules/$(printf %02d $i)-$(basename "$m")"
done
cp "$KDIR/mod/gpio-sim-oot.ko" "$ROOT/lib/modules/99-gpio-sim-oot.ko"

# Binaries with their shared libraries, at the paths the dynamic loader looks in.
# mkfs.fat and mtools build the answer-file disks of scripted installs (mcopy and the
# other mtools commands are names of one binary).
# libs_of BINARY: the shared libraries it loads, as ldd prints them.
libs_of() {
  if [ -z "$QEMU_USER" ]; then
    ldd "$1"
  else
    "$QEMU_USER" "$(readelf -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')" --list "$1"
  fi
}
for bin in "$B/gadgetd" "$B/observer" "$B/atx-sim" "$B/firmware" "$B/usb-reset" "$TOOLS/sbin/mkfs.fat" "$TOOLS/usr/bin/mtools"; do
  cp "$bin" "$ROOT/usr/bin/"
  for lib in $(libs_of "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
done

# usbredirect hands the gadget to the server VM (GADGETD_SERVER=uefi|bios; amd64 rig only).
if [ -z "$QEMU_USER" ]; then
  cp "$(command -v usbredirect)" "$ROOT/usr/bin/"
  mkdir -p "$ROOT/usr/lib"
  cp "$B/usbredir-noreset.so" "$ROOT/usr/lib/"
  for lib in $(libs_of "$ROOT/usr/bin/usbredirect" | grep -o '/[^ ]*'); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
fi
for tool in mcopy mdir mlabel mtype; do ln -sf mtools "$ROOT/usr/bin/$tool"; done
# mtools converts file names to the FAT code page (850) through iconv's modules.
GCONV=$(dirname "$(readlink -f "$(libs_of "$TOOLS/usr/bin/mtools" | grep -o '/[^ ]*libc\.so[^ ]*')")")/gconv
mkdir -p "$ROOT$GCONV"
cp -r "$GCONV/IBM850.so" "$GCONV"/gconv-modules* "$ROOT$GCONV/"

# The keymaps where the daemon looks by default (PREFIX=/usr/local).
mkdir -p "$ROOT/usr/local/share/gadgetd/keymaps"
cp "$HERE"/../../keymaps/*.keymap "$ROOT/usr/local/share/gadgetd/keymaps/"
# The boot profiles ([boot] profile = NAME).
mkdir -p "$ROOT/usr/local/share/gadgetd/boot-profiles"
cp "$HERE"/../../boot-profiles/*.conf "$ROOT/usr/local/share/gadgetd/boot-profiles/"
# The browser panel, as make built it.
cp -r "$B/webui" "$ROOT/usr/local/share/gadgetd/webui"

install -m 0755 "$HERE/init.sh" "$ROOT/init"
install -m 0755 "$HERE/rig-start" "$HERE/rig-stop" "$HERE/ref-compose" "$HERE/server-link" "$ROOT/usr/bin/"
cp "$HERE/gadgetd.conf" "$ROOT/etc/gadgetd/gadgetd.conf"
echo "1d6b:0104" > "$ROOT/etc/rig/usb-id"
# The reinstall rehearsal: the demo installer the firmware boots, and the script that does it.
python3 "$HERE/../e2e/images.py" demo-installer "$ROOT/etc/rig/demo-installer.iso" >/dev/null
cp "$HERE/reinstall-demo.json" "$ROOT/etc/rig/reinstall-demo.json"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
ln -sf "$(cd "$KDIR" && pwd)/img/boot/vmlinuz-$KV" "$(dirname "$OUT")/vmlinuz"
