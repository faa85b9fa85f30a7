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

Prints a table and merges the figures into build/bench.json as {"name": {"value", "unit"}}.
"""
import base64
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "vm"))
import rig as rigmod  # noqa: E402
import time  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


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


def main():
    rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench"), port=rigmod.free_port(),
                     fresh_store=True)
    rig.boot()
    try:
        rig.wait_event({"source": "usb", "event": "enumerated"}, timeout=30)
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
        keyboard = keyboard_figures(rig)
        media = media_figures(rig)
        power = power_figures(rig)
        console = console_figures(rig)
    finally:
        rig.shutdown()

    figures = {
        "enumerate_ms": {"value": round(statistics.median(gadgetd), 1), "unit": "ms"},
        "enumerate_ms_ref_configfs_shell": {"value": round(statistics.median(ref), 1), "unit": "ms"},
        "rss_idle_kib": {"value": rss, "unit": "KiB"},
        "rss_idle_kib_ref_busybox_httpd": {"value": rss_ref, "unit": "KiB"},
        "rss_current_kib": {"value": rss_now, "unit": "KiB"},
    }
    path = os.path.join(rigmod.BUILD, "bench.json")
    try:
        with open(path) as f:
            merged = json.load(f)
    except (OSError, ValueError):
        merged = {}
    figures.update(keyboard)
    figures.update(media)
    figures.update(power)
    figures.update(console)
    merged.update(figures)
    with open(path + ".tmp", "w") as f:
        json.dump(merged, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)

    print("%-34s %10s %10s %8s" % ("figure", "gadgetd", "reference", "ratio"))
    print("%-34s %10.1f %10.1f %8.2f   (median of %d; all: %s)" % (
        "enumerate_ms (start -> keyboard)", figures["enumerate_ms"]["value"],
        figures["enumerate_ms_ref_configfs_shell"]["value"],
        statistics.median(gadgetd) / statistics.median(ref), RUNS,
        ", ".join("%.0f" % v for v in gadgetd)))
    print("%-34s %10d %10d %8.2f" % ("rss_idle_kib (VmHWM)", rss, rss_ref, rss / rss_ref))
    print("%-34s %10d" % ("rss_current_kib (VmRSS, idle)", rss_now))
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
    print("reference: enumerate = shell script writing configfs; rss = busybox httpd; "
          "typing and latency = shell writing reports to /dev/hidg0; upload = dd to the same "
          "filesystem; media read = dd of the image file on the Pi side")
    print("written to %s" % os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
