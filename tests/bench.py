#!/usr/bin/env python3
"""make bench: figures measured in the VM rig, each beside a reference run in the same boot.

  enumerate_ms   gadgetd started -> the server's input layer has the keyboard (median of N)
                 reference: the same gadget composed by a shell script writing configfs
  rss_idle_kib   gadgetd's peak RSS (VmHWM) after start-up and a burst of API requests
                 reference: busybox httpd serving a file in the same guest
  rss_current_kib  gadgetd's resident set (VmRSS) once idle again
  typing_cps_max      characters/s the server received, at the fastest pacing that loses no key
  typing_cps_default  the same at the default pacing (20 ms a report)
                 reference: a shell loop writing the same reports straight to /dev/hidg0
  key_latency_p50_ms, key_latency_p99_ms  API call (made inside the guest) -> the server's kernel
                 has the key, over 200 calls; reference: one report written to /dev/hidg0
  upload_vs_dd_ratio     a 1 GiB upload with curl through the forwarded port, against dd writing
                 as many bytes to the same filesystem in the guest (1.0 = as fast as dd)
  upload_rss_growth_kib  gadgetd's VmRSS during that upload, above its VmRSS before
  power_press_latency_ms  POST /api/power (made in the guest) -> the simulator sees the button down;
                 reference: a GET /api/status round trip by the same client
  power_led_to_api_ms  the simulated LED changes -> GET /api/power (polled in the guest) reports it
  console_mib_s_log  the server writes 8 MiB of text to its ttyACM0 -> gadgetd has it all in its
                 log (guest clock); reference: `cat /dev/ttyGS0 > file` with gadgetd stopped
  console_mib_s_ws   the same output as a WebSocket client outside the guest receives it
                 (first byte to last); reference: console_mib_s_log
  console_cpu_ms_per_mib  gadgetd's CPU time (user+system) per MiB of console output, WebSocket
                 client attached
  console_echo_p50_ms, console_echo_p99_ms  one byte sent over the WebSocket -> the server's
                 shell echoes it back over it, 200 times; reference: GET /api/status round trip
  media_read_vs_file_ratio  the server reading the inserted image (dd of its /dev/sdX), against
                 dd of the image file on the Pi side, caches dropped (1.0 = as fast)

On the build machine, no VM (run first; see api_figures):
  api_status_rps, api_p99_ms  GET /api/status with HTTP Basic, `wrk -t2 -c64 --latency`, gadgetd
                 on loopback with `[gadget] functions = none` (no USB gadget)
                 reference: nginx serving the same JSON body as a static file, same wrk run
  nginx_status_rps, nginx_p99_ms  that reference
  api_vs_nginx_ratio  api_status_rps / nginx_status_rps
  auth_hash_ms   one crypt(3) of the users file's hash (median of 5): what a Basic request would
                 pay without gadgetd's cache of verified passwords

  reinstall_rehearsal_s   the rig's reinstall-demo script, a running server to the installed
                 system's login prompt (its firmware's waits dominate)
  script_step_overhead_ms  a script's own cost per step (200 {"wait": 0} steps), against
                 script_step_ref_status_rtt_ms, one GET /api/status round trip in the guest

  redfish_system_get_ms  GET /redfish/v1/Systems/host inside the guest (50 in a row), against
                 redfish_ref_status_rtt_ms, GET /api/status the same way
  redfish_insert_cached_ms  InsertMedia of a URL downloaded before (a HEAD, then the insert),
                 against redfish_insert_ref_store_name_ms, InsertMedia by store name

  ipmi_status_ms  `ipmitool -I lanplus chassis power status`, session setup included (median of
                 10), against ipmi_status_ref_curl_ms, curl's GET /api/power the same way
  ipmi_pps       session-less requests answered per second (16 in flight), against
                 ipmi_pps_ref_local_echo, the same client and a UDP echo on the build machine

  firmware_boot_to_grub_s  a UEFI server VM (OVMF) powered on through the API until GRUB's menu
                 from gadgetd's CD-ROM (median of 3, split into its parts), against
                 firmware_boot_to_grub_s_ref_qemu_cd, the same ISO on the VM's own IDE CD-ROM;
                 gadget_cd_vs_qemu_cd_ratio

  load_cpu_ms    gadgetd's CPU time (user+system) for a fixed load: 200 GET /api/status from inside
                 the guest, then 200 characters typed (load_status_s: how long the requests took)

On the arm64 rig (the Pi Zero 2 W's architecture, qemu-system-aarch64 TCG), last, each beside the
same figure from a fresh amd64 rig in the same invocation (both emulated on this machine):
  enumerate_ms_arm64, rss_idle_kib_arm64, rss_current_kib_arm64, load_cpu_ms_arm64 (and their
                 _ref_ figures as above)

Environment: BENCH_ONLY=api runs only the loopback section (no VM); BENCH_ONLY=arm64 only the
arm64 footprint (and its amd64 counterpart); BENCH_ONLY=scripts only the
scripts figures in the VM rig, BENCH_ONLY=redfish only the Redfish ones, BENCH_ONLY=ipmi the
IPMI ones, BENCH_ONLY=firmware the real-firmware ones (a server VM with OVMF); BENCH_WRK_SECONDS (10) sets
each wrk run's length; GADGETD_BIN (build/gadgetd) the daemon it starts; BENCH_RUNS (5) the VM
rig's repetitions.

Prints a table and merges the figures into build/bench.json as {"name": {"value", "unit"}}.
"""
import base64
import ctypes
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "vm"))
import rig as rigmod  # noqa: E402
import time  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
GADGETD_BIN = os.environ.get("GADGETD_BIN", os.path.join(rigmod.BUILD, "gadgetd"))


def guest_now(rig):
    rc, out = rig.sh("observer --now")
    return float(out)


def time_to_keyboard(rig, start_cmd):
    """Seconds from START_CMD to the server's keyboard, measured on the guest's clock."""
    mark = len(rig.events())
    rc, out = rig.sh("t0=$(observer --now); %s >/dev/null; echo $t0" % start_cmd)
    if rc != 0:
        raise rigmod.RigError("%s: %s" % (start_cmd, out))
    t0 = float(out.split()[-1])
    _, ev = rig.wait_event({"source": "keyboard", "event": "attached"}, after=mark, timeout=30)
    return (ev["ts"] - t0) * 1000.0


def stop_and_wait_removed(rig, stop_cmd):
    mark = len(rig.events())
    rig.sh(stop_cmd)
    rig.wait_event({"source": "usb", "event": "removed"}, after=mark, timeout=30)


def vm_hwm(rig, pid_cmd):
    rc, out = rig.sh("grep VmHWM /proc/$(%s)/status" % pid_cmd)
    return int(out.split()[1])


def key_events(rig, mark):
    return [e for e in rig.events()[mark:] if e.get("source") == "keyboard" and e.get("event") == "key"]


def typed(rig, mark, layout="us"):
    lines = "\n".join(json.dumps(e) for e in key_events(rig, mark)) + "\n"
    out = subprocess.run([os.path.join(rigmod.BUILD, "xkb-decode"), layout], input=lines,
                         capture_output=True, text=True, check=True)
    return out.stdout


def typing_rate(rig, text, pacing):
    """Characters per second between the server's first and last key event; None if keys were lost."""
    mark = len(rig.events())
    body = {"text": text}
    if pacing is not None:
        body["pacing_ms"] = pacing
    status, job = rig.api("POST", "/api/keys?wait=1", body, timeout=900)
    if status != 200:
        raise rigmod.RigError("typing failed: %s %s" % (status, job))
    time.sleep(1)
    ev = key_events(rig, mark)
    if typed(rig, mark) != text:
        return None
    return len(text) / (ev[-1]["ts"] - ev[0]["ts"])


def raw_typing_rate(rig, chars):
    """The reference: CHARS taps of 'a' written by a shell loop straight to /dev/hidg0."""
    mark = len(rig.events())
    rig.sh("exec 5>/dev/hidg0; i=0; while [ $i -lt %d ]; do printf '\\0\\0\\4\\0\\0\\0\\0\\0' >&5; "
           "printf '\\0\\0\\0\\0\\0\\0\\0\\0' >&5; i=$((i+1)); done" % chars, timeout=600)
    time.sleep(1)
    ev = [e for e in key_events(rig, mark) if e["key"] == "KEY_A"]
    return (len(ev) // 2) / (ev[-1]["ts"] - ev[0]["ts"])


def latencies(rig, calls, command):
    """Milliseconds from COMMAND starting in the guest to the server's kernel having the key."""
    out = []
    for _ in range(calls):
        mark = len(rig.events())
        rc, text = rig.sh("t0=$(observer --now); %s >/dev/null; echo $t0" % command)
        t0 = float(text.split()[-1])
        i, ev = rig.wait_event({"source": "keyboard", "event": "key", "value": 1}, after=mark, timeout=10)
        out.append((ev["ts"] - t0) * 1000)
        rig.wait_event({"source": "keyboard", "event": "key", "key": ev["key"], "value": 0},
                       after=i, timeout=10)
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def keyboard_figures(rig):
    text = ("the quick brown fox jumps over the lazy dog 0123456789 " * 20)[:1000]
    best = None
    for pacing in (0, 1, 2, 5, 10):
        cps = typing_rate(rig, text, pacing)
        print("typing at pacing %2d ms: %s" % (pacing, "%.0f chars/s" % cps if cps else "keys lost"), flush=True)
        if cps:
            best = (pacing, cps)
            break
    default_cps = typing_rate(rig, text[:200], None)
    raw_cps = raw_typing_rate(rig, 1000)
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    api = ("wget -q -O- --header 'Authorization: Basic %s' --header 'Content-Type: application/json' "
           "--post-data '{\"keys\":[\"a\"]}' http://127.0.0.1:8080/api/keys" % auth)
    lat = latencies(rig, 200, api)
    # One open for both reports, held a moment: closing hidg0 can drop a report still queued.
    lat_ref = latencies(rig, 50, "exec 5>/dev/hidg0; printf '\\0\\0\\4\\0\\0\\0\\0\\0' >&5; "
                               "printf '\\0\\0\\0\\0\\0\\0\\0\\0' >&5; sleep 0.1")
    return {
        "typing_cps_max": {"value": round(best[1], 1), "unit": "chars/s", "pacing_ms": best[0]},
        "typing_cps_default": {"value": round(default_cps, 1), "unit": "chars/s", "pacing_ms": 20},
        "typing_cps_ref_raw_hidg": {"value": round(raw_cps, 1), "unit": "chars/s"},
        "key_latency_p50_ms": {"value": round(percentile(lat, 50), 1), "unit": "ms"},
        "key_latency_p99_ms": {"value": round(percentile(lat, 99), 1), "unit": "ms"},
        "key_latency_p50_ms_ref_raw_hidg": {"value": round(percentile(lat_ref, 50), 1), "unit": "ms"},
    }


def guest_seconds(rig, command):
    """Seconds COMMAND takes in the guest, on the guest's clock."""
    rc, out = rig.sh("t0=$(observer --now); %s >/dev/null 2>&1; t1=$(observer --now); echo $t0 $t1" % command,
                     timeout=900)
    t0, t1 = (float(x) for x in out.split()[-2:])
    return t1 - t0


def media_figures(rig):
    """Upload throughput against dd, RSS during a 1 GiB upload, server reads against file reads."""
    size = 1 << 30
    path = os.path.join(rig.dir, "bench-upload.img")
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    pid = rig.sh("cat /run/gadgetd.pid")[1].strip()
    rss_before = int(rig.sh("grep VmRSS /proc/%s/status" % pid)[1].split()[1])
    rig.sh("(while [ -d /proc/%s ]; do grep VmRSS /proc/%s/status; sleep 0.2; done > /tmp/rss.log &)" % (pid, pid))
    user, password = rig.credentials()
    t0 = time.time()
    out = subprocess.run(["curl", "-sS", "-f", "-u", "%s:%s" % (user, password), "-T", path,
                          rig.url + "/api/images/bench.img"], capture_output=True, text=True, timeout=1800)
    upload_s = time.time() - t0
    if out.returncode != 0:
        raise rigmod.RigError("upload failed: %s" % out.stderr)
    os.unlink(path)
    samples = [int(l.split()[1]) for l in rig.sh("cat /tmp/rss.log")[1].splitlines() if l.startswith("VmRSS")]
    rss_growth = max(samples + [rss_before]) - rss_before
    store = "/var/lib/gadgetd/images"
    dd_s = guest_seconds(rig, "dd if=/dev/zero of=%s/.dd-bench bs=1M count=%d conv=fsync" % (store, size >> 20))
    rig.sh("rm -f %s/.dd-bench" % store)
    # Reading: the inserted image as the server reads it, against the file on the Pi side.
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "bench.img", "mode": "disk"})
    _, ev = rig.wait_event({"source": "disk", "event": "media", "size": size}, after=mark, timeout=120)
    rig.sh("sync; echo 3 > /proc/sys/vm/drop_caches")
    server_s = guest_seconds(rig, "dd if=%s of=/dev/null bs=1M" % ev["device"])
    rig.sh("sync; echo 3 > /proc/sys/vm/drop_caches")
    file_s = guest_seconds(rig, "dd if=%s/bench.img of=/dev/null bs=1M" % store)
    rig.api("DELETE", "/api/media")
    rig.api("DELETE", "/api/images/bench.img")
    mib = size >> 20
    return {
        "upload_mib_s": {"value": round(mib / upload_s, 1), "unit": "MiB/s"},
        "upload_mib_s_ref_dd": {"value": round(mib / dd_s, 1), "unit": "MiB/s"},
        "upload_vs_dd_ratio": {"value": round(dd_s / upload_s, 3), "unit": "ratio"},
        "upload_rss_growth_kib": {"value": rss_growth, "unit": "KiB"},
        "media_read_mib_s": {"value": round(mib / server_s, 1), "unit": "MiB/s"},
        "media_read_mib_s_ref_file": {"value": round(mib / file_s, 1), "unit": "MiB/s"},
        "media_read_vs_file_ratio": {"value": round(file_s / server_s, 3), "unit": "ratio"},
    }


def power_figures(rig):
    """API call -> the power line changes; LED edge -> GET /api/power reports it (guest clock)."""
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    wget = ("wget -q -O- --header 'Authorization: Basic %s' --header 'Content-Type: application/json' "
            % auth)
    press, led, status_rtt = [], [], []
    for i in range(10):
        mark = len(rig.events())
        rc, out = rig.sh("t0=$(observer --now); %s --post-data '{\"action\":\"press\"}' "
                         "http://127.0.0.1:8080/api/power >/dev/null; echo $t0" % wget, timeout=60)
        _, ev = rig.wait_event({"source": "atx", "event": "button_down"}, after=mark, timeout=10)
        press.append((ev["ts"] - float(out.split()[-1])) * 1000)
        rc, out = rig.sh("t0=$(observer --now); %s http://127.0.0.1:8080/api/status >/dev/null; "
                         "t1=$(observer --now); echo $t0 $t1" % wget)
        t0, t1 = (float(x) for x in out.split()[-2:])
        status_rtt.append((t1 - t0) * 1000)
    force = ("mkdir -p /run/atx-sim; echo force-%s > /run/atx-sim/command; "
             "until %s http://127.0.0.1:8080/api/power | grep -q '\"state\":\"%s\"'; do :; done; "
             "observer --now")
    for want in ("on", "off") * 5:
        other = "off" if want == "on" else "on"
        rig.sh(force % (other, wget, other), timeout=60)  # start from the other state
        time.sleep(0.3)
        mark = len(rig.events())
        rc, out = rig.sh(force % (want, wget, want), timeout=60)
        t1 = float(out.split()[-1])
        _, ev = rig.wait_event({"source": "atx", "event": "power_state", "on": want == "on"},
                               after=mark, timeout=10)
        led.append((t1 - ev["ts"]) * 1000)
    return {
        "power_press_latency_ms": {"value": round(statistics.median(press), 1), "unit": "ms"},
        "power_led_to_api_ms": {"value": round(statistics.median(led), 1), "unit": "ms"},
        "power_ref_status_rtt_ms": {"value": round(statistics.median(status_rtt), 1), "unit": "ms"},
    }


REDFISH_GETS = 50


def redfish_figures(rig):
    """GET of the Redfish system against GET /api/status, both 50 times inside the guest; an
    InsertMedia of a URL already downloaded (a HEAD to its server, then the insert) against an
    insert by store name, from the build machine (median of 5 each)."""
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    loop = ("t0=$(observer --now); for i in $(seq %d); do wget -q -O /dev/null --header "
            "'Authorization: Basic %s' http://127.0.0.1:8080%%s; done; t1=$(observer --now); "
            "echo $t0 $t1" % (REDFISH_GETS, auth))
    per_get = {}
    for path in ("/redfish/v1/Systems/host", "/api/status"):
        rc, out = rig.sh(loop % path, timeout=120)
        t0, t1 = (float(x) for x in out.split()[-2:])
        per_get[path] = (t1 - t0) * 1000 / REDFISH_GETS
    work = tempfile.mkdtemp(prefix="gadgetd-bench-redfish-")
    with open(os.path.join(work, "bench.iso"), "wb") as f:
        f.write(os.urandom(1 << 20))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=work, **k)

        def log_message(self, *args):
            pass

    server = socketserver.ThreadingTCPServer(("0.0.0.0", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cd = "/redfish/v1/Managers/gadgetd/VirtualMedia/Cd/Actions/VirtualMedia."
    url = "http://10.0.2.2:%d/bench.iso" % server.server_address[1]
    timings = {"url": [], "name": []}
    try:
        st, _ = rig.api("POST", cd + "InsertMedia", {"Image": url})  # downloads it once
        if st != 204:
            raise BenchError("InsertMedia of %s answered %d" % (url, st))
        for _ in range(5):
            for kind, image in (("url", url), ("name", "bench.iso")):
                rig.api("POST", cd + "EjectMedia", {})
                t0 = time.perf_counter()
                st, body = rig.api("POST", cd + "InsertMedia", {"Image": image})
                timings[kind].append((time.perf_counter() - t0) * 1000)
                if st != 204:
                    raise BenchError("InsertMedia of %s answered %d: %s" % (image, st, body))
    finally:
        rig.api("POST", cd + "EjectMedia", {})
        rig.api("DELETE", "/api/images/bench.iso")
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "redfish_system_get_ms": {"value": round(per_get["/redfish/v1/Systems/host"], 2), "unit": "ms"},
        "redfish_ref_status_rtt_ms": {"value": round(per_get["/api/status"], 2), "unit": "ms"},
        "redfish_insert_cached_ms": {"value": round(statistics.median(timings["url"]), 1), "unit": "ms"},
        "redfish_insert_ref_store_name_ms": {"value": round(statistics.median(timings["name"]), 1),
                                             "unit": "ms"},
    }


def print_redfish_figures(r):
    print("%-34s %10.2f %10.2f %8.2f   (reference: GET /api/status, both in the guest)" % (
        "redfish_system_get_ms", r["redfish_system_get_ms"]["value"], r["redfish_ref_status_rtt_ms"]["value"],
        r["redfish_system_get_ms"]["value"] / max(r["redfish_ref_status_rtt_ms"]["value"], 0.01)))
    print("%-34s %10.1f %10.1f %8.2f   (reference: InsertMedia by store name)" % (
        "redfish_insert_cached_ms", r["redfish_insert_cached_ms"]["value"],
        r["redfish_insert_ref_store_name_ms"]["value"],
        r["redfish_insert_cached_ms"]["value"] / max(r["redfish_insert_ref_store_name_ms"]["value"], 0.01)))


IPMI_RUNS = 10
IPMI_PPS_SECONDS = 5
# Get Channel Authentication Capabilities, IPMI 1.5 framing: what every client asks first.
IPMI_CAPS = bytes([0x06, 0, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 9,
                   0x20, 0x18, 0xc8, 0x81, 0x04, 0x38, 0x8e, 0x04, 0xb1])


def udp_rate(port, seconds, window=16):
    """Requests answered per second by the UDP server on 127.0.0.1:PORT, WINDOW in flight."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.connect(("127.0.0.1", port))
    for _ in range(window):
        s.send(IPMI_CAPS)
    answered, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        try:
            s.recv(512)
            answered += 1
        except socket.timeout:
            pass
        s.send(IPMI_CAPS)
    elapsed = time.perf_counter() - t0
    s.close()
    return answered / elapsed


def ipmi_figures(rig):
    """ipmitool's `chassis power status` end to end (session setup included) against curl's
    GET /api/power through the same forward; packets per second answered, against the same
    client with a UDP echo server on the build machine (what the client itself can do)."""
    user, password = rig.credentials()
    ipmitool = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(rig.ipmi_port), "-U", user,
                "-P", password, "chassis", "power", "status"]
    curl = ["curl", "-sf", "-o", "/dev/null", "-u", "%s:%s" % (user, password), rig.url + "/api/power"]
    times = {"ipmi": [], "curl": []}
    for _ in range(IPMI_RUNS):
        for kind, cmd in (("ipmi", ipmitool), ("curl", curl)):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
            times[kind].append((time.perf_counter() - t0) * 1000)
    pps = udp_rate(rig.ipmi_port, IPMI_PPS_SECONDS)
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                data, addr = echo.recvfrom(512)
                echo.sendto(data, addr)
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    ref = udp_rate(echo.getsockname()[1], IPMI_PPS_SECONDS)
    echo.close()
    return {
        "ipmi_status_ms": {"value": round(statistics.median(times["ipmi"]), 1), "unit": "ms"},
        "ipmi_status_ref_curl_ms": {"value": round(statistics.median(times["curl"]), 1), "unit": "ms"},
        "ipmi_pps": {"value": round(pps), "unit": "packets/s"},
        "ipmi_pps_ref_local_echo": {"value": round(ref), "unit": "packets/s"},
    }


def print_ipmi_figures(i):
    print("%-34s %10.1f %10.1f %8.2f   (median of %d; reference: curl GET /api/power)" % (
        "ipmi_status_ms", i["ipmi_status_ms"]["value"], i["ipmi_status_ref_curl_ms"]["value"],
        i["ipmi_status_ms"]["value"] / max(i["ipmi_status_ref_curl_ms"]["value"], 0.1), IPMI_RUNS))
    print("%-34s %10d %10d %8.3f   (reference: the same client, a UDP echo on the build machine)" % (
        "ipmi_pps", i["ipmi_pps"]["value"], i["ipmi_pps_ref_local_echo"]["value"],
        i["ipmi_pps"]["value"] / max(i["ipmi_pps_ref_local_echo"]["value"], 1)))


SCRIPT_STEPS = 200


def script_figures(rig):
    """A script's own cost per step ({"wait": 0} steps: nothing but the runner), against one
    GET /api/status round trip inside the guest; and the reinstall rehearsal end to end."""
    steps = [{"wait": 0}] * SCRIPT_STEPS
    st, _ = rig.api("PUT", "/api/scripts/bench-steps", {"steps": steps})
    st, job = rig.api("POST", "/api/scripts/bench-steps/run")
    while job["state"] not in ("done", "failed", "cancelled"):
        time.sleep(0.2)
        st, job = rig.api("GET", "/api/jobs/%d" % job["id"])
    per_step = [s["duration_ms"] for s in job["steps"]]
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    rc, out = rig.sh("t0=$(observer --now); for i in $(seq 50); do wget -q -O /dev/null --header "
                     "'Authorization: Basic %s' http://127.0.0.1:8080/api/status; done; "
                     "t1=$(observer --now); echo $t0 $t1" % auth, timeout=120)
    t0, t1 = (float(x) for x in out.split()[-2:])
    rehearsal = reinstall_rehearsal(rig)
    return {
        "reinstall_rehearsal_s": rehearsal,
        "script_step_overhead_ms": {"value": round(job["duration_ms"] / SCRIPT_STEPS, 3), "unit": "ms",
                                    "steps": SCRIPT_STEPS,
                                    "step_p99_ms": percentile(per_step, 99)},
        "script_step_ref_status_rtt_ms": {"value": round((t1 - t0) * 1000 / 50, 2), "unit": "ms"},
    }


def reinstall_rehearsal(rig):
    """The rig's reinstall-demo, end to end, with its firmware armed: wall time of the job and
    the slowest steps (the firmware's waits dominate; gadgetd's share is the step overhead)."""
    rig.sh("mkdir -p /run/firmware && touch /run/firmware/enabled")
    try:
        st, job = rig.api("POST", "/api/scripts/reinstall-demo/run", {"vars": {"hostname": "bench"}})
        if st != 202:
            raise RuntimeError("reinstall-demo: %s %s" % (st, job))
        while job["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.5)
            st, job = rig.api("GET", "/api/jobs/%d" % job["id"])
        if job["state"] != "done":
            raise RuntimeError("reinstall-demo %s: %s" % (job["state"], job["error"]))
    finally:
        rig.sh("rm -f /run/firmware/enabled")
    slowest = sorted(job["steps"], key=lambda s: -s["duration_ms"])[:4]
    return {"value": round(job["duration_ms"] / 1000.0, 2), "unit": "s",
            "steps": len(job["steps"]),
            "slowest": ["%s %s: %d ms" % (s["kind"], s.get("name", ""), s["duration_ms"]) for s in slowest]}


CONSOLE_BYTES = 8 << 20
# The server's output, staged in a file (timed: cat writing it to ttyACM0, as a kernel or a
# program writes its console). Its last line is cut short: the end mark follows on that line.
CONSOLE_TEXT = "yes 'console throughput 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c %d > /tmp/out" % CONSOLE_BYTES
CONSOLE_WRITER = ("stty -F /dev/ttyACM0 -opost; cat /tmp/out > /dev/ttyACM0; echo BENCH-END > /dev/ttyACM0; "
                  "stty -F /dev/ttyACM0 opost")


def cpu_ticks(rig):
    rc, out = rig.sh("cut -d' ' -f14,15 /proc/$(cat /run/gadgetd.pid)/stat")
    utime, stime = (int(x) for x in out.split())
    return utime + stime  # USER_HZ: 100 a second


def console_ws_run(rig, auth):
    """Runs the writer while a WebSocket client reads: (log seconds, ws seconds, cpu ms)."""
    import asyncio
    import websockets

    async def run():
        url = "ws://127.0.0.1:%d/api/console/ws?replay=0" % rig.port
        async with websockets.connect(url, extra_headers={"Authorization": "Basic " + auth},
                                      max_size=None) as ws:
            loop = asyncio.get_running_loop()
            ticks = cpu_ticks(rig)
            writer = loop.run_in_executor(None, lambda: rig.sh(
                "t0=$(observer --now); %s; echo $t0" % CONSOLE_WRITER, timeout=900))
            got, first = 0, None
            while got < CONSOLE_BYTES:
                got += len(await asyncio.wait_for(ws.recv(), 120))
                first = first or time.time()
            last = time.time()
            rc, out = await writer
            return float(out.split()[-1]), first, last, ticks

    t0, first, last, ticks = asyncio.run(run())
    # gadgetd has logged it all once expect sees the end mark (it logs before it tells anyone).
    expect = ("wget -q -O- --header 'Authorization: Basic %s' --header 'Content-Type: application/json' "
              "--post-data '{\"pattern\":\"BENCH-END\",\"since\":0,\"timeout\":300}' "
              "http://127.0.0.1:8080/api/console/expect >/dev/null; observer --now" % auth)
    rc, out = rig.sh(expect, timeout=600)
    log_s = float(out.split()[-1]) - t0
    cpu_ms = (cpu_ticks(rig) - ticks) * 10
    return log_s, last - first, cpu_ms


def console_log_run(rig, auth):
    """The writer with no client: seconds from its start until gadgetd has logged the end mark."""
    rc, out = rig.sh("rm -f /var/lib/gadgetd/console/console.log.*; t0=$(observer --now); %s; echo $t0"
                     % CONSOLE_WRITER, timeout=900)
    t0 = float(out.split()[-1])
    rc, out = rig.sh("wget -q -O- --header 'Authorization: Basic %s' --header 'Content-Type: application/json' "
                     "--post-data '{\"pattern\":\"BENCH-END\",\"timeout\":300,\"since\":0}' "
                     "http://127.0.0.1:8080/api/console/expect >/dev/null; observer --now" % auth, timeout=600)
    return float(out.split()[-1]) - t0


def console_ref_run(rig):
    """The same output read by `cat /dev/ttyGS0 > file`, gadgetd stopped (a shell composes)."""
    rig.sh("rig-stop")
    rig.sh("ref-compose up; until [ -c /dev/ttyACM0 ]; do sleep 0.1; done; sleep 1")
    rc, out = rig.sh("stty -F /dev/ttyGS0 raw -echo; (cat /dev/ttyGS0 > /tmp/ref-console &); sleep 0.5; "
                     "t0=$(observer --now); %s; "
                     "until [ $(stat -c %%s /tmp/ref-console) -ge %d ]; do usleep 10000; done; t1=$(observer --now); "
                     "kill $(pidof cat); rm -f /tmp/ref-console; echo $t0 $t1" % (CONSOLE_WRITER, CONSOLE_BYTES + 10),
                     timeout=900)
    t0, t1 = (float(x) for x in out.split()[-2:])
    rig.sh("ref-compose down; rm -f /tmp/out")
    rig.sh("rig-start")
    rig.wait_api(30)
    return t1 - t0


def console_echo(rig, auth, count=200):
    """Round trips of one byte over the WebSocket through the server's shell (its line editor
    echoes), and GET /api/status round trips from the same machine."""
    import asyncio
    import websockets

    async def run():
        url = "ws://127.0.0.1:%d/api/console/ws?replay=0" % rig.port
        async with websockets.connect(url, extra_headers={"Authorization": "Basic " + auth}) as ws:
            times = []
            for i in range(count):
                t = time.time()
                await ws.send(b"x")
                got = b""
                while b"x" not in got:
                    got += await asyncio.wait_for(ws.recv(), 10)
                times.append((time.time() - t) * 1000)
            await ws.send(b"\x03")  # Ctrl-C: the shell drops the line of x's
            return times

    echo = asyncio.run(run())
    status = []
    for _ in range(50):
        t = time.time()
        rig.api("GET", "/api/status")
        status.append((time.time() - t) * 1000)
    return echo, status


def console_figures(rig):
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    rig.sh("rig-stop")
    rig.write_file("/tmp/bench.conf", rig.config("[console]\nlog_size = 64M\nlog_files = 2\n"))
    rig.sh("rig-start /tmp/bench.conf")
    rig.wait_api(30)
    rig.sh("until [ -c /dev/ttyACM0 ]; do sleep 0.1; done; sleep 2; %s" % CONSOLE_TEXT, timeout=300)
    mib = CONSOLE_BYTES / (1 << 20)
    log_s = console_log_run(rig, auth)
    ws_log_s, ws_s, cpu_ms = console_ws_run(rig, auth)
    echo, status = console_echo(rig, auth)
    ref_s = console_ref_run(rig)
    return {
        "console_mib_s_log": {"value": round(mib / log_s, 2), "unit": "MiB/s"},
        "console_mib_s_log_ref_cat": {"value": round(mib / ref_s, 2), "unit": "MiB/s"},
        "console_mib_s_ws": {"value": round(mib / ws_s, 2), "unit": "MiB/s"},
        "console_mib_s_log_with_ws": {"value": round(mib / ws_log_s, 2), "unit": "MiB/s"},
        "console_cpu_ms_per_mib": {"value": round(cpu_ms / mib, 1), "unit": "ms/MiB"},
        "console_echo_p50_ms": {"value": round(percentile(echo, 50), 1), "unit": "ms"},
        "console_echo_p99_ms": {"value": round(percentile(echo, 99), 1), "unit": "ms"},
        "console_echo_ref_status_rtt_ms": {"value": round(statistics.median(status), 1), "unit": "ms"},
    }


# ---------------------------------------------------------------------------------------------
# The JSON API on the build machine's loopback, against nginx (no VM, no USB gadget).
#
# Fairness, as chosen: both servers run as the same unprivileged user on 127.0.0.1, one at a
# time under the same wrk (-t2 -c64, keep-alive: wrk's HTTP/1.1 connections stay open). nginx
# gets `worker_processes auto` (one worker per CPU) because gadgetd's thread-per-connection
# server may use every CPU too; its access log is off because gadgetd logs no request that
# succeeds; `keepalive_requests` is raised so nginx does not close a connection every 1000
# requests while gadgetd never does. nginx serves the body without authentication; gadgetd
# checks HTTP Basic on every request (a cached, keyed MAC after the first one) and builds the
# JSON each time.

class BenchError(Exception):
    pass


def _as_bench_user():
    """subprocess keywords that drop root to nobody (gadgetd and nginx run unprivileged)."""
    if os.geteuid() != 0:
        return {}
    return {"user": 65534, "group": 65534, "extra_groups": []}


def _give_to_bench_user(path):
    if os.geteuid() != 0:
        return
    for d, dirs, files in os.walk(path):
        os.chown(d, 65534, 65534)
        for f in files:
            os.chown(os.path.join(d, f), 65534, 65534)


def _http_get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait_http(url, headers, proc, what, logs, timeout=15):
    """The first answer of URL, once PROC listens; its LOGS (files) go into the error if not."""
    deadline = time.time() + timeout
    why = "did not answer %s within %d s" % (url, timeout)
    while time.time() < deadline:
        if proc.poll() is not None:
            why = "exited with %s before answering" % proc.returncode
            break
        try:
            return _http_get(url, headers)
        except OSError:
            time.sleep(0.05)
    text = ""
    for path in logs:
        try:
            with open(path) as f:
                text += f.read()
        except OSError:
            pass
    raise BenchError("%s %s\n%s" % (what, why, text))


def _stop(proc, sig=signal.SIGTERM):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_wrk(text):
    """Requests/sec, the 99% latency (ms) and every error wrk reports, from `wrk --latency`."""
    out = {"rps": None, "p99_ms": None, "requests": None, "non_2xx": 0,
           "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s|m|h)\s*$", text, re.M)
    if m:
        out["p99_ms"] = float(m.group(1)) * _WRK_UNITS[m.group(2)]
    m = re.search(r"^\s+(\d+) requests in ", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"^\s+Non-2xx or 3xx responses:\s+(\d+)", text, re.M)
    if m:
        out["non_2xx"] = int(m.group(1))
    m = re.search(r"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text, re.M)
    if m:
        out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    return out


def run_wrk(url, headers=None, what="wrk"):
    """One `wrk -t2 -c64 -dN --latency` run against URL with HEADERS ({name: value}).

    This is the hook for the other ways to authenticate: a later run passes its own header,
    e.g. {"Authorization": "Bearer <token>"} for api_status_rps_bearer or
    {"Cookie": "<session cookie>"} for api_status_rps_session (see api_figures).
    Fails loudly (BenchError) on any non-2xx response or socket error: such a run measures
    something else than the route and must not become a figure."""
    cmd = ["wrk", "-t2", "-c64", "-d%ds" % WRK_SECONDS, "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", "%s: %s" % (name, value)]
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=WRK_SECONDS + 60)
    res = parse_wrk(r.stdout)
    errors = sum(res["socket_errors"].values())
    if r.returncode != 0 or res["rps"] is None or res["p99_ms"] is None or not res["requests"]:
        raise BenchError("%s: wrk failed (exit %d):\n%s%s" % (what, r.returncode, r.stdout, r.stderr))
    if res["non_2xx"] or errors:
        raise BenchError("%s: %d non-2xx responses, socket errors %s of %d requests: not a valid figure\n%s"
                         % (what, res["non_2xx"], res["socket_errors"], res["requests"], r.stdout))
    print("%s: %.0f req/s, p99 %.2f ms, %d requests, no errors" % (what, res["rps"], res["p99_ms"],
                                                                   res["requests"]), flush=True)
    return res


def crypt_ms(password, setting, runs=5):
    """Median milliseconds of one crypt(3) of PASSWORD with SETTING (a users-file hash)."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = lib.crypt(password.encode(), setting.encode())
        times.append((time.perf_counter() - t) * 1000)
        if out is None or out.decode() != setting:
            raise BenchError("crypt(3) of the benchmark password does not give its users-file hash")
    return statistics.median(times)


NGINX_CONF = """\
# Generated by tests/bench.py: the reference for GET /api/status, loopback only.
worker_processes auto;
daemon off;
master_process on;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(dir)s/client_body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:%(port)d;
        location = /api/status {
            default_type application/json;
            alias %(dir)s/status.json;
        }
    }
}
"""


def _token_and_session(base, auth, password):
    """An API token (POST /api/tokens) and a session cookie (POST /api/login) for the bench."""
    req = urllib.request.Request(base + "/api/tokens", method="POST", headers=dict(auth, **{
        "Content-Type": "application/json"}), data=json.dumps({"name": "bench", "role": "viewer"}).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        token = json.loads(resp.read())["token"]
    req = urllib.request.Request(base + "/api/login", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps({"user": "admin", "password": password}).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    return token, cookie


def api_figures():
    """gadgetd's GET /api/status on loopback against nginx serving the same body; crypt's cost."""
    load_before = os.getloadavg()[0]
    for tool in ("wrk", "nginx"):
        if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
            raise BenchError("%s is missing: run scripts/install-deps.sh all" % tool)
    nginx_bin = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not os.access(GADGETD_BIN, os.X_OK):
        raise BenchError("%s is not built (GADGETD_BIN)" % GADGETD_BIN)
    tmp = tempfile.mkdtemp(prefix="gadgetd-bench-")
    os.chmod(tmp, 0o755)
    gd = ng = None
    try:
        # A copy of the binary, so the unprivileged user need not reach into the build tree.
        binary = os.path.join(tmp, "gadgetd")
        shutil.copy2(GADGETD_BIN, binary)
        for d in ("state", "images"):
            os.mkdir(os.path.join(tmp, d))
        gd_port, ng_port = rigmod.free_port(), rigmod.free_port()
        while ng_port == gd_port:
            ng_port = rigmod.free_port()
        users = os.path.join(tmp, "users")
        conf = os.path.join(tmp, "gadgetd.conf")
        with open(conf, "w") as f:
            f.write("# Generated by tests/bench.py: no USB gadget, loopback only.\n"
                    "[gadget]\nfunctions = none\n"
                    "[media]\nimage_store = %s/images\n"
                    "[http]\nbind = 127.0.0.1\nport = %d\nusers = %s\n[tls]\nport = 0\n"
                    "[daemon]\nstate_dir = %s/state\n" % (tmp, gd_port, users, tmp))
        _give_to_bench_user(tmp)
        password = secrets.token_urlsafe(16)
        r = subprocess.run([binary, "passwd", "--users", users, "admin"], input=password + "\n",
                           capture_output=True, text=True, timeout=60, **_as_bench_user())
        if r.returncode != 0:
            raise BenchError("gadgetd passwd failed: %s" % r.stderr)
        with open(users) as f:
            setting = next(l for l in f if l.startswith("admin:")).split(":")[1]
        auth = {"Authorization": "Basic " + base64.b64encode(("admin:" + password).encode()).decode()}

        hash_ms = crypt_ms(password, setting)

        gd_log = open(os.path.join(tmp, "gadgetd.log"), "w")
        gd = subprocess.Popen([binary, "--config", conf], stdin=subprocess.DEVNULL, stdout=gd_log,
                              stderr=subprocess.STDOUT, **_as_bench_user())
        gd_log.close()  # the child has its own descriptor
        gd_url = "http://127.0.0.1:%d/api/status" % gd_port
        # The first request also fills gadgetd's cache of verified passwords.
        status, body = _wait_http(gd_url, auth, gd, "gadgetd", [gd_log.name])
        if status != 200:
            raise BenchError("gadgetd: GET /api/status answered %d: %r" % (status, body[:200]))
        json.loads(body)
        with open(os.path.join(tmp, "status.json"), "wb") as f:
            f.write(body)
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF % {"dir": tmp, "port": ng_port})
        _give_to_bench_user(tmp)

        gadgetd_run = run_wrk(gd_url, auth, "gadgetd GET /api/status (Basic)")
        # The same route with an API token and with a browser session: neither hashes anything.
        token, cookie = _token_and_session(gd_url.rsplit("/api/", 1)[0], auth, password)
        extra_runs = {
            "api_status_rps_bearer": run_wrk(gd_url, {"Authorization": "Bearer " + token},
                                             "gadgetd GET /api/status (Bearer token)"),
            "api_status_rps_session": run_wrk(gd_url, {"Cookie": cookie},
                                              "gadgetd GET /api/status (session cookie)"),
        }
        _stop(gd)
        if gd.returncode != 0:
            with open(gd_log.name) as f:
                raise BenchError("gadgetd exited with %d after the run:\n%s" % (gd.returncode, f.read()))

        ng_out = open(os.path.join(tmp, "nginx.out"), "w")
        ng = subprocess.Popen([nginx_bin, "-p", tmp, "-c", os.path.join(tmp, "nginx.conf"),
                               "-e", os.path.join(tmp, "nginx-error.log")],
                              stdin=subprocess.DEVNULL, stdout=ng_out, stderr=subprocess.STDOUT,
                              **_as_bench_user())
        ng_out.close()
        ng_url = "http://127.0.0.1:%d/api/status" % ng_port
        status, ng_body = _wait_http(ng_url, {}, ng, "nginx",
                                     [ng_out.name, os.path.join(tmp, "nginx-error.log")])
        if status != 200 or ng_body != body:
            raise BenchError("nginx: GET /api/status answered %d, not the same body" % status)
        nginx_run = run_wrk(ng_url, {}, "nginx GET /api/status (static file)")
        _stop(ng, signal.SIGQUIT)  # graceful: workers finish, the master exits 0
    finally:
        _stop(gd)
        _stop(ng, signal.SIGQUIT)
        shutil.rmtree(tmp, ignore_errors=True)

    # Other work on the build machine skews both runs, unequally: the load average before them
    # goes with the figures.
    wrk_meta = {"wrk": "-t2 -c64 -d%ds --latency" % WRK_SECONDS,
                "loadavg_1min_before": round(load_before, 2)}
    figures = {
        "api_status_rps": dict({"value": round(gadgetd_run["rps"], 1), "unit": "req/s", "auth": "basic"},
                               **wrk_meta),
        "api_p99_ms": {"value": round(gadgetd_run["p99_ms"], 2), "unit": "ms"},
        "nginx_status_rps": dict({"value": round(nginx_run["rps"], 1), "unit": "req/s",
                                  "workers": os.cpu_count()}, **wrk_meta),
        "nginx_p99_ms": {"value": round(nginx_run["p99_ms"], 2), "unit": "ms"},
        "api_vs_nginx_ratio": {"value": round(gadgetd_run["rps"] / nginx_run["rps"], 3), "unit": "ratio"},
        "auth_hash_ms": {"value": round(hash_ms, 2), "unit": "ms", "hash": setting.split("$")[1]},
    }
    for name, run in extra_runs.items():
        figures[name] = dict({"value": round(run["rps"], 1), "unit": "req/s"}, **wrk_meta)
    return figures


def print_api_figures(f):
    print("%-34s %10s %10s %8s" % ("figure (loopback, no VM)", "gadgetd", "nginx", "ratio"))
    print("%-34s %10.0f %10.0f %8.3f   (req/s; api_vs_nginx_ratio; %s)" % (
        "GET /api/status: api_status_rps", f["api_status_rps"]["value"], f["nginx_status_rps"]["value"],
        f["api_vs_nginx_ratio"]["value"], f["api_status_rps"]["wrk"]))
    print("%-34s %10.2f %10.2f %8.2f   (ms)" % (
        "api_p99_ms", f["api_p99_ms"]["value"], f["nginx_p99_ms"]["value"],
        f["api_p99_ms"]["value"] / max(f["nginx_p99_ms"]["value"], 0.001)))
    for name in ("api_status_rps_bearer", "api_status_rps_session"):
        if name in f:
            print("%-34s %10.0f %10.0f %8.3f" % (name, f[name]["value"], f["nginx_status_rps"]["value"],
                                                 f[name]["value"] / f["nginx_status_rps"]["value"]))
    h = f["auth_hash_ms"]["value"]
    print("%-34s %10.2f   (one crypt(3) of the users file's $%s$ hash, median of 5)" % (
        "auth_hash_ms", h, f["auth_hash_ms"]["hash"]))
    print("  gadgetd checks HTTP Basic on every request, but only the first request with a password "
          "pays crypt(3):\n  a verified password is remembered as a keyed MAC, so the requests after "
          "it skip the hash.\n  Without that cache one CPU could verify at most %.0f requests/s." % (1000.0 / h))
    print("  reference: nginx (worker_processes auto = %d, access log off, no auth) serving the same "
          "JSON body as a static file" % os.cpu_count())
    if f["api_status_rps"]["loadavg_1min_before"] > 1.0:
        print("  warning: load average %.2f on %d CPUs before the runs: other work may have skewed "
              "these figures" % (f["api_status_rps"]["loadavg_1min_before"], os.cpu_count()))


def merge_figures(figures):
    path = os.path.join(rigmod.BUILD, "bench.json")
    try:
        with open(path) as f:
            merged = json.load(f)
    except (OSError, ValueError):
        merged = {}
    merged.update(figures)
    with open(path + ".tmp", "w") as f:
        json.dump(merged, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path


def main():
    only = os.environ.get("BENCH_ONLY", "")
    if only not in ("", "api", "scripts", "redfish", "ipmi", "arm64", "firmware"):
        sys.exit("BENCH_ONLY: 'api', 'scripts', 'redfish', 'ipmi', 'arm64', 'firmware' or nothing")
    if only == "arm64":
        return arm64_main()
    if only == "firmware":
        return firmware_main()
    if only == "ipmi":
        return section_main(ipmi_figures, print_ipmi_figures)
    if only == "scripts":
        return section_main(script_figures, print_script_figures)
    if only == "redfish":
        return section_main(redfish_figures, print_redfish_figures)
    try:
        api = api_figures()
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    path = merge_figures(api)
    print_api_figures(api)
    if only == "api":
        print("written to %s" % os.path.relpath(path))
        return 0
    print(flush=True)
    return rig_main()


FIRMWARE_RUNS = 3
FIRMWARE_BANNER = "GADGETD-BENCH-GRUB"


def firmware_boot(rig, iso_path=None):
    """The server VM off, then POST /api/power on until GRUB's menu (the second entry drawn) is
    on its serial port; returns (total s, press to QEMU running s, QEMU running to the
    firmware's first boot attempt s, that to GRUB's menu s)."""
    server = rig.server
    if rig.api("GET", "/api/power")[1]["state"] == "on":
        rig.api("POST", "/api/power", {"action": "force-off"}, timeout=60)
    while server.running:
        time.sleep(0.05)
    mark, events = server.serial_size(), len(rig.events())
    t0 = time.time()
    status, body = rig.api("POST", "/api/power", {"action": "on"}, timeout=60)
    if status != 200:
        raise BenchError("power on: %s %s" % (status, body))
    _, ev = rig.wait_event({"source": "server-vm", "event": "power_on"}, after=events, timeout=60)
    bds = None
    deadline = time.time() + 300
    while time.time() < deadline:
        text = server.serial_text(mark)
        if bds is None and ("BdsDxe: loading" in text or "Booting from" in text):
            bds = time.time()
        i = text.find(FIRMWARE_BANNER)
        if i >= 0 and "second entry" in text[i:]:
            end = time.time()
            bds = bds or end
            return end - t0, ev["ts"] - t0, bds - ev["ts"], end - bds
        time.sleep(0.02)
    raise BenchError("no GRUB menu on the server's serial port within 300 s")


def firmware_figures():
    """firmware_boot_to_grub_s: a UEFI server VM powered on through the API until GRUB's menu
    from gadgetd's CD-ROM; reference: the same ISO on the server VM's own QEMU CD-ROM (IDE),
    the gadget's drive empty, everything else the same (the API's press, the ATX lines, the
    VM's start)."""
    sys.path.insert(0, os.path.join(HERE, "e2e"))
    import images
    iso = os.path.join(rigmod.BUILD, "bench-grub.iso")
    images.make_grub_iso(iso, 'set timeout=-1\necho "%s"\nmenuentry "first entry" { true }\n'
                         'menuentry "second entry" { true }\n' % FIRMWARE_BANNER)
    rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench-firmware"), port=rigmod.free_port(),
                     fresh_store=True, console_port=rigmod.free_port(), tls_port=rigmod.free_port(),
                     ipmi_port=rigmod.free_port())
    rig.boot()
    try:
        rig.start_server("uefi")
        with open(iso, "rb") as f:
            rig.api("PUT", "/api/images/bench-grub.iso", raw=f.read(),
                    headers={"Content-Type": "application/octet-stream"}, timeout=300)
        status, body = rig.api("PUT", "/api/media", {"image": "bench-grub.iso", "mode": "cdrom"})
        if status != 200:
            raise BenchError("insert: %s %s" % (status, body))
        gadget = [firmware_boot(rig) for _ in range(FIRMWARE_RUNS)]
        rig.api("DELETE", "/api/media")
        rig.server.extra_args = ["-drive", "file=%s,if=none,id=refcd,media=cdrom,readonly=on" % iso,
                                 "-device", "ide-cd,drive=refcd,bootindex=3"]
        ref = [firmware_boot(rig) for _ in range(FIRMWARE_RUNS)]
        rig.api("POST", "/api/power", {"action": "force-off"}, timeout=60)
    finally:
        rig.shutdown()

    def median(runs, i):
        return round(statistics.median(r[i] for r in runs), 2)
    g, r = median(gadget, 0), median(ref, 0)
    return {
        "firmware_boot_to_grub_s": {"value": g, "unit": "s", "runs": FIRMWARE_RUNS,
                                    "press_to_vm_s": median(gadget, 1), "vm_to_boot_s": median(gadget, 2),
                                    "boot_to_grub_s": median(gadget, 3)},
        "firmware_boot_to_grub_s_ref_qemu_cd": {"value": r, "unit": "s", "runs": FIRMWARE_RUNS,
                                                "press_to_vm_s": median(ref, 1), "vm_to_boot_s": median(ref, 2),
                                                "boot_to_grub_s": median(ref, 3)},
        "gadget_cd_vs_qemu_cd_ratio": {"value": round(g / r, 3), "unit": "ratio"},
    }


def print_firmware_figures(f):
    g, r = f["firmware_boot_to_grub_s"], f["firmware_boot_to_grub_s_ref_qemu_cd"]
    print("%-34s %10.2f %10.2f %8.2f   (UEFI, TCG; reference: the same ISO on QEMU's own CD)" % (
        "firmware_boot_to_grub_s", g["value"], r["value"], f["gadget_cd_vs_qemu_cd_ratio"]["value"]))
    for part in ("press_to_vm_s", "vm_to_boot_s", "boot_to_grub_s"):
        print("  %-32s %10.2f %10.2f" % (part, g[part], r[part]))


def print_script_figures(sc):
    print("%-34s %10.2f   (%d steps; slowest: %s)" % (
        "reinstall_rehearsal_s", sc["reinstall_rehearsal_s"]["value"], sc["reinstall_rehearsal_s"]["steps"],
        "; ".join(sc["reinstall_rehearsal_s"]["slowest"])))
    print("%-34s %10.3f %10.2f %8.3f   (%d steps; reference: GET /api/status round trip)" % (
        "script_step_overhead_ms", sc["script_step_overhead_ms"]["value"],
        sc["script_step_ref_status_rtt_ms"]["value"],
        sc["script_step_overhead_ms"]["value"] / max(sc["script_step_ref_status_rtt_ms"]["value"], 0.01),
        SCRIPT_STEPS))


def section_main(figures, show):
    """One section of the rig's figures alone (BENCH_ONLY), on a rig of its own."""
    rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench"), port=rigmod.free_port(),
                     fresh_store=True, ipmi_port=rigmod.free_port())
    rig.boot()
    try:
        rig.wait_api(30)
        result = figures(rig)
    finally:
        rig.shutdown()
    path = merge_figures(result)
    show(result)
    print("written to %s" % os.path.relpath(path))
    return 0


LOAD_REQUESTS = 200
LOAD_TEXT = ("the quick brown fox jumps over the lazy dog " * 5)[:200]


def footprint(rig):
    """What gadgetd costs on this rig: start to keyboard (against a shell composing the same
    gadget), peak and idle RSS after a burst of requests (against busybox httpd), and its CPU
    time for a fixed load: LOAD_REQUESTS GET /api/status from inside the guest, then
    LOAD_TEXT typed at the default pacing."""
    rig.wait_event({"source": "usb", "event": "enumerated"}, timeout=60)
    gadgetd, ref = [], []
    for _ in range(RUNS):
        stop_and_wait_removed(rig, "rig-stop")
        ref.append(time_to_keyboard(rig, "ref-compose up"))
        stop_and_wait_removed(rig, "ref-compose down")
        gadgetd.append(time_to_keyboard(rig, "rig-start"))
        rig.wait_api(30)
    for _ in range(50):
        rig.api("GET", "/api/status")
    rss = vm_hwm(rig, "cat /run/gadgetd.pid")
    rc, out = rig.sh("grep VmRSS /proc/$(cat /run/gadgetd.pid)/status")
    rss_now = int(out.split()[1])
    rig.sh("mkdir -p /tmp/www && echo ok > /tmp/www/index.html && httpd -p 8081 -h /tmp/www")
    rig.sh("for i in $(seq 50); do wget -q -O /dev/null http://127.0.0.1:8081/index.html; done")
    rss_ref = vm_hwm(rig, "pidof httpd")
    user, password = rig.credentials()
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    ticks = cpu_ticks(rig)
    t_load = guest_seconds(rig, "for i in $(seq %d); do wget -q -O /dev/null --header "
                                "'Authorization: Basic %s' http://127.0.0.1:8080/api/status; done"
                           % (LOAD_REQUESTS, auth))
    status, body = rig.api("POST", "/api/keys?wait=1", {"text": LOAD_TEXT}, timeout=300)
    if status != 200:
        raise rigmod.RigError("typing the load's text: %s %s" % (status, body))
    cpu_ms = (cpu_ticks(rig) - ticks) * 10
    return {"gadgetd": gadgetd, "ref": ref, "rss": rss, "rss_now": rss_now, "rss_ref": rss_ref,
            "cpu_ms": cpu_ms, "load_s": t_load}


def footprint_names(f, suffix):
    """The figures of footprint() under their bench.json names (SUFFIX: "" or "_arm64")."""
    return {
        "enumerate_ms" + suffix: {"value": round(statistics.median(f["gadgetd"]), 1), "unit": "ms"},
        "enumerate_ms%s_ref_configfs_shell" % suffix: {"value": round(statistics.median(f["ref"]), 1),
                                                       "unit": "ms"},
        "rss_idle_kib" + suffix: {"value": f["rss"], "unit": "KiB"},
        "rss_idle_kib%s_ref_busybox_httpd" % suffix: {"value": f["rss_ref"], "unit": "KiB"},
        "rss_current_kib" + suffix: {"value": f["rss_now"], "unit": "KiB"},
        "load_cpu_ms" + suffix: {"value": f["cpu_ms"], "unit": "ms",
                                 "load": "%d GET /api/status, %d characters typed" % (LOAD_REQUESTS, len(LOAD_TEXT))},
        "load_status_s" + suffix: {"value": round(f["load_s"], 2), "unit": "s"},
    }


def print_footprint(f, suffix):
    print("%-34s %10.1f %10.1f %8.2f   (median of %d; all: %s)" % (
        "enumerate_ms%s (start -> keyboard)" % suffix, statistics.median(f["gadgetd"]),
        statistics.median(f["ref"]), statistics.median(f["gadgetd"]) / statistics.median(f["ref"]), RUNS,
        ", ".join("%.0f" % v for v in f["gadgetd"])))
    print("%-34s %10d %10d %8.2f" % ("rss_idle_kib%s (VmHWM)" % suffix, f["rss"], f["rss_ref"],
                                     f["rss"] / f["rss_ref"]))
    print("%-34s %10d" % ("rss_current_kib%s (VmRSS, idle)" % suffix, f["rss_now"]))
    print("%-34s %10d   (%d GET /api/status in %.1f s, then %d characters typed)" % (
        "load_cpu_ms%s" % suffix, f["cpu_ms"], LOAD_REQUESTS, f["load_s"], len(LOAD_TEXT)))


def arm64_main():
    """The footprint on the arm64 rig (the Pi Zero 2 W's architecture, emulated), against the
    amd64 rig's in this same invocation: both guests run under TCG on this machine."""
    figures = {}
    for arch, suffix in (("amd64", ""), ("arm64", "_arm64")):
        rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench-" + arch), port=rigmod.free_port(),
                         fresh_store=True, arch=arch)
        rig.boot(timeout=300)
        try:
            f = footprint(rig)
        finally:
            rig.shutdown()
        figures[arch] = f
        print_footprint(f, suffix)
    merged = dict(footprint_names(figures["amd64"], ""), **footprint_names(figures["arm64"], "_arm64"))
    a, b = figures["amd64"], figures["arm64"]
    print("%-34s %10.2f %10.2f %10.2f   (arm64 / amd64: enumerate, RSS, CPU for the load)" % (
        "arm64_vs_amd64", statistics.median(b["gadgetd"]) / statistics.median(a["gadgetd"]),
        b["rss"] / a["rss"], b["cpu_ms"] / max(a["cpu_ms"], 1)))
    path = merge_figures(merged)
    print("written to %s" % os.path.relpath(path))
    return 0


def rig_main():
    rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench"), port=rigmod.free_port(),
                     fresh_store=True)
    rig.boot()
    try:
        start = footprint(rig)
        keyboard = keyboard_figures(rig)
        media = media_figures(rig)
        power = power_figures(rig)
        console = console_figures(rig)
        script = script_figures(rig)
        redfish = redfish_figures(rig)
        ipmi = ipmi_figures(rig)
    finally:
        rig.shutdown()

    figures = footprint_names(start, "")
    figures.update(keyboard)
    figures.update(media)
    figures.update(power)
    figures.update(console)
    figures.update(script)
    figures.update(redfish)
    figures.update(ipmi)
    path = merge_figures(figures)

    print("%-34s %10s %10s %8s" % ("figure", "gadgetd", "reference", "ratio"))
    print_footprint(start, "")
    k = keyboard
    print("%-34s %10.1f %10.1f %8.2f   (pacing %d ms; limit ~500 = 1000 reports/s)" % (
        "typing_cps_max", k["typing_cps_max"]["value"], k["typing_cps_ref_raw_hidg"]["value"],
        k["typing_cps_max"]["value"] / k["typing_cps_ref_raw_hidg"]["value"], k["typing_cps_max"]["pacing_ms"]))
    print("%-34s %10.1f" % ("typing_cps_default (20 ms)", k["typing_cps_default"]["value"]))
    print("%-34s %10.1f %10.1f %8.2f" % (
        "key_latency_p50_ms", k["key_latency_p50_ms"]["value"], k["key_latency_p50_ms_ref_raw_hidg"]["value"],
        k["key_latency_p50_ms"]["value"] / max(k["key_latency_p50_ms_ref_raw_hidg"]["value"], 0.1)))
    print("%-34s %10.1f" % ("key_latency_p99_ms", k["key_latency_p99_ms"]["value"]))
    m = media
    print("%-34s %10.1f %10.1f %8.3f   (MiB/s; upload_vs_dd_ratio)" % (
        "upload 1 GiB through the API", m["upload_mib_s"]["value"], m["upload_mib_s_ref_dd"]["value"],
        m["upload_vs_dd_ratio"]["value"]))
    print("%-34s %10d" % ("upload_rss_growth_kib", m["upload_rss_growth_kib"]["value"]))
    print("%-34s %10.1f %10.1f %8.3f   (MiB/s; media_read_vs_file_ratio)" % (
        "server reads the inserted image", m["media_read_mib_s"]["value"], m["media_read_mib_s_ref_file"]["value"],
        m["media_read_vs_file_ratio"]["value"]))
    p = power
    print("%-34s %10.1f %10.1f %8.2f   (reference: GET /api/status round trip)" % (
        "power_press_latency_ms", p["power_press_latency_ms"]["value"], p["power_ref_status_rtt_ms"]["value"],
        p["power_press_latency_ms"]["value"] / max(p["power_ref_status_rtt_ms"]["value"], 0.1)))
    print("%-34s %10.1f   (LED edge -> GET /api/power says so; includes 20 ms debounce and the poll)" % (
        "power_led_to_api_ms", p["power_led_to_api_ms"]["value"]))
    c = console
    print("%-34s %10.2f %10.2f %8.2f   (MiB/s; reference: cat /dev/ttyGS0 > file)" % (
        "console_mib_s_log", c["console_mib_s_log"]["value"], c["console_mib_s_log_ref_cat"]["value"],
        c["console_mib_s_log"]["value"] / c["console_mib_s_log_ref_cat"]["value"]))
    print("%-34s %10.2f %10.2f %8.2f   (MiB/s; reference: console_mib_s_log)" % (
        "console_mib_s_ws", c["console_mib_s_ws"]["value"], c["console_mib_s_log"]["value"],
        c["console_mib_s_ws"]["value"] / c["console_mib_s_log"]["value"]))
    print("%-34s %10.1f" % ("console_cpu_ms_per_mib", c["console_cpu_ms_per_mib"]["value"]))
    print("%-34s %10.1f %10.1f %8.2f   (p99 %.1f; reference: GET /api/status round trip)" % (
        "console_echo_p50_ms", c["console_echo_p50_ms"]["value"], c["console_echo_ref_status_rtt_ms"]["value"],
        c["console_echo_p50_ms"]["value"] / max(c["console_echo_ref_status_rtt_ms"]["value"], 0.1),
        c["console_echo_p99_ms"]["value"]))
    print_script_figures(script)
    print_redfish_figures(redfish)
    print_ipmi_figures(ipmi)
    print("reference: enumerate = shell script writing configfs; rss = busybox httpd; "
          "typing and latency = shell writing reports to /dev/hidg0; upload = dd to the same "
          "filesystem; media read = dd of the image file on the Pi side")
    print("written to %s" % os.path.relpath(path), flush=True)
    print()
    return firmware_main() or arm64_main()


def firmware_main():
    """The real-firmware figures alone, on a rig and server VM of their own."""
    try:
        figures = firmware_figures()
    except (BenchError, rigmod.RigError) as e:
        print("bench: firmware: %s" % e, file=sys.stderr)
        return 1
    path = merge_figures(figures)
    print("%-34s %10s %10s %8s" % ("figure", "gadgetd", "reference", "ratio"))
    print_firmware_figures(figures)
    print("written to %s" % os.path.relpath(path), flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
