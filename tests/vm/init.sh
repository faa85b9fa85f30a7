#!/bin/sh
# /init of the VM rig's guest, which plays both sides of the USB cable:
#   Pi side: dummy_hcd's UDC, the gadget function modules, gpio-sim, gadgetd from its config;
#   server side: the host drivers, the observer (JSON lines to the build machine), a getty
#   on /dev/ttyACM0 like a server's serial console, its motherboard (atx-sim) on the
#   gpio-sim chip's ATX lines, and its firmware and installer (firmware: armed while
#   /run/firmware/enabled exists; its "internal disk" is /srv/server-disk).
# The build machine drives it through the "ctl" virtio port: one shell command a line,
# answered with its output lines prefixed by '|' and a last line "=RC <exit status>".
export PATH=/usr/bin:/bin:/sbin
# The server side gets Ctrl+Alt+Del and SysRq from the tests: it must not reboot on them.
trap '' INT
mount -t proc proc /proc
echo 0 > /proc/sys/kernel/ctrl-alt-del
echo 0 > /proc/sys/kernel/sysrq
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /var/log /var/lib/gadgetd /mnt/small /mnt/cd
# The e2e tests' rig runs a gadgetd built with ASan and UBSan: every process started from
# here on reports to /var/log/sanitizer.PID.
[ -f /etc/rig/sanitizer.env ] && . /etc/rig/sanitizer.env
for m in /lib/modules/*.ko; do insmod "$m" 2>/dev/null || echo "rig: insmod $m failed"; done
mount -t configfs none /sys/kernel/config

# The Pi side's image store on a disk of its own (not guest RAM), and a small disk for "store
# full" tests: virtio disks that rig.py made (ext4), found by their serials. noinit_itable:
# no background zeroing of inode tables (the files are fresh and sparse).
for d in /sys/block/vd*; do
  case "$(cat "$d/serial" 2>/dev/null)" in
    store) dir=/var/lib/gadgetd ;;
    small) dir=/mnt/small ;;
    *) continue ;;
  esac
  mount -t ext4 -o noatime,discard,noinit_itable "/dev/${d##*/}" "$dir" || echo "rig: mounting $dir failed"
done
mkdir -p /var/lib/gadgetd/images /var/lib/gadgetd/scripts
# The reinstall rehearsal for make run users: the demo installer and its script, unless the
# store already has them (a user's changes are kept).
[ -e /var/lib/gadgetd/images/demo-installer.iso ] ||
  cp /etc/rig/demo-installer.iso /var/lib/gadgetd/images/demo-installer.iso
[ -e /var/lib/gadgetd/scripts/reinstall-demo.json ] ||
  cp /etc/rig/reinstall-demo.json /var/lib/gadgetd/scripts/reinstall-demo.json

# The server side polls removable media (sr, removable sd) four times a second, so the Pi
# side's insert and eject reach it as "change" uevents with DISK_MEDIA_CHANGE=1, as udisks
# would have it.
echo 250 > /sys/module/block/parameters/events_dfl_poll_msecs

ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

# Name the virtio ports as udev would (/dev/virtio-ports/NAME).
mkdir -p /dev/virtio-ports
for p in /sys/class/virtio-ports/*; do
  ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
done

# A simulated GPIO chip for the ATX lines (gpio-sim, built out of tree), labelled "rig-atx" (the
# ARM board has a GPIO chip of its own, so the number differs by architecture): lines 0 and 1
# the power and reset buttons (gadgetd's outputs), 2 the power LED (its input).
S=/sys/kernel/config/gpio-sim/rig
mkdir -p $S/bank0 && echo 8 > $S/bank0/num_lines && echo rig-atx > $S/bank0/label
for l in 0:ATX_POWER 1:ATX_RESET 2:ATX_LED; do
  mkdir -p "$S/bank0/line${l%%:*}" && echo "${l#*:}" > "$S/bank0/line${l%%:*}/name"
done
echo 1 > $S/live
# The chip's sysfs directory, with sim_gpioN/{value,pull}.
G=/sys/devices/platform/$(cat $S/dev_name)/$(cat $S/bank0/chip_name)

# The server side's reporters share the port to the build machine, which takes one opener:
# the observer, the motherboard, which plays the ATX lines before gadgetd starts, and the
# firmware, which follows the motherboard's power state.
exec 4>/dev/virtio-ports/server.log
observer - "$(cat /etc/rig/usb-id)" >&4 2>>/var/log/observer.log &
atx-sim - "$G" >&4 2>>/var/log/atx-sim.log &
mkdir -p /srv/server-disk /run/firmware
firmware - >&4 2>>/var/log/firmware.log &
exec 4>&-

# The server's serial console: a getty on ttyACM0 whenever the host has one.
(while :; do
  if [ -c /dev/ttyACM0 ]; then getty -n -l /bin/sh 115200 ttyACM0 vt100; fi
  sleep 0.3
done) </dev/null >/dev/null 2>&1 &

rig-start

ctl_loop() {
  while :; do
    while IFS= read -r line; do
      sh -c "$line" </dev/null >/tmp/ctl.out 2>&1 3>&-
      rc=$?
      sed 's/^/|/' /tmp/ctl.out
      echo "=RC $rc"
    done <&3 >&3
    sleep 0.2
  done
}
exec 3<>/dev/virtio-ports/ctl
echo "rig: ready"
ctl_loop
