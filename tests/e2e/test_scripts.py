"""Reinstall scripts, end to end: saved, checked with the step at fault, run as one job whose
steps drive the real keyboard, drive, console and power lines, and on failure or cancellation
leave no key held and the drive as the script says."""
import os
import tempfile
import time
import urllib.parse

from e2e import expect
from images import make_demo_installer, make_iso
from test_keyboard import decode, held, keys_after
from test_console import wait_shell
from test_media import upload
from test_power import force_state

WORK = tempfile.mkdtemp(prefix="gadgetd-scripts-")
ISO = os.path.join(WORK, "script.iso")
SHA = {}


def put(rig, name, doc):
    return rig.api("PUT", "/api/scripts/" + urllib.parse.quote(name, safe=""), doc)


def run(rig, name, vars=None):
    return rig.api("POST", "/api/scripts/%s/run" % name, {"vars": vars} if vars is not None else None)


def wait_job(rig, job_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, job = rig.api("GET", "/api/jobs/%d" % job_id)
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError("job %d still %s after %ds" % (job_id, job["state"], timeout))


def ensure_iso(rig):
    if not SHA:
        SHA["iso"] = make_iso(ISO, {"SCRIPT.TXT": b"inserted by a script\n"})
        st, body = upload(rig, ISO, "script.iso")
        expect(st == 201, (st, body))


def test_save_list_get_replace_delete(rig):
    ensure_iso(rig)
    doc = {"description": "a demo", "vars": {"image": "script.iso"},
           "steps": [{"media": "insert", "image": "${image}"}, {"log": "hello ${who}"}]}
    st, body = put(rig, "demo-1", doc)
    expect(st == 201 and body == {"name": "demo-1", "steps": 2}, (st, body))
    st, body = put(rig, "demo-1", doc)
    expect(st == 200, "replacing: %s" % st)
    st, body = rig.api("GET", "/api/scripts/demo-1")
    expect(st == 200 and body == doc, body)
    st, body = rig.api("GET", "/api/scripts")
    expect({"name": "demo-1", "description": "a demo", "steps": 2} in body["scripts"], body)
    # The step at fault, by index, and nothing saved.
    bad = dict(doc, steps=[{"log": "x"}, {"power": "on"}, {"media": "insert", "image": "gone.iso"}])
    st, body = put(rig, "demo-2", bad)
    expect(st == 400 and body["error"]["code"] == "bad_script" and body["error"]["step"] == 2 and
           "gone.iso" in body["error"]["message"], body)
    expect(rig.api("GET", "/api/scripts/demo-2")[0] == 404, "a refused script was saved")
    st, body = rig.api("DELETE", "/api/scripts/demo-1")
    expect(st == 200 and body["deleted"] is True, body)
    expect(rig.api("GET", "/api/scripts/demo-1")[0] == 404, "not deleted")


def test_a_run_drives_drive_console_and_keyboard(rig):
    ensure_iso(rig)
    rig.api("DELETE", "/api/media")
    # (Inserting a CD where a disk was re-enumerates the gadget: the server's shell on the
    # console restarts, so the console steps come first.)
    doc = {"vars": {"image": "script.iso"},
           "steps": [{"console": "echo script-$((6*7))-${hostname}\n"},
                     {"expect": "^script-42-node7", "timeout": 20},
                     {"type": "hi ${hostname}\n", "layout": "us"},
                     {"media": "insert", "image": "${image}", "mode": "cdrom", "name": "installer"},
                     {"wait": "200ms"},
                     {"log": "done with ${hostname}"}]}
    expect(put(rig, "drive-all", doc)[0] in (200, 201), "saving")
    wait_shell(rig)  # the tests before may have re-enumerated the gadget: its getty restarts
    mark = len(rig.events())
    st, job = run(rig, "drive-all", {"hostname": "node7"})
    expect(st == 202 and job["kind"] == "script", (st, job))
    job = wait_job(rig, job["id"])
    expect(job["state"] == "done" and job["error"] is None, job)
    expect(job["script"] == "drive-all" and len(job["steps"]) == 6, job)
    expect(all(s["state"] == "done" and s["attempts"] == 1 and s["duration_ms"] >= 0 for s in job["steps"]),
           job["steps"])
    expect(job["steps"][3]["name"] == "installer", job["steps"][3])
    expect(job["steps"][4]["duration_ms"] >= 200, job["steps"][4])
    expect("script-42-node7" in job["steps"][1]["message"], job["steps"][1])
    # The server side: the CD arrived, the text was typed.
    rig.wait_event({"source": "disk", "event": "media", "sha256": SHA["iso"]}, after=mark, timeout=30)
    expect(decode(rig, mark, "us") == "hi node7\n", "typed: %r" % decode(rig, mark, "us"))
    media = rig.api("GET", "/api/media")[1]
    expect(media["image"] == "script.iso", media)
    rig.api("DELETE", "/api/media")


def test_failure_names_the_step_shows_the_console_and_ejects(rig):
    ensure_iso(rig)
    doc = {"steps": [{"media": "insert", "image": "script.iso"},
                     {"console": "echo before-the-failure\n"},
                     {"expect": "never-printed", "timeout": 2, "retries": 1, "retry_delay": "500ms"},
                     {"log": "not reached"}]}
    put(rig, "fails", doc)
    t = time.time()
    st, job = run(rig, "fails")
    job = wait_job(rig, job["id"])
    expect(job["state"] == "failed" and job["failed_step"] == 2, job)
    expect(job["error"]["code"] == "expect_timeout" and "step 2 (expect)" in job["error"]["message"], job["error"])
    expect(job["steps"][2]["attempts"] == 2 and job["steps"][3]["state"] == "pending", job["steps"])
    expect(time.time() - t >= 4.5, "two attempts of 2 s and a pause: %.1fs" % (time.time() - t))
    expect("before-the-failure" in job["console_tail"], job["console_tail"])
    expect(rig.api("GET", "/api/media")[1]["inserted"] is False, "the failure left the drive full")


def test_cancel_mid_keys_releases_everything_keeps_media_as_told(rig):
    ensure_iso(rig)
    doc = {"on_failure": {"media": "keep"},
           "steps": [{"media": "insert", "image": "script.iso"},
                     {"keys": "repeat 200 every 100ms: shift+a"}]}
    put(rig, "long-keys", doc)
    mark = len(rig.events())
    st, job = run(rig, "long-keys")
    time.sleep(2)
    st, second = run(rig, "long-keys")
    expect(st == 409 and second["error"]["code"] == "script_busy", (st, second))
    st, cancelled = rig.api("DELETE", "/api/jobs/%d" % job["id"])
    expect(st == 200, (st, cancelled))
    job = wait_job(rig, job["id"])
    expect(job["state"] == "cancelled" and job["steps"][1]["state"] == "cancelled", job)
    events = keys_after(rig, mark, settle=1)
    expect(len(events) > 4 and held(events) == set(), "held after the cancel: %s" % held(events))
    expect(rig.api("GET", "/api/media")[1]["image"] == "script.iso", "the medium was not kept")
    rig.api("DELETE", "/api/media")


def test_run_time_variables_are_checked_before_anything_runs(rig):
    doc = {"steps": [{"log": "start"}, {"media": "insert", "image": "${image}"}]}
    put(rig, "needs-vars", doc)
    jobs_before = len(rig.api("GET", "/api/jobs")[1]["jobs"])
    st, body = run(rig, "needs-vars")
    expect(st == 400 and body["error"]["step"] == 1 and "${image}" in body["error"]["message"], body)
    st, body = run(rig, "needs-vars", {"image": "not-there.iso"})
    expect(st == 400 and body["error"]["step"] == 1 and "not-there.iso" in body["error"]["message"], body)
    expect(len(rig.api("GET", "/api/jobs")[1]["jobs"]) == jobs_before, "a refused run made a job")


def test_power_step_waits_for_the_led(rig):
    force_state(rig, False)
    put(rig, "power-on", {"steps": [{"power": "on", "wait_for": "on", "timeout": 30}]})
    st, job = run(rig, "power-on")
    job = wait_job(rig, job["id"], timeout=60)
    expect(job["state"] == "done", job)
    expect(rig.api("GET", "/api/power")[1]["state"] == "on", "not on")
    force_state(rig, False)


def seed_device(rig):
    """The answer-file disk as the server sees it: the gadget's second LUN, by its model."""
    rc, out = rig.sh("for d in /sys/block/sd*; do grep -q 'Answer Files' $d/device/model 2>/dev/null "
                     "&& echo /dev/${d##*/}; done; true")
    expect(out.strip().startswith("/dev/sd"), "no answer-file disk on the server: %r" % out)
    return out.split()[0]


def test_seed_disk_carries_the_answer_files(rig):
    files = {"user-data": "#cloud-config\nautoinstall:\n  identity:\n    hostname: ${hostname}\n",
             "meta-data": "instance-id: ${hostname}\n"}
    put(rig, "seed", {"steps": [{"seed": {"label": "CIDATA", "files": files}}]})
    st, job = run(rig, "seed", {"hostname": "seed7"})
    job = wait_job(rig, job["id"])
    expect(job["state"] == "done" and "CIDATA with 2 files" in job["steps"][0]["message"], job)
    dev = seed_device(rig)
    rc, out = rig.sh("MTOOLS_SKIP_CHECK=1 mlabel -s -i %s ::; mkdir -p /mnt/seed && "
                     "mount -t vfat -o ro %s /mnt/seed && ls /mnt/seed && cat /mnt/seed/user-data; "
                     "umount /mnt/seed" % (dev, dev))
    expect(rc == 0 and "CIDATA" in out and "meta-data" in out and "hostname: seed7" in out, out)
    # Read-only to the server, whatever it tries.
    rc, out = rig.sh("mount -t vfat %s /mnt/seed 2>&1 && touch /mnt/seed/x 2>&1; umount /mnt/seed" % dev)
    expect("Read-only" in out or "read-only" in out or "write-protected" in out, out)
    put(rig, "seed-eject", {"steps": [{"seed": "eject"}]})
    st, job = run(rig, "seed-eject")
    expect(wait_job(rig, job["id"])["state"] == "done", "ejecting the answer files")
    rc, out = rig.sh("mount -t vfat -o ro %s /mnt/seed 2>&1; echo rc=$?" % dev)
    expect("rc=0" not in out, "the answer-file disk still has a medium: %s" % out)


def firmware(rig, armed):
    rig.sh("mkdir -p /run/firmware && %s /run/firmware/enabled" % ("touch" if armed else "rm -f"))


def firmware_events(rig, mark, event=None):
    return [e for e in rig.events()[mark:] if e.get("source") == "firmware" and
            (event is None or e.get("event") == event)]


def test_reinstall_rehearsal_from_a_running_server(rig):
    """The rig's reinstall-demo: one request, from a server that is on and running, to the
    installed system's login prompt, with the firmware seeing each thing happen."""
    scripts = [s["name"] for s in rig.api("GET", "/api/scripts")[1]["scripts"]]
    expect("reinstall-demo" in scripts, "the rig ships reinstall-demo: %s" % scripts)
    # The rig ships the demo installer too, but the media tests empty the store before this.
    if rig.api("GET", "/api/images/demo-installer.iso")[0] == 404:
        iso = os.path.join(WORK, "demo-installer.iso")
        make_demo_installer(iso)
        st, body = upload(rig, iso, "demo-installer.iso")
        expect(st == 201, (st, body))
    force_state(rig, True)
    firmware(rig, True)
    try:
        mark = len(rig.events())
        st, job = run(rig, "reinstall-demo", {"hostname": "node42"})
        expect(st == 202, (st, job))
        job = wait_job(rig, job["id"], timeout=240)
        expect(job["state"] == "done", job)
        expect(all(s["state"] == "done" and s["duration_ms"] >= 0 for s in job["steps"]), job["steps"])
        print("#   rehearsal: %.1fs, %s" % (job["duration_ms"] / 1000.0, ", ".join(
            "%s %d ms" % (s.get("name", s["kind"]), s["duration_ms"]) for s in job["steps"])), flush=True)
        installed = firmware_events(rig, mark, "installed")
        expect(len(installed) == 1 and installed[0]["image"] == "demo-installer-1" and
               installed[0]["hostname"] == "node42", installed)
        seed = firmware_events(rig, mark, "seed")
        expect(seed and seed[0]["found"] and seed[0]["label"] == "CIDATA" and seed[0]["hostname"] == "node42", seed)
        expect(firmware_events(rig, mark, "selected")[0]["entry"] == "cdrom", firmware_events(rig, mark))
        presses = [e.get("held_ms", 0) for e in rig.events()[mark:]
                   if e.get("source") == "atx" and e.get("event") == "power_button"]
        expect(len(presses) == 2 and presses[0] > presses[1], "a long press, then a short one: %s" % presses)
        expect(rig.api("GET", "/api/media")[1]["inserted"] is False, "the installer was not ejected")
    finally:
        firmware(rig, False)
        force_state(rig, False)


def test_rehearsal_with_the_wrong_boot_key_fails_at_the_menu(rig):
    """The firmware never sees F12: it boots its disk, the script's wait for the boot menu
    times out, and the job says so, with the console around it; nothing stays inserted."""
    force_state(rig, True)
    firmware(rig, True)
    try:
        mark = len(rig.events())
        st, job = run(rig, "reinstall-demo", {"hostname": "node43", "boot_menu_key": "f11"})
        job = wait_job(rig, job["id"], timeout=240)
        step = [s.get("name") for s in job["steps"]].index("boot menu") if job["state"] == "failed" else None
        expect(job["state"] == "failed" and job["failed_step"] == step, job)
        expect(job["error"]["code"] == "expect_timeout" and "(expect)" in job["error"]["message"], job["error"])
        expect("press F12" in job["console_tail"], job["console_tail"])
        expect(firmware_events(rig, mark, "menu") == [], "the menu opened without F12")
        expect(rig.api("GET", "/api/media")[1]["inserted"] is False, "the failure left the installer in")
        events = keys_after(rig, mark, settle=0.5)
        expect(held(events) == set(), "held: %s" % held(events))
    finally:
        firmware(rig, False)
        force_state(rig, False)
