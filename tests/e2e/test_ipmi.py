"""IPMI over LAN, end to end, with the clients people type: ipmitool -I lanplus and FreeIPMI's
ipmipower, from the build machine through QEMU's UDP forward. Power actions go through the
rig's ATX simulator (server.log shows each press), boot devices land in the same boot override
Redfish shows. Each test leaves the server off and the override disabled."""
import subprocess
import time

from e2e import expect
from test_power import atx, force_state
from test_security import USERS, add_users

SYSTEM = "/redfish/v1/Systems/host"


def ipmitool(rig, *args, user=None, password=None, timeout=60):
    """ipmitool -I lanplus against the rig; returns (exit status, output)."""
    u, p = rig.credentials()
    cmd = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(rig.ipmi_port),
           "-U", user or u, "-P", password or p, "-N", "2", "-R", "2"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return out.returncode, out.stdout + out.stderr


def power_is(rig, state, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if rig.api("GET", "/api/power")[1]["state"] == state and \
                not rig.api("GET", SYSTEM)[1]["PowerState"].startswith("Powering"):
            return
        time.sleep(0.2)
    raise AssertionError("the server did not get %s: %s" % (state, rig.api("GET", "/api/power")[1]))


def clean(rig):
    """The override as the rig starts (UEFI: bootdev without efiboot sets Legacy), server off."""
    rig.api("PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "None",
                                       "BootSourceOverrideEnabled": "Disabled",
                                       "BootSourceOverrideMode": "UEFI"}})
    force_state(rig, False)


def test_chassis_power_through_the_atx_simulator(rig):
    force_state(rig, False)
    mark = len(rig.events())
    try:
        rc, out = ipmitool(rig, "chassis", "power", "status")
        expect(rc == 0 and "Chassis Power is off" in out, out)
        for action, state in (("on", "on"), ("soft", "off"), ("on", "on"), ("reset", "on"),
                              ("cycle", "on"), ("off", "off")):
            rc, out = ipmitool(rig, "chassis", "power", action)
            expect(rc == 0 and "Chassis Power Control" in out, (action, out))
            power_is(rig, state)
        rc, out = ipmitool(rig, "chassis", "power", "status")
        expect(rc == 0 and "Chassis Power is off" in out, out)
        time.sleep(0.5)
        downs = [e["button"] for e in atx(rig, mark, "button_down")]
        held = [e["held_ms"] for e in atx(rig, mark, "power_button")]
        # on, soft off, on, (reset), cycle = long + on, off = long
        expect(downs.count("reset") == 1 and downs.count("power") == 6, downs)
        expect(sum(1 for h in held if h >= 4000) == 2, held)
        rc, out = ipmitool(rig, "chassis", "status")
        expect(rc == 0 and "System Power" in out and "off" in out, out)
    finally:
        clean(rig)


def test_bootdev_round_trips_with_redfish(rig):
    try:
        for args, target, enabled, mode, says in (
                (["cdrom"], "Cd", "Once", "Legacy", "Force Boot from CD/DVD"),
                (["pxe", "options=persistent"], "Pxe", "Continuous", "Legacy", "Force PXE"),
                (["disk", "options=efiboot"], "Hdd", "Once", "UEFI", "Force Boot from default Hard-Drive"),
                (["bios"], "BiosSetup", "Once", "Legacy", "Force Boot into BIOS Setup")):
            rc, out = ipmitool(rig, "chassis", "bootdev", *args)
            expect(rc == 0 and "Set Boot Device to" in out, (args, out))
            boot = rig.api("GET", SYSTEM)[1]["Boot"]
            expect((boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"],
                    boot["BootSourceOverrideMode"]) == (target, enabled, mode), (args, boot))
            rc, out = ipmitool(rig, "chassis", "bootparam", "get", "5")
            expect(rc == 0 and says in out, (args, out))
        # And what Redfish sets, IPMI reads.
        rig.api("PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "Cd",
                                           "BootSourceOverrideEnabled": "Continuous"}})
        rc, out = ipmitool(rig, "chassis", "bootparam", "get", "5")
        expect(rc == 0 and "Force Boot from CD/DVD" in out and "Options apply to all future boots" in out, out)
    finally:
        clean(rig)


def test_cipher_suites_and_refusals(rig):
    force_state(rig, False)
    for suite in (None, "3", "17"):
        args = ["-C", suite] if suite else []
        rc, out = ipmitool(rig, *args, "chassis", "power", "status")
        expect(rc == 0 and "Chassis Power is off" in out, (suite, out))
    rc, out = ipmitool(rig, "-C", "1", "chassis", "power", "status")
    expect(rc != 0, "cipher suite 1 (no integrity) was accepted: %s" % out)
    t = time.time()
    rc, out = ipmitool(rig, "chassis", "power", "status", password="wrong-password")
    expect(rc != 0 and "Unable to establish" in out, out)
    expect(time.time() - t < 15, "a wrong password took %.1f s" % (time.time() - t))
    rc, out = ipmitool(rig, "chassis", "power", "status", user="nobody", password="x")
    expect(rc != 0 and "Unable to establish" in out, out)
    rc, out = ipmitool(rig, "mc", "info")
    expect(rc == 0 and "IPMI Version              : 2.0" in out, out)
    t = time.time()
    rc, out = ipmitool(rig, "raw", "0x06", "0x99")  # not a command of ours: 0xC1, promptly
    expect(rc != 0 and "rsp=0xc1" in out, out)
    rc, out = ipmitool(rig, "sol", "activate")  # no Serial over LAN: refused, not hung
    expect(rc != 0, out)
    expect(time.time() - t < 10, "refusals took %.1f s" % (time.time() - t))


def test_a_viewer_reads_but_cannot_power_off(rig):
    add_users(rig)
    name, password = USERS["VIEWER"]
    rc, out = rig.sh("echo %s | gadgetd ipmi-passwd --config /etc/gadgetd/gadgetd.conf %s" % (password, name))
    expect(rc == 0, out)
    time.sleep(1.1)
    force_state(rig, True)
    mark = len(rig.events())
    try:
        rc, out = ipmitool(rig, "-L", "USER", "chassis", "power", "status", user=name, password=password)
        expect(rc == 0 and "Chassis Power is on" in out, out)
        rc, out = ipmitool(rig, "-L", "USER", "chassis", "power", "off", user=name, password=password)
        expect(rc != 0 and "Insufficient privilege" in out, out)
        rc, out = ipmitool(rig, "chassis", "power", "off", user=name, password=password)  # asks for ADMIN
        expect(rc != 0, out)
        time.sleep(0.5)
        expect(atx(rig, mark, "button_down") == [], "a viewer pressed a button")
    finally:
        clean(rig)


def test_freeipmi_ipmipower(rig):
    force_state(rig, False)
    user, password = rig.credentials()
    host = "127.0.0.1:%d" % rig.ipmi_port

    def ipmipower(*args):
        out = subprocess.run(["ipmipower", "-D", "LAN_2_0", "-h", host, "-u", user, "-p", password]
                             + list(args), capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    try:
        rc, out = ipmipower("--stat")
        expect(rc == 0 and out.strip() == "127.0.0.1: off", out)
        rc, out = ipmipower("--on")
        expect(rc == 0 and "ok" in out, out)
        power_is(rig, "on")
        rc, out = ipmipower("--stat")
        expect(rc == 0 and out.strip() == "127.0.0.1: on", out)
        rc, out = ipmipower("--off")
        expect(rc == 0 and "ok" in out, out)
        power_is(rig, "off")
    finally:
        clean(rig)
