#!/usr/bin/env python3
"""The VM rig from the build machine's side: boots the guest under QEMU (TCG), forwards the
API port, reads the server side's JSON lines and runs commands in the guest.

  python3 tests/vm/rig.py run     boot, print the API URL and credentials, stay up until Ctrl-C

Environment: GADGETD_PORT (API port on 127.0.0.1, default 8080), GADGETD_CONSOLE_PORT (the
console's TCP port on 127.0.0.1, default 2323), GADGETD_TLS_PORT (the API over HTTPS on
127.0.0.1, default 8443), GADGETD_VM_DIR (default build/vm), GADGETD_SERVER (uefi or bios: a server VM running OVMF or
SeaBIOS on the other end of the USB cable instead of the simulated firmware; server_vm.py),
GADGETD_RIG_ARCH (amd64; arm64,
the Pi Zero 2 W's architecture under qemu-system-aarch64, from `make CROSS=arm64 rig`; armhf, the
32-bit one under qemu-system-arm, from `make CROSS=armhf rig`).
"""
import base64
import fcntl
import hashlib
import http.server
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")


def _die_with_parent():
    """In the QEMU child: get SIGTERM if the rig process dies without shutting it down."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class RigError(Exception):
    pass


def sbin(name):
    """A tool from /usr/sbin, which a user's PATH may lack (mkfs.ext4, mkfs.vfat)."""
    for d in ("/usr/sbin", "/sbin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return shutil.which(name) or os.path.join(d, name)
    return name


# The machine per architecture: the kernel's serial console differs (8250 on the PC, PL011 on
# the ARM "virt" board); a Pi Zero 2 W has Cortex-A53 cores.
QEMU = {
    "amd64": (["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max"], "ttyS0"),
    "arm64": (["qemu-system-aarch64", "-M", "virt", "-accel", "tcg", "-cpu", "cortex-a53"], "ttyAMA0"),
    # Debian's armhf kernel needs ARMv7 (a Zero W's ARM1176 cannot boot it) and no LPAE.
    "armhf": (["qemu-system-arm", "-M", "virt,highmem=off", "-accel", "tcg", "-cpu", "cortex-a15"], "ttyAMA0"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rig:
    STORE_SIZE = 8 << 30  # the Pi side's image store (/dev/vda at /var/lib/gadgetd), sparse
    SMALL_SIZE = 64 << 20  # a small disk (/dev/vdb at /mnt/small) for "store full" tests

    def __init__(self, vm_dir=None, port=None, fresh_store=False, console_port=None, tls_port=None,
                 sanitized=False, ipmi_port=None, arch=None):
        """FRESH_STORE: a new empty image store each boot (tests); otherwise it is kept.
        SANITIZED: the guest runs build/gadgetd-asan (ASan and UBSan) instead of build/gadgetd
        (amd64 only)."""
        self.fresh_store = fresh_store
        self.arch = arch or os.environ.get("GADGETD_RIG_ARCH") or "amd64"
        if self.arch not in QEMU:
            raise RigError("no rig for %s (%s)" % (self.arch, ", ".join(QEMU)))
        self.rig_dir = os.path.join(BUILD, "rig") if self.arch == "amd64" else os.path.join(BUILD, self.arch, "rig")
        self.sanitized = sanitized and self.arch == "amd64"
        self.dir = os.path.abspath(vm_dir or os.environ.get("GADGETD_VM_DIR") or os.path.join(BUILD, "vm"))
        self.port = int(port or os.environ.get("GADGETD_PORT") or 8080)
        self.url = "http://127.0.0.1:%d" % self.port
        self.console_port = int(console_port or os.environ.get("GADGETD_CONSOLE_PORT") or 2323)
        self.tls_port = int(tls_port or os.environ.get("GADGETD_TLS_PORT") or 8443)
        self.tls_url = "https://127.0.0.1:%d" % self.tls_port
        self.ipmi_port = int(ipmi_port or os.environ.get("GADGETD_IPMI_PORT") or 6230)
        self.qemu = None
        self.ctl = None
        self.ctl_buf = b""
        self.lock = None
        self.sh_lock = threading.RLock()  # the server VM's supervisor runs commands too
        self.server = None  # the server VM (GADGETD_SERVER), started by start_server()
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "server.log")
        self.console_path = os.path.join(self.dir, "console.log")

    # -- credentials and initramfs -------------------------------------------------------
    def credentials(self):
        """The demo user 'admin' with a random password, kept across boots."""
        path = os.path.join(self.dir, "credentials")
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("admin:%s\n" % secrets.token_urlsafe(12))
        with open(path) as f:
            user, password = f.read().strip().split(":", 1)
        return user, password

    def _initrd(self):
        """The base initramfs plus an overlay archive with this rig's users file."""
        user, password = self.credentials()
        overlay = tempfile.mkdtemp(dir=self.dir)
        try:
            etc = os.path.join(overlay, "etc", "gadgetd")
            os.makedirs(etc)
            subprocess.run([os.path.join(BUILD, "gadgetd"), "passwd", "--users",
                            os.path.join(etc, "users"), user], input=password + "\n",
                           text=True, check=True, capture_output=True)
            # The same password for IPMI, which keeps it as it is (readable by root alone).
            fd = os.open(os.path.join(etc, "ipmi-users"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("%s:%s\n" % (user, password))
            if self.sanitized:
                self._overlay_sanitized(overlay)
            files = subprocess.run(["find", "."], cwd=overlay, check=True, capture_output=True).stdout
            archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=overlay, input=files,
                                     check=True, capture_output=True).stdout
        finally:
            shutil.rmtree(overlay)
        path = os.path.join(self.dir, "initrd.img")
        with open(os.path.join(self.rig_dir, "initrd.cpio.gz"), "rb") as base, open(path, "wb") as out:
            data = base.read()
            # The kernel unpacks concatenated archives in order; an uncompressed one must start
            # 4-byte aligned, and zeros between archives are skipped.
            out.write(data + b"\0" * (-len(data) % 512))
            out.write(archive)
        return path

    @staticmethod
    def _overlay_sanitized(overlay):
        """The sanitized gadgetd over the plain one, with its libraries (the runtimes and what
        they pull in)."""
        binary = os.path.join(BUILD, "gadgetd-asan")
        os.makedirs(os.path.join(overlay, "usr", "bin"))
        shutil.copy2(binary, os.path.join(overlay, "usr", "bin", "gadgetd"))
        libs = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
        for lib in (w for w in libs.split() if w.startswith("/")):
            os.makedirs(overlay + os.path.dirname(lib), exist_ok=True)
            shutil.copy(lib, overlay + lib)
        os.makedirs(os.path.join(overlay, "etc", "rig"))
        shutil.copy(os.path.join(ROOT, "tests", "vm", "lsan.supp"), os.path.join(overlay, "etc", "rig"))
        with open(os.path.join(overlay, "etc", "rig", "sanitizer.env"), "w") as f:
            f.write("export ASAN_OPTIONS=log_path=/var/log/sanitizer:detect_leaks=1:abort_on_error=1:quarantine_size_mb=16\n"
                    "export UBSAN_OPTIONS=log_path=/var/log/sanitizer:print_stacktrace=1\n"
                    "export LSAN_OPTIONS=log_path=/var/log/sanitizer:suppressions=/etc/rig/lsan.supp:"
                    "print_suppressions=0\n")

    def sanitizer_reports(self):
        """What ASan, UBSan and LeakSanitizer reported in the guest so far (empty: nothing)."""
        _, out = self.sh("cat /var/log/sanitizer.* 2>/dev/null; true", timeout=30)
        return out.strip()

    # -- disks ----------------------------------------------------------------------------
    def _mkfs(self, path, size):
        """An empty sparse ext4 file system in PATH (no root needed)."""
        tmp = path + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        subprocess.run(["truncate", "-s", str(size), tmp], check=True)
        subprocess.run([sbin("mkfs.ext4"), "-q", "-F", "-m", "0", "-E",
                        "lazy_itable_init=1,lazy_journal_init=1", tmp], check=True, capture_output=True)
        os.rename(tmp, path)

    def _disks(self):
        """The Pi side's image store, kept across boots unless fresh_store, and the small disk."""
        store = os.path.join(self.dir, "store.img")
        if self.fresh_store or not os.path.exists(store):
            self._mkfs(store, self.STORE_SIZE)
        small = os.path.join(self.dir, "small.img")
        self._mkfs(small, self.SMALL_SIZE)
        return store, small

    # -- lifecycle -----------------------------------------------------------------------
    def boot(self, timeout=180):
        self.lock = open(os.path.join(self.dir, "lock"), "w")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RigError("another rig is running in %s (set GADGETD_VM_DIR for a second one)" % self.dir)
        for port, var, kind in ((self.port, "GADGETD_PORT", socket.SOCK_STREAM),
                                (self.console_port, "GADGETD_CONSOLE_PORT", socket.SOCK_STREAM),
                                (self.tls_port, "GADGETD_TLS_PORT", socket.SOCK_STREAM),
                                (self.ipmi_port, "GADGETD_IPMI_PORT", socket.SOCK_DGRAM)):
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError as e:
                    raise RigError("port %d on 127.0.0.1 is busy (%s): set %s" % (port, e.strerror, var))
        initrd = self._initrd()
        store, small = self._disks()
        sock = os.path.join(self.dir, "ctl.sock")
        for p in (sock, self.log_path):
            if os.path.exists(p):
                os.unlink(p)
        machine, console = QEMU[self.arch]
        cmd = machine + [
            "-m", "512", "-smp", "1",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", "file:" + self.console_path,
            "-kernel", os.path.join(self.rig_dir, "vmlinuz"), "-initrd", initrd,
            "-append", "console=%s quiet panic=-1" % console,
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080,hostfwd=tcp:127.0.0.1:%d-:2323,"
            "hostfwd=tcp:127.0.0.1:%d-:8443,hostfwd=udp:127.0.0.1:%d-:623" % (
                self.port, self.console_port, self.tls_port, self.ipmi_port),
            "-device", "virtio-net-pci,netdev=n0",
            "-device", "virtio-serial-pci",
            # Appended: the server VM's supervisor adds its own lines (server_vm.py).
            "-chardev", "file,id=log,append=on,path=" + self.log_path,
            "-device", "virtserialport,chardev=log,name=server.log",
            "-chardev", "socket,id=ctl,path=%s,server=on,wait=off" % sock,
            "-device", "virtserialport,chardev=ctl,name=ctl",
            # /dev/vda and /dev/vdb in the guest; init finds them by serial.
            "-drive", "file=%s,if=none,id=store,format=raw,cache=unsafe,discard=unmap" % store,
            "-device", "virtio-blk-pci,drive=store,serial=store",
            "-drive", "file=%s,if=none,id=small,format=raw,cache=unsafe,discard=unmap" % small,
            "-device", "virtio-blk-pci,drive=small,serial=small",
        ]
        # A session of its own: Ctrl-C in the terminal reaches us, and we power the guest off.
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent,
                                     stderr=open(os.path.join(self.dir, "qemu.log"), "w"))
        deadline = time.time() + timeout
        while not os.path.exists(sock):
            self._check_alive()
            if time.time() > deadline:
                raise RigError("QEMU did not create %s" % sock)
            time.sleep(0.05)
        while True:
            self.ctl = socket.socket(socket.AF_UNIX)
            try:
                self.ctl.connect(sock)
                break
            except OSError:  # QEMU made the socket but is not listening yet, or failed
                self.ctl.close()
                self._check_alive()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.wait_api(deadline - time.time())

    def _check_alive(self):
        if self.qemu.poll() is not None:
            raise RigError("QEMU exited with %d; see %s" % (self.qemu.returncode, self.dir))

    def wait_api(self, timeout=60):
        """Ready means the API answers."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._check_alive()
            try:
                status, _ = self.api("GET", "/api/status", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RigError("the API did not answer within %ds; see %s/console.log" % (timeout, self.dir))

    def start_server(self, firmware):
        """The server VM of FIRMWARE (uefi, bios) on the other end of the USB cable; off."""
        from server_vm import ServerVM
        self.server = ServerVM(self, firmware)
        self.server.start()

    def shutdown(self):
        """Stops gadgetd (it removes its gadget), then powers the guest off."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.qemu is None:
            return
        if self.qemu.poll() is None:
            try:
                # The image store is kept across boots: unmounted cleanly when it can be.
                self.sh("rig-stop >/dev/null; umount /var/lib/gadgetd /mnt/small 2>/dev/null; "
                        "sync; poweroff -f", timeout=15)
            except (RigError, OSError):
                pass
            try:
                self.qemu.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.qemu.kill()
                self.qemu.wait()
        if self.ctl:
            self.ctl.close()
        self.qemu = None

    # -- the guest's shell ---------------------------------------------------------------
    def sh(self, command, timeout=60):
        """Runs COMMAND in the guest; returns (exit status, output)."""
        if "\n" in command:
            raise ValueError("one line per command")
        with self.sh_lock:
            return self._sh(command, timeout)

    def _sh(self, command, timeout):
        self.ctl.sendall(command.encode() + b"\n")
        self.ctl.settimeout(timeout)
        out = []
        while True:
            while b"\n" not in self.ctl_buf:
                try:
                    chunk = self.ctl.recv(65536)
                except socket.timeout:
                    raise RigError("guest command timed out: %s" % command)
                if not chunk:
                    raise RigError("guest control port closed")
                self.ctl_buf += chunk
            line, self.ctl_buf = self.ctl_buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            if text.startswith("=RC "):
                return int(text[4:]), "\n".join(out)
            out.append(text[1:] if text.startswith("|") else text)

    def write_file(self, path, text):
        """Writes TEXT to PATH in the guest."""
        data = base64.b64encode(text.encode()).decode()
        rc, out = self.sh("echo %s | base64 -d > %s" % (data, path))
        if rc != 0:
            raise RigError("writing %s in the guest: %s" % (path, out))

    def put_file(self, local_path, guest_path, timeout=None):
        """Copies LOCAL_PATH (any bytes) to GUEST_PATH: the guest fetches it with wget from a
        one-file HTTP server on the build machine's 127.0.0.1 (10.0.2.2 through QEMU's user
        network) into a hidden file next to GUEST_PATH, renamed once its sha256 matches.
        Returns the sha256."""
        digest = hashlib.sha256()
        with open(local_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        size = os.path.getsize(local_path)
        token = secrets.token_hex(8)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/" + token:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with open(local_path, "rb") as f:
                    shutil.copyfileobj(f, self.wfile, 1 << 20)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        d, name = os.path.split(guest_path)
        tmp = shlex.quote(os.path.join(d, ".%s.part" % name))
        try:
            rc, out = self.sh("wget -q -O %s http://10.0.2.2:%d/%s && sha256sum %s" % (
                tmp, server.server_address[1], token, tmp),
                timeout=timeout or 60 + size // (1 << 20))
        finally:
            server.shutdown()
            server.server_close()
        if rc != 0 or (out.split() or [""])[0] != digest.hexdigest():
            self.sh("rm -f %s" % tmp)
            raise RigError("copying %s to %s in the guest: %s" % (local_path, guest_path, out))
        rc, out = self.sh("mv %s %s" % (tmp, shlex.quote(guest_path)))
        if rc != 0:
            raise RigError("copying %s to %s in the guest: %s" % (local_path, guest_path, out))
        return digest.hexdigest()

    def config(self, extra=""):
        """The rig's gadgetd config with EXTRA appended (later sections override)."""
        with open(os.path.join(ROOT, "tests", "vm", "gadgetd.conf")) as f:
            return f.read() + "\n" + extra

    def gadgetd_running(self):
        rc, _ = self.sh("[ -s /run/gadgetd.pid ] && kill -0 $(cat /run/gadgetd.pid)")
        return rc == 0

    def recover(self):
        """After a failed test: gadgetd running from the default config, API answering."""
        if not self.gadgetd_running():
            self.sh("rig-start")
        self.wait_api(30)

    # -- the API -------------------------------------------------------------------------
    def api(self, method, path, body=None, auth=True, headers=None, timeout=30, raw=None):
        """Calls the API; returns (status, parsed JSON body or None)."""
        hdrs = dict(headers or {})
        if auth is True:
            auth = self.credentials()
        if auth:
            token = base64.b64encode(("%s:%s" % auth).encode()).decode()
            hdrs["Authorization"] = "Basic " + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, text, self.last_headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, text, self.last_headers = e.code, e.read(), e.headers
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    # -- what the server side saw --------------------------------------------------------
    def events(self):
        try:
            with open(self.log_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_event(self, match, after=0, timeout=30):
        """Waits for an event (index >= AFTER) whose fields include MATCH; returns (index, event)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, ev in enumerate(self.events()):
                if i >= after and all(ev.get(k) == v for k, v in match.items()):
                    return i, ev
            time.sleep(0.05)
        raise RigError("no event %s within %ds" % (match, timeout))


def main():
    if len(sys.argv) != 2 or sys.argv[1] != "run":
        print(__doc__, file=sys.stderr)
        return 2
    rig = Rig()
    firmware = os.environ.get("GADGETD_SERVER", "")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        if firmware:
            from server_vm import ServerVM, ServerVMError
            try:
                ServerVM(rig, firmware).check()
            except ServerVMError as e:
                raise RigError(str(e))
        print("rig: booting the VM (QEMU, TCG)...", flush=True)
        t0 = time.time()
        rig.boot()
        user, password = rig.credentials()
        if firmware:
            rig.start_server(firmware)
        else:
            # The server's simulated firmware (tests/vm/firmware.c): armed for interactive use.
            rig.sh("mkdir -p /run/firmware && touch /run/firmware/enabled")
        print("rig: ready in %.1fs" % (time.time() - t0))
        print("  API:          %s/api/status  (HTTPS: %s, self-signed)" % (rig.url, rig.tls_url))
        print("  credentials:  %s  (%s:%s)" % (os.path.relpath(os.path.join(rig.dir, "credentials")), user, password))
        print("  try:          curl -u $(cat %s) %s/api/status" % (os.path.relpath(os.path.join(rig.dir, "credentials")), rig.url))
        print("  Redfish:      %s/redfish/v1/  (system /redfish/v1/Systems/host, same credentials)" % rig.url)
        print("  IPMI:         ipmitool -I lanplus -H 127.0.0.1 -p %d -U %s -P %s chassis power status" % (
            rig.ipmi_port, user, password))
        print("  console:      telnet 127.0.0.1 %d   (or %s/api/console/ws)" % (rig.console_port, rig.url.replace("http", "ws")))
        print("  server side:  %s" % os.path.relpath(rig.log_path))
        if firmware:
            print("  server VM:    %s firmware, off; its USB is gadgetd alone; POST /api/power "
                  "{\"action\":\"on\"} starts it" % firmware)
            print("  its serial:   %s  (its disk: %s)" % (
                os.path.relpath(rig.server.serial_path), os.path.relpath(rig.server.disk_path)))
        else:
            print("  firmware:     armed: F12 within 5 s of power-on for its boot menu")
        print("  image store:  %s (kept across runs)" % os.path.relpath(os.path.join(rig.dir, "store.img")))
        print("Ctrl-C stops the rig.", flush=True)
        while not stop and rig.qemu.poll() is None:
            time.sleep(0.2)
    except RigError as e:
        print("rig: %s" % e, file=sys.stderr)
        return 1
    finally:
        print("rig: shutting down", flush=True)
        rig.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
