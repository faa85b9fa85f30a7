#!/usr/bin/env python3
"""make bench: figures measured in the VM rig, each beside a reference run in the same boot.

  enumerate_ms   gadgetd started -> the server's input layer has the keyboard (median of N)
                 reference: the same gadget composed by a shell script writing configfs
  rss_idle_kib   gadgetd's peak RSS (VmHWM) after start-up and a burst of API requests
                 reference: busybox httpd serving a file in the same guest
  rss_current_kib  gadgetd's resident set (VmRSS) once idle again

Prints a table and merges the figures into build/bench.json as {"name": {"value", "unit"}}.
"""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "vm"))
import rig as rigmod  # noqa: E402

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


def main():
    rig = rigmod.Rig(vm_dir=os.path.join(rigmod.BUILD, "vm-bench"), port=rigmod.free_port())
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
    print("reference: enumerate = shell script writing configfs; rss = busybox httpd")
    print("written to %s" % os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
