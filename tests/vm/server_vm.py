"""The server VM: a second QEMU running real firmware (OVMF or SeaBIOS) that reaches gadgetd
only through USB, as a server reaches a Pi plugged into it.

The rig guest's dummy_hcd host side enumerates the gadget; `server-link` (tests/vm/server-link)
hands it over usbredir to this VM's xHCI whenever the VM is powered. The VM's power is the
ATX lines: atx-sim in the rig guest plays the front panel and reports each press in
server.log; this supervisor turns them into the VM's power (a press starts it; a short press
while it runs is an ACPI power button; a 4 s hold or a forced off ends it; reset resets it) and
tells atx-sim when the VM ended by itself, so the power LED follows whether it runs.

Files in the rig's directory: server-serial.log (the VM's serial port, raw, appended across
power cycles), server-disk.img (its internal disk, kept like store.img), server-qemu.log,
server-bios.log (SeaBIOS's debug port). Events in server.log:
  {"source":"server-vm","event":"power_on"|"power_off"|"reset"|"usb_attached"|"usb_detached"}
plus "start_failed" with "reason" when QEMU could not start.
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

FIRMWARES = ("uefi", "bios")
OVMF = "/usr/share/ovmf/OVMF.fd"
DISK_SIZE = 1 << 30
LONG_PRESS_MS = 4000  # atx-sim's forced off: that press is not an ACPI button press


class ServerVMError(Exception):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QMP:
    """A QEMU Machine Protocol connection: one command at a time, events skipped."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        deadline = time.time() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise ServerVMError("QEMU's monitor %s did not answer" % path)
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self._reply()  # the greeting
        self.command("qmp_capabilities")

    def _reply(self):
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ServerVMError("QEMU's monitor closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        reply = self._reply()
        if "error" in reply:
            raise ServerVMError("%s: %s" % (name, reply["error"].get("desc")))
        return reply.get("return")

    def close(self):
        self.sock.close()


class ServerVM:
    def __init__(self, rig, firmware, memory_mb=512):
        if firmware not in FIRMWARES:
            raise ServerVMError("GADGETD_SERVER=%s: uefi or bios" % firmware)
        self.rig = rig
        self.firmware = firmware
        self.memory_mb = memory_mb
        self.dir = rig.dir
        self.serial_path = os.path.join(self.dir, "server-serial.log")
        self.disk_path = os.path.join(self.dir, "server-disk.img")
        self.qmp_path = os.path.join(self.dir, "server-qmp.sock")
        self.proc = None
        self.qmp = None
        self.usb = False
        self.port = None
        self.offset = 0
        self.board_on = False
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None
        self.extra_args = []  # tests may add QEMU options (a reference CD-ROM)

    # -- prerequisites and lifecycle --------------------------------------------------------
    def check(self):
        """Clear errors before anything starts: no QEMU, no firmware."""
        if not shutil.which("qemu-system-x86_64"):
            raise ServerVMError("qemu-system-x86_64 is missing (apt-get install qemu-system-x86)")
        if self.firmware == "uefi" and not os.path.exists(OVMF):
            raise ServerVMError("%s is missing (apt-get install ovmf)" % OVMF)
        if self.rig.arch != "amd64":
            raise ServerVMError("the server VM needs the amd64 rig")

    def start(self):
        """Called once the rig guest is up: the cable is plugged, the server is off."""
        self.check()
        if self.rig.fresh_store and os.path.exists(self.disk_path):
            os.unlink(self.disk_path)  # the tests start from a blank internal disk
        if not os.path.exists(self.disk_path):
            with open(self.disk_path, "wb") as f:
                f.truncate(DISK_SIZE)
        open(self.serial_path, "wb").close()
        self.offset = os.path.getsize(self.rig.log_path) if os.path.exists(self.rig.log_path) else 0
        rc, out = self.rig.sh("mkdir -p /run/server-vm && touch /run/atx-sim/ignore-soft-off && "
                              "(server-link </dev/null >/dev/null 2>>/var/log/server-link.log &)")
        if rc != 0:
            raise ServerVMError("starting the server link in the guest: %s" % out)
        self.thread = threading.Thread(target=self._run, name="server-vm", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=30)
        self._end_qemu()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- events -----------------------------------------------------------------------------
    def _emit(self, event, **fields):
        line = dict(source="server-vm", event=event, **fields)
        line["ts"] = round(time.time(), 3)
        fd = os.open(self.rig.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
        finally:
            os.close(fd)

    def _new_events(self):
        try:
            with open(self.rig.log_path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        events = []
        for line in data[:end].splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        return events

    # -- the supervisor ---------------------------------------------------------------------
    def _run(self):
        last_usb_poll = 0
        while not self.stopping.is_set():
            try:
                for ev in self._new_events():
                    if ev.get("source") == "atx":
                        self._atx(ev)
                if self.proc is not None and self.proc.poll() is not None:
                    self._ended_by_itself()
                if self.running and time.time() - last_usb_poll > 0.25:
                    last_usb_poll = time.time()
                    self._poll_usb()
            except Exception as e:  # the supervisor outlives one failed step, and says so
                self._emit("error", reason=str(e))
            self.stopping.wait(0.05)

    def _atx(self, ev):
        kind = ev.get("event")
        if kind == "power_state":
            self.board_on = bool(ev.get("on"))
            if self.board_on and not self.running:
                self._power_on()
            elif not self.board_on and self.proc is not None:
                self._power_off()
        elif kind == "power_button" and self.board_on and ev.get("held_ms", 0) < LONG_PRESS_MS:
            # A short press while on: the OS decides (ACPI), as on a real board.
            if self.running:
                self.qmp.command("system_powerdown")
        elif kind == "reset" and self.running:
            self.qmp.command("system_reset")
            self._emit("reset")

    def _qemu_command(self):
        # The boot order: UEFI, the internal disk first (a BMC's boot override then has
        # something to override); BIOS, the USB drive first, as BMC users set it: SeaBIOS
        # tries one hard disk only, the first, and a drive it does not see (keyboard first)
        # leaves the internal disk first anyway.
        uefi = self.firmware == "uefi"
        # -S: the firmware starts once the cable is attached, as a USB device plugged in before
        # power-on is there at the firmware's first bus scan.
        cmd = ["qemu-system-x86_64", "-S", "-accel", "tcg", "-m", str(self.memory_mb), "-smp", "1",
               "-name", "server", "-display", "none", "-monitor", "none", "-net", "none",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
               "-chardev", "file,id=serial,path=%s,append=on" % self.serial_path,
               "-serial", "chardev:serial",
               "-device", "qemu-xhci,id=xhci",
               "-chardev", "socket,id=usbredir,host=127.0.0.1,port=%d,server=on,wait=off" % self.port,
               "-device", "usb-redir,chardev=usbredir,bus=xhci.0,bootindex=%d" % (2 if uefi else 1),
               "-drive", "file=%s,if=none,id=disk,format=raw,cache=unsafe" % self.disk_path,
               "-device", "virtio-blk-pci,drive=disk,bootindex=%d" % (1 if uefi else 2)]
        if self.firmware == "uefi":
            cmd += ["-bios", OVMF]
        else:
            # SeaBIOS talks on the serial port too (its boot menu), and on its debug port.
            # A boot menu (Esc) as every PC BIOS has, offered for 2.5 s; SeaBIOS's text on the
            # serial port too (etc/sercon-port: the port's address as a binary integer).
            sercon = os.path.join(self.dir, "sercon-port")
            with open(sercon, "wb") as f:
                f.write((0x3f8).to_bytes(2, "little"))
            cmd += ["-boot", "menu=on,splash-time=2500",
                    "-fw_cfg", "name=etc/sercon-port,file=%s" % sercon,
                    "-chardev", "file,id=dbg,path=%s,append=on" % os.path.join(self.dir, "server-bios.log"),
                    "-device", "isa-debugcon,iobase=0x402,chardev=dbg"]
        return cmd + self.extra_args

    def _power_on(self):
        with self.lock:
            self.port = _free_port()
            if os.path.exists(self.qmp_path):
                os.unlink(self.qmp_path)
            log = open(os.path.join(self.dir, "server-qemu.log"), "a")
            self.proc = subprocess.Popen(self._qemu_command(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
            log.close()
            try:
                self.qmp = QMP(self.qmp_path)
            except ServerVMError as e:
                self._failed_start(str(e))
                return
            self.rig.sh("echo 10.0.2.2:%d > /run/server-vm/link" % self.port)
            deadline = time.time() + 15
            while not self._usb_linked() and time.time() < deadline:
                time.sleep(0.05)
            self.qmp.command("cont")
            self._emit("power_on", firmware=self.firmware)

    def _failed_start(self, reason):
        self._end_qemu()
        tail = ""
        try:
            with open(os.path.join(self.dir, "server-qemu.log")) as f:
                tail = f.read()[-400:].strip()
        except OSError:
            pass
        self._emit("start_failed", reason="%s %s" % (reason, tail))
        self.rig.sh("echo force-off > /run/atx-sim/command")

    def _end_qemu(self):
        """Ends the VM at once (the board lost power) and unplugs the cable's far end."""
        if self.proc is None:
            return False
        try:
            self.rig.sh("rm -f /run/server-vm/link", timeout=15)
        except Exception:
            pass
        if self.qmp is not None:
            try:
                if self.proc.poll() is None:
                    self.qmp.command("quit")
            except (OSError, ServerVMError, ValueError):
                pass
            self.qmp.close()
            self.qmp = None
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self.usb:
            self.usb = False
            self._emit("usb_detached")
        return True

    def _power_off(self):
        with self.lock:
            if self._end_qemu():
                self._emit("power_off")

    def _ended_by_itself(self):
        """The OS powered the VM off: the board is off, its LED too."""
        with self.lock:
            self._end_qemu()
            self._emit("power_off", by="os")
            self.rig.sh("echo force-off > /run/atx-sim/command")

    def _usb_linked(self):
        """Whether the usbredir socket has its peer: "info usb" lists the redirection device
        whether or not anything is at its other end."""
        chardevs = self.qmp.command("query-chardev") or []
        return any(c.get("label") == "usbredir" and "<->" in c.get("filename", "") for c in chardevs)

    def _poll_usb(self):
        attached = self._usb_linked()
        if attached != self.usb:
            self.usb = attached
            self._emit("usb_attached" if attached else "usb_detached")

    # -- for tests and benchmarks -----------------------------------------------------------
    def write_disk(self, image=None):
        """Writes IMAGE (a file) at the start of the internal disk, or blanks its first MiBs
        (None), while the VM is off, as a disk written in another machine."""
        if self.running:
            raise ServerVMError("the server VM is on: its disk is in use")
        with open(self.disk_path, "r+b") as disk:
            if image is None:
                disk.write(b"\0" * (4 << 20))
                return
            with open(image, "rb") as f:
                shutil.copyfileobj(f, disk, 1 << 20)


    def serial_text(self, start=0):
        try:
            with open(self.serial_path, "rb") as f:
                f.seek(start)
                return f.read().decode("latin-1")
        except FileNotFoundError:
            return ""

    def serial_size(self):
        try:
            return os.path.getsize(self.serial_path)
        except FileNotFoundError:
            return 0

    def wait_serial(self, text, start=0, timeout=120):
        """Waits until TEXT shows on the VM's serial port past byte START; returns its offset
        (past the match)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.serial_text(start)
            i = got.find(text)
            if i >= 0:
                return start + i + len(text)
            time.sleep(0.1)
        raise ServerVMError("%r not on the server's serial port within %ds; last: %r" % (
            text, timeout, self.serial_text(start)[-300:]))
