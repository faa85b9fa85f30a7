"""The server's simulated firmware (tests/vm/firmware.c), end to end: powered on through the
API's ATX lines, it shows its boot menu when F12 is hammered over the real USB keyboard, boots
the installer from the gadget's drive, reads the answer file from the gadget's second disk and
the boot parameters typed at its prompt, "installs" onto the server's disk and shows a login
prompt on the serial console; its events go to server.log. Each test arms it and leaves it
disarmed, the server off and the drive empty, so other modules never see it.

The server is switched on, off and reset through atx-sim's commands (the same power state the
firmware follows), not by gadgetd pressing its buttons: test_power, which runs later, checks
that no button was pressed since the guest booted."""
import json
import os
import tempfile
import time

from e2e import expect
from images import DEMO_INSTALLER_ID, make_demo_installer
from test_console import output_after
from test_media import upload, wait_media
from test_power import force_state, sim
from test_scripts import put, run, wait_job

WORK = tempfile.mkdtemp(prefix="gadgetd-firmware-")
ISO = os.path.join(WORK, "demo-installer.iso")
IMAGE = "demo-installer.iso"
MARKER = "/srv/server-disk/installed"
SHA = {}


def arm(rig, armed=True):
    rc, out = rig.sh("mkdir -p /run/firmware && %s /run/firmware/enabled" %
                     ("touch" if armed else "rm -f"))
    expect(rc == 0, out)


def fw_events(rig, mark, event=None):
    return [e for e in rig.events()[mark:] if e.get("source") == "firmware" and
            (event is None or e.get("event") == event)]


def wait_fw(rig, mark, event, timeout=30, **fields):
    return rig.wait_event(dict(fields, source="firmware", event=event), after=mark, timeout=timeout)[1]


def console_end(rig):
    st, body = rig.api("GET", "/api/status")
    expect(st == 200, body)
    return body["console"]["next"]


def power(rig, action):
    """"on", "off" or "reset", as the board's own commands (no button event)."""
    if action == "reset":
        sim(rig, "echo reset > /run/atx-sim/command")
    else:
        force_state(rig, action == "on")


def keys(rig, body):
    st, reply = rig.api("POST", "/api/keys", body)
    expect(st in (200, 202), (body, st, reply))
    return reply


def erase_disk(rig):
    rig.sh("rm -f %s" % MARKER)


def mounts(rig):
    return rig.sh("grep /run/firmware /proc/mounts; true")[1].strip()


def ensure_installer(rig):
    if not SHA:
        SHA["iso"] = make_demo_installer(ISO)
    st, body = upload(rig, ISO, IMAGE)
    expect(st in (200, 201), (st, body))


def insert_installer(rig):
    mark = len(rig.events())
    st, body = rig.api("PUT", "/api/media", {"image": IMAGE, "mode": "cdrom"})
    expect(st == 200 and body["inserted"], (st, body))
    wait_media(rig, mark, SHA["iso"])


def cleanup(rig, job=None):
    """Disarmed, off, drive empty, no key job left running; the firmware left nothing mounted."""
    if job is not None and job.get("id") is not None:
        rig.api("DELETE", "/api/jobs/%d" % job["id"])
    arm(rig, False)
    force_state(rig, False)
    rig.api("DELETE", "/api/media")
    rig.api("DELETE", "/api/images/" + IMAGE)  # other modules count the store's images
    time.sleep(0.3)  # the firmware's next poll sees the board off
    expect(mounts(rig) == "", "the firmware left mounts: %s" % mounts(rig))


def test_the_rig_ships_the_demo_installer_and_its_script(rig):
    st, image = rig.api("GET", "/api/images/demo-installer.iso")
    expect(st == 200 and image["kind"] == "iso", (st, image))
    st, script = rig.api("GET", "/api/scripts/reinstall-demo")
    expect(st == 200 and len(script["steps"]) > 10, (st, script))


def test_power_on_without_f12_boots_the_internal_disk(rig):
    force_state(rig, False)
    erase_disk(rig)
    arm(rig)
    try:
        mark, con = len(rig.events()), console_end(rig)
        power(rig, "on")
        on = wait_fw(rig, mark, "power_on")
        boot = wait_fw(rig, mark, "boot", timeout=30)
        expect(boot["from"] == "disk" and boot["os"] is None, boot)
        expect(boot["ts"] - on["ts"] >= 4.5, "booted %.1fs after power-on: the menu window is 5 s" %
               (boot["ts"] - on["ts"]))
        expect(fw_events(rig, mark, "menu") == [], "a menu without F12")
        output_after(rig, con, "no OS")
        text = output_after(rig, con, "press F12 for boot menu")
        expect("login:" not in text, text)
        mark = len(rig.events())
        force_state(rig, False)
        wait_fw(rig, mark, "power_off", timeout=10)
    finally:
        cleanup(rig)


def test_f12_menu_installs_from_the_usb_cd_then_the_disk_boots_it(rig):
    ensure_installer(rig)
    force_state(rig, False)
    erase_disk(rig)
    insert_installer(rig)
    arm(rig)
    job = None
    try:
        mark, con = len(rig.events()), console_end(rig)
        # Hammered from before the power-on, as a script would.
        job = keys(rig, {"macro": "repeat 40 every 200ms: f12"})
        time.sleep(0.5)
        power(rig, "on")
        menu = wait_fw(rig, mark, "menu", timeout=20)
        expect(menu["entries"] == ["cdrom", "disk"], menu)
        moves = "" if menu["selected"] == "cdrom" else "up; "
        keys(rig, {"macro": moves + "enter"})  # played once the hammering is over
        expect(wait_fw(rig, mark, "selected", timeout=30)["entry"] == "cdrom", fw_events(rig, mark))
        expect(len(fw_events(rig, mark, "menu")) == 1, "F12 after the menu opened it again")
        boot = wait_fw(rig, mark, "boot", timeout=30)
        expect(boot["from"] == "cdrom" and boot["image"] == DEMO_INSTALLER_ID, boot)
        seed = wait_fw(rig, mark, "seed", timeout=20)
        expect(seed["found"] is False, "no answer-file disk was inserted: %s" % seed)
        wait_fw(rig, mark, "prompt", timeout=20)
        output_after(rig, con, "boot: ")
        st, reply = rig.api("POST", "/api/keys?wait=1", {"text": "auto hostname=demo\n", "layout": "us"})
        expect(st == 200, (st, reply))
        params = wait_fw(rig, mark, "boot_params", timeout=20)
        expect(params["params"] == "auto hostname=demo", params)
        installed = wait_fw(rig, mark, "installed", timeout=30)
        expect(installed["image"] == DEMO_INSTALLER_ID and installed["hostname"] == "demo" and
               installed["params"] == "auto hostname=demo", installed)
        wait_fw(rig, mark, "login", timeout=20, hostname="demo")
        output_after(rig, con, "demo login: ")
        expect(fw_events(rig, mark, "boot_failed") == [], fw_events(rig, mark))
        rc, out = rig.sh("cat %s; echo" % MARKER)  # rig.sh needs whole lines
        expect(rc == 0 and json.loads(out) == {"image": DEMO_INSTALLER_ID, "hostname": "demo",
                                               "params": "auto hostname=demo"}, out)
        expect(mounts(rig) == "", "the installer's CD is still mounted: %s" % mounts(rig))
        # Off, on again without F12: the installed OS.
        mark = len(rig.events())
        power(rig, "off")
        wait_fw(rig, mark, "power_off", timeout=10)
        power(rig, "on")
        boot = wait_fw(rig, mark, "boot", timeout=30)
        expect(boot["from"] == "disk" and boot["os"] == DEMO_INSTALLER_ID and boot["hostname"] == "demo",
               boot)
        wait_fw(rig, mark, "login", timeout=10, hostname="demo")
        expect(fw_events(rig, mark, "menu") == [], "a menu without F12")
    finally:
        cleanup(rig, job)
        erase_disk(rig)


def test_power_off_mid_install_aborts_and_unmounts(rig):
    ensure_installer(rig)
    force_state(rig, False)
    erase_disk(rig)
    insert_installer(rig)
    arm(rig)
    job = None
    try:
        mark = len(rig.events())
        power(rig, "on")
        wait_fw(rig, mark, "power_on")
        job = keys(rig, {"macro": "f12; wait 1s; up; enter"})
        wait_fw(rig, mark, "prompt", timeout=30)
        expect("/run/firmware/mnt/cd" in mounts(rig), "the CD is not mounted at the prompt")
        force_state(rig, False)
        wait_fw(rig, mark, "power_off", timeout=10)
        expect(mounts(rig) == "", "still mounted after power-off: %s" % mounts(rig))
        rc, out = rig.sh("cat %s; echo; [ -e %s ]" % (MARKER, MARKER))
        expect(rc != 0, "installed although powered off at the prompt: %s" % out)
        expect(fw_events(rig, mark, "boot_params") == [], fw_events(rig, mark))
    finally:
        cleanup(rig, job)


def test_reset_starts_over(rig):
    """The reset button while on: what runs is abandoned and the firmware POSTs again."""
    force_state(rig, False)
    erase_disk(rig)
    arm(rig)
    job = None
    try:
        mark, con = len(rig.events()), console_end(rig)
        power(rig, "on")
        wait_fw(rig, mark, "power_on")
        job = keys(rig, {"macro": "f12"})
        wait_fw(rig, mark, "menu", timeout=10)
        power(rig, "reset")
        reset = wait_fw(rig, mark, "reset", timeout=10)
        boot = wait_fw(rig, mark, "boot", timeout=30)
        expect(boot["from"] == "disk" and boot["ts"] - reset["ts"] >= 4.5, (reset, boot))
        expect(len(fw_events(rig, mark, "power_on")) == 1 and fw_events(rig, mark, "selected") == [],
               fw_events(rig, mark))
        text = output_after(rig, con, "no OS")
        expect(text.count("press F12 for boot menu") == 2, text)
    finally:
        cleanup(rig, job)


def test_script_installs_with_the_answer_file_disk(rig):
    """A reinstall script like the one in docs/API.md, with a CIDATA answer-file disk: the
    hostname comes from its user-data, since the boot parameters give none. The test powers the
    server on once the script has inserted the installer, while the script hammers F12."""
    ensure_installer(rig)
    force_state(rig, False)
    erase_disk(rig)
    arm(rig)
    job = None
    user_data = ("#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: ${hostname}\n"
                 "    username: admin\n")
    doc = {"vars": {"image": IMAGE},
           "steps": [{"media": "eject"},
                     {"seed": {"label": "CIDATA", "files": {"user-data": user_data,
                                                            "meta-data": "instance-id: ${hostname}\n"}}},
                     {"media": "insert", "image": "${image}", "mode": "cdrom"},
                     {"keys": "repeat 60 every 200ms: f12", "name": "boot menu"},
                     {"keys": "down; enter", "name": "USB CD"},
                     {"expect": "boot: $", "timeout": 60},
                     {"type": "auto\n", "layout": "us"},
                     {"expect": "login: $", "timeout": 120, "name": "installed"},
                     {"media": "eject"},
                     {"seed": "eject"}]}
    try:
        st, body = put(rig, "fw-reinstall", doc)
        expect(st in (200, 201), (st, body))
        mark = len(rig.events())
        st, job = run(rig, "fw-reinstall", {"hostname": "seeded7"})
        expect(st == 202, (st, job))
        wait_media(rig, mark, SHA["iso"])
        power(rig, "on")
        done = wait_job(rig, job["id"], timeout=240)
        expect(done["state"] == "done", done)
        seed = wait_fw(rig, mark, "seed", timeout=5)
        expect(seed["found"] is True and seed["label"] == "CIDATA" and seed["file"] == "user-data" and
               seed["hostname"] == "seeded7", seed)
        installed = wait_fw(rig, mark, "installed", timeout=5)
        expect(installed["hostname"] == "seeded7" and installed["params"] == "auto" and
               installed["image"] == DEMO_INSTALLER_ID, installed)
        expect(len(fw_events(rig, mark, "menu")) == 1 and
               wait_fw(rig, mark, "selected", timeout=1)["entry"] == "cdrom", fw_events(rig, mark))
    finally:
        cleanup(rig, job)
        put(rig, "fw-seed-eject", {"steps": [{"seed": "eject"}]})
        st, eject = run(rig, "fw-seed-eject")
        if st == 202:
            wait_job(rig, eject["id"])
        for name in ("fw-reinstall", "fw-seed-eject"):
            rig.api("DELETE", "/api/scripts/" + name)
        erase_disk(rig)


def test_answer_files_give_the_hostname(rig):
    """Each installer's answer file, as the firmware reads it (firmware --seed DIR)."""
    cases = {
        "ks.cfg": ("lang en_US.UTF-8\nnetwork --bootproto=dhcp --device=link --hostname=rocky9 --activate\n",
                   "rocky9"),
        "user-data": ("#cloud-config\nautoinstall:\n  version: 1\n  identity:\n    hostname: 'ubu24'\n",
                      "ubu24"),
        "preseed.cfg": ("d-i debian-installer/locale string en_US\nd-i netcfg/get_hostname string deb12\n",
                        "deb12"),
        "autounattend.xml": ("<unattend><settings><component><ComputerName>WIN-7</ComputerName>"
                             "</component></settings></unattend>\n", "WIN-7"),
    }
    for name, (text, hostname) in cases.items():
        d = "/tmp/fw-seed/" + name.replace(".", "-")
        rig.sh("rm -rf %s && mkdir -p %s" % (d, d))
        rig.write_file("%s/%s" % (d, name), text)
        rc, out = rig.sh("firmware --seed %s" % d)
        expect(rc == 0 and json.loads(out) == {"file": name, "hostname": hostname}, (name, out))
    rc, out = rig.sh("mkdir -p /tmp/fw-seed/none && firmware --seed /tmp/fw-seed/none")
    expect(rc == 0 and json.loads(out) == {"file": None, "hostname": None}, out)
    rig.sh("rm -rf /tmp/fw-seed")


def test_disarmed_it_stays_silent(rig):
    force_state(rig, False)
    arm(rig, False)
    try:
        mark, con = len(rig.events()), console_end(rig)
        power(rig, "on")
        keys(rig, {"macro": "repeat 10 every 200ms: f12"})
        time.sleep(7)  # longer than the menu window
        expect(fw_events(rig, mark) == [], fw_events(rig, mark))
        st, body = rig.api("GET", "/api/console?since=%d" % con)
        expect(st == 200 and "F12" not in body["data"], body)
    finally:
        cleanup(rig)
