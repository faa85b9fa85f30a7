"""Real firmware on the server side (GADGETD_SERVER=uefi|bios): a server VM running OVMF or
SeaBIOS that reaches gadgetd only through USB (tests/vm/server_vm.py). Its power is the ATX
lines, its keyboard, drive and serial port are the gadget's, and what it prints goes to
server-serial.log. Each test starts from whatever the one before left: it powers the server
as it needs.

SeaBIOS looks at the first interface of a composite device alone: with the default order
(keyboard first) it takes the keyboard and offers no drive, so the BIOS tests that boot the
gadget's drive list mass_storage first ([gadget] functions), and the BIOS key tests drive a
GRUB on the server's internal disk."""
import os
import secrets
import subprocess
import tempfile
import time

from e2e import expect, restart
import images

WORK = tempfile.mkdtemp(prefix="gadgetd-fw-")
BANNER_CD = "GADGETD-GRUB-ON-THE-GADGET-DRIVE"
BANNER_DISK = "GADGETD-GRUB-ON-THE-INTERNAL-DISK"
SETUP_TEXT = {"uefi": "Boot Manager", "bios": "Select boot device"}
DRIVE_FIRST = "[gadget]\nfunctions = mass_storage, keyboard, acm\n"


def grub_config(banner):
    return ('set timeout=-1\n'
            'echo "%s"\n'
            'menuentry "first entry" { echo "ENTRY ONE CHOSEN"; sleep 600 }\n'
            'menuentry "second entry" { echo "ENTRY TWO CHOSEN"; sleep 600 }\n' % banner)


def iso(name, banner):
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        images.make_grub_iso(path, grub_config(banner))
    return path


def firmware(rig):
    return rig.server.firmware


def server_events(rig, mark, event):
    return [e for e in rig.events()[mark:] if e.get("source") == "server-vm" and e["event"] == event]


def power(rig, action, timeout=60):
    status, body = rig.api("POST", "/api/power", {"action": action}, timeout=timeout)
    expect(status == 200, "power %s: %s %s" % (action, status, body))
    return body


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("not within %ds: %s" % (timeout, what))


def configured(rig):
    return rig.api("GET", "/api/gadget")[1].get("configured")


def off(rig):
    """The server off (a forced off if need be), its VM ended."""
    if rig.api("GET", "/api/power")[1]["state"] == "on":
        power(rig, "force-off")
    wait_for("the server VM ends", lambda: not rig.server.running)


def gadget_order(rig, drive_first):
    """gadgetd composed with the drive first (for SeaBIOS to boot it) or the keyboard first."""
    listed = rig.api("GET", "/api/gadget")[1]["functions"]
    if (listed[0] == "mass_storage") != drive_first:
        restart(rig, rig.config(DRIVE_FIRST) if drive_first else None)


def insert(rig, path, mode):
    name = os.path.basename(path)
    if rig.api("GET", "/api/images/" + name)[0] != 200:
        with open(path, "rb") as f:
            status, body = rig.api("PUT", "/api/images/" + name, raw=f.read(),
                                   headers={"Content-Type": "application/octet-stream"})
        expect(status == 201, "upload %s: %s %s" % (name, status, body))
    status, body = rig.api("PUT", "/api/media", {"image": name, "mode": mode})
    expect(status == 200, "insert %s: %s %s" % (name, status, body))


def boot(rig, drive=None, mode="cdrom", internal=None):
    """Powers the server off, readies its internal disk (INTERNAL: an image, or blank) and the
    gadget's drive (DRIVE as MODE, or empty), powers it on; returns the serial port's offset
    at power-on."""
    off(rig)
    rig.server.write_disk(internal)
    # SeaBIOS sees the drive only as the first interface; its keyboard only as the first.
    if firmware(rig) == "bios":
        gadget_order(rig, drive_first=drive is not None)
    if drive is None:
        rig.api("DELETE", "/api/media")
    else:
        insert(rig, drive, mode)
    mark = rig.server.serial_size()
    events = len(rig.events())
    power(rig, "on")
    rig.wait_event({"source": "server-vm", "event": "usb_attached"}, after=events, timeout=30)
    return mark


def link_log(rig):
    return rig.sh("tail -8 /var/log/usbredirect.log /var/log/server-link.log; dmesg | tail -8")[1]


def grub_menu(rig, mark, banner):
    try:
        at = rig.server.wait_serial(banner, mark, timeout=180)
        return rig.server.wait_serial("second entry", at, timeout=30)
    except Exception as e:
        raise AssertionError("%s\nthe rig's end of the cable:\n%s" % (e, link_log(rig)))


def keys(rig, body):
    status, reply = rig.api("POST", "/api/keys?wait=1", body, timeout=120)
    expect(status == 200 and reply.get("state") == "done", "keys %s: %s %s" % (body, status, reply))


# -- power and the cable ------------------------------------------------------------------------
def test_server_off_leaves_the_gadget_unconfigured(rig):
    off(rig)
    wait_for("the host is not configured", lambda: configured(rig) is False, timeout=15)
    t = time.time()
    status, body = rig.api("POST", "/api/keys?wait=1", {"keys": ["a"]}, timeout=30)
    expect(status != 200 or body.get("state") == "failed", "keys into a server that is off: %s %s" % (status, body))
    expect("host_offline" in str(body), "not host_offline: %s" % body)
    expect(time.time() - t < 5, "keys into a server that is off took %.1fs" % (time.time() - t))


def test_power_button_starts_the_server_vm(rig):
    off(rig)
    mark = len(rig.events())
    power(rig, "on")
    rig.wait_event({"source": "server-vm", "event": "power_on"}, after=mark, timeout=15)
    rig.wait_event({"source": "server-vm", "event": "usb_attached"}, after=mark, timeout=30)
    expect(rig.server.running, "the server VM is not running")
    wait_for("the host configures the gadget", lambda: configured(rig) is True, timeout=60)
    expect(rig.api("GET", "/api/power")[1]["state"] == "on", "the LED does not say on")


def test_forced_off_ends_the_vm_and_unplugs(rig):
    if not rig.server.running:
        power(rig, "on")
    mark = len(rig.events())
    power(rig, "force-off")
    rig.wait_event({"source": "server-vm", "event": "power_off"}, after=mark, timeout=30)
    expect(not rig.server.running, "the server VM still runs")
    expect(rig.api("GET", "/api/power")[1]["state"] == "off", "the LED does not say off")
    wait_for("the host is not configured", lambda: configured(rig) is False, timeout=15)


# -- firmware, bootloader, keys ---------------------------------------------------------------
def test_keys_reach_firmware_setup(rig):
    """Esc hammered from power-on: OVMF's setup front page, SeaBIOS's boot menu."""
    mark = boot(rig)
    keys(rig, {"macro": "repeat 60 every 200ms: esc"})
    rig.server.wait_serial(SETUP_TEXT[firmware(rig)], mark, timeout=60)


def test_gadget_cd_boots(rig):
    mark = boot(rig, iso("cd.iso", BANNER_CD), "cdrom")
    grub_menu(rig, mark, BANNER_CD)


def test_hybrid_iso_as_a_disk_boots(rig):
    mark = boot(rig, iso("cd.iso", BANNER_CD), "disk")
    expect(rig.api("GET", "/api/media")[1].get("mode") == "disk", "not inserted as a disk")
    grub_menu(rig, mark, BANNER_CD)


def key_grub(rig):
    """A GRUB menu waiting for keys: on the gadget's CD under UEFI; on the internal disk under
    SeaBIOS (which takes the keyboard only as the first interface, the drive then unseen)."""
    if firmware(rig) == "uefi":
        mark = boot(rig, iso("cd.iso", BANNER_CD), "cdrom")
        return grub_menu(rig, mark, BANNER_CD)
    mark = boot(rig, internal=iso("disk.iso", BANNER_DISK))
    return grub_menu(rig, mark, BANNER_DISK)


def test_saved_macro_chooses_a_grub_entry(rig):
    status, body = rig.api("PUT", "/api/macros/grub-second-entry",
                           {"macro": "down; enter", "description": "GRUB: the second entry"})
    expect(status in (200, 201), "saving the macro: %s %s" % (status, body))
    at = key_grub(rig)
    status, body = rig.api("POST", "/api/macros/grub-second-entry/run?wait=1", timeout=60)
    expect(status == 200, "running the macro: %s %s" % (status, body))
    rig.server.wait_serial("ENTRY TWO CHOSEN", at, timeout=30)
    expect("ENTRY ONE CHOSEN" not in rig.server.serial_text(at), "the first entry ran")


def test_text_at_the_grub_command_line_arrives_exact(rig):
    at = key_grub(rig)
    keys(rig, {"macro": "c"})
    at = rig.server.wait_serial("grub>", at, timeout=30)
    # Every printable US character GRUB takes literally inside single quotes.
    text = "Gadgetd %s 0123456789 !@#$%%^&*()-_=+[]{};:,.<>/?|`~ XYZ" % secrets.token_hex(4)
    keys(rig, {"text": "echo '%s'\n" % text, "layout": "us"})
    end = rig.server.wait_serial("grub>", at, timeout=60)
    lines = rig.server.serial_text(at)[:end - at].replace("\r", "\n").split("\n")
    expect(text in lines, "GRUB printed no line %r: %r" % (text, lines[-6:]))


def test_firmware_sets_the_keyboard_leds(rig):
    """The firmware's keyboard driver lights Num and Caps Lock with SET_REPORT when those keys
    are pressed: GET /api/keyboard shows what it set."""
    key_grub(rig)

    def leds():
        return rig.api("GET", "/api/keyboard")[1]["leds"]
    for key, led in (("numlock", "num_lock"), ("capslock", "caps_lock")):
        before = leds()[led]
        keys(rig, {"keys": [key]})
        wait_for("%s to turn %s" % (led, "off" if before else "on"), lambda: leds()[led] != before, 15)
        keys(rig, {"keys": [key]})
        wait_for("%s back to %s" % (led, before), lambda: leds()[led] == before, 15)


def boot_override(rig, target, enabled):
    status, body = rig.api("PATCH", "/redfish/v1/Systems/host", {"Boot": {
        "BootSourceOverrideTarget": target, "BootSourceOverrideEnabled": enabled}})
    expect(status in (200, 204), "PATCH Boot %s/%s: %s %s" % (target, enabled, status, body))


# UEFI's alone: not collected (not passed) on SeaBIOS, which cannot do it by keys.
if os.environ.get("GADGETD_SERVER") == "uefi":
    def test_redfish_cd_once_through_ovmfs_boot_manager(rig):
        """With the shipped ovmf profile, Redfish's Cd/Once makes the next start boot the gadget's
        CD through OVMF's own Boot Manager, although the internal disk (with a GRUB of its own) is
        first in the boot order; the start after that boots the internal disk again. SeaBIOS cannot
        do this by keys (it sees the drive only as the first interface, then no keyboard): the
        README says so, and this test is UEFI's."""
        restart(rig, rig.config("[boot]\nprofile = ovmf\n"))
        try:
            boot_override(rig, "None", "Disabled")
            mark = boot(rig, iso("cd.iso", BANNER_CD), "cdrom", internal=iso("disk.iso", BANNER_DISK))
            grub_menu(rig, mark, BANNER_DISK)  # no override: the boot order's first, the disk
            boot_override(rig, "Cd", "Once")
            again = rig.server.serial_size()
            power(rig, "reset")
            at = grub_menu(rig, again, BANNER_CD)
            expect(BANNER_DISK not in rig.server.serial_text(again)[:at - again], "the disk booted first")
            state = rig.api("GET", "/redfish/v1/Systems/host")[1]["Boot"]
            expect(state["BootSourceOverrideEnabled"] == "Disabled", "Once not consumed: %s" % state)
            again = rig.server.serial_size()
            power(rig, "reset")
            grub_menu(rig, again, BANNER_DISK)
        finally:
            boot_override(rig, "None", "Disabled")
            restart(rig)


def test_reset_restarts_the_firmware(rig):
    if firmware(rig) == "bios":
        gadget_order(rig, drive_first=True)
    mark = boot(rig, iso("cd.iso", BANNER_CD), "cdrom")
    grub_menu(rig, mark, BANNER_CD)
    events = len(rig.events())
    again = rig.server.serial_size()
    power(rig, "reset")
    rig.wait_event({"source": "server-vm", "event": "reset"}, after=events, timeout=15)
    grub_menu(rig, again, BANNER_CD)
    expect(rig.server.running, "the server VM ended on a reset")


def test_the_server_follows_reenumerations(rig):
    """A disconnect and a gadgetd restart each re-enumerate the gadget (a CD/disk switch does too:
    test_hybrid_iso_as_a_disk_boots): the server VM gets it back by itself and configures it.
    A firmware already past its start (GRUB on UEFI) does not take the new keyboard into its
    console (real boards behave alike): keys work again from the next start."""
    key_grub(rig)
    # key_grub left gadgetd on its default config (keyboard first) on either firmware.
    for what in ("disconnect", "gadgetd restart"):
        mark = len(rig.events())
        if what == "disconnect":
            rig.api("POST", "/api/gadget", {"connected": False})
            rig.api("POST", "/api/gadget", {"connected": True})
        else:
            restart(rig)
        rig.wait_event({"source": "server-vm", "event": "usb_detached"}, after=mark, timeout=30)
        rig.wait_event({"source": "server-vm", "event": "usb_attached"}, after=mark, timeout=60)
        wait_for("configured again after %s" % what, lambda: configured(rig) is True, timeout=60)
    again = rig.server.serial_size()
    power(rig, "reset")
    at = grub_menu(rig, again, BANNER_CD if firmware(rig) == "uefi" else BANNER_DISK)
    keys(rig, {"macro": "down; enter"})
    rig.server.wait_serial("ENTRY TWO CHOSEN", at, timeout=30)


def test_keep_on_exit_keeps_the_keyboard_across_a_restart(rig):
    """With [gadget] keep_on_exit = yes a gadgetd restart (an upgrade, a certificate renewal)
    does not re-enumerate the gadget: the firmware keeps its keyboard, even in GRUB."""
    keep = rig.config("[gadget]\nkeep_on_exit = yes\n")
    restart(rig, keep)
    try:
        at = key_grub(rig)
        mark = len(rig.events())
        restart(rig, keep)
        keys(rig, {"macro": "down; enter"})
        rig.server.wait_serial("ENTRY TWO CHOSEN", at, timeout=30)
        detached = [e for e in rig.events()[mark:] if e.get("source") == "server-vm" and e["event"] == "usb_detached"]
        expect(not detached, "the restart unplugged the server: %s" % detached)
    finally:
        restart(rig)


def test_a_dropped_link_shows_as_unconfigured(rig):
    if not rig.server.running:
        power(rig, "on")
    wait_for("configured", lambda: configured(rig) is True, timeout=60)
    link = rig.sh("cat /run/server-vm/link")[1].strip()
    try:
        rig.sh("rm -f /run/server-vm/link")  # the cable pulled at the server's end
        wait_for("the host is not configured", lambda: configured(rig) is False, timeout=15)
        t = time.time()
        status, body = rig.api("POST", "/api/keys?wait=1", {"keys": ["a"]}, timeout=30)
        expect("host_offline" in str(body), "keys over a dropped link: %s %s" % (status, body))
        expect(time.time() - t < 5, "keys over a dropped link took %.1fs" % (time.time() - t))
    finally:
        rig.sh("echo %s > /run/server-vm/link" % link)
    wait_for("configured again", lambda: configured(rig) is True, timeout=60)


def test_ipmitool_and_redfish_drive_the_server_vm(rig):
    off(rig)
    user, password = rig.credentials()
    mark = len(rig.events())
    out = subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(rig.ipmi_port),
                          "-U", user, "-P", password, "chassis", "power", "on"],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, "ipmitool: %s %s" % (out.stdout, out.stderr))
    rig.wait_event({"source": "server-vm", "event": "power_on"}, after=mark, timeout=30)
    mark = len(rig.events())
    status, body = rig.api("POST", "/redfish/v1/Systems/host/Actions/ComputerSystem.Reset",
                           {"ResetType": "ForceOff"}, timeout=60)
    expect(status in (200, 202, 204), "Redfish ForceOff: %s %s" % (status, body))
    rig.wait_event({"source": "server-vm", "event": "power_off"}, after=mark, timeout=30)
    expect(not rig.server.running, "the server VM still runs")
