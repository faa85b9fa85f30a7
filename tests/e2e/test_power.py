"""ATX power, end to end: the API presses the simulated motherboard's buttons through gpio-sim
and reads its power LED; the simulator logs what it felt to server.log."""
import threading
import time

from e2e import expect, restart


def atx(rig, mark, event=None):
    return [e for e in rig.events()[mark:] if e.get("source") == "atx" and (event is None or e["event"] == event)]


def power(rig, action, timeout=60):
    return rig.api("POST", "/api/power", {"action": action}, timeout=timeout)


def sim(rig, command):
    rc, out = rig.sh("mkdir -p /run/atx-sim; %s" % command)
    expect(rc == 0, out)


def force_state(rig, on):
    sim(rig, "echo force-%s > /run/atx-sim/command" % ("on" if on else "off"))
    deadline = time.time() + 10
    while rig.api("GET", "/api/power")[1]["state"] != ("on" if on else "off") and time.time() < deadline:
        time.sleep(0.1)


def held(rig, mark, event="power_button", at_least=1, timeout=5):
    """held_ms of each release after MARK, once AT_LEAST of them have reached the log."""
    deadline = time.time() + timeout
    while len(atx(rig, mark, event)) < at_least and time.time() < deadline:
        time.sleep(0.05)
    return [e.get("held_ms") for e in atx(rig, mark, event)]


def test_nothing_is_pressed_at_start_or_restart(rig):
    # The boot's own events: modules before this one (IPMI) press buttons on purpose.
    at_boot = [e for e in rig.events()[:rig.booted_events]
               if e.get("source") == "atx" and e["event"] == "button_down"]
    expect(at_boot == [], "a button was pressed at boot: %s" % at_boot)
    mark = restart(rig)
    time.sleep(1)
    expect(atx(rig, mark, "button_down") == [], "a button was pressed at restart")
    status, body = rig.api("GET", "/api/power")
    expect(status == 200 and body["led_configured"] is True and body["state"] in ("off", "on"), body)


def test_on_and_off_press_only_when_it_makes_sense(rig):
    force_state(rig, False)
    mark = len(rig.events())
    status, body = power(rig, "on")
    expect(status == 200 and body["changed"] is True and body["state"] == "on", (status, body))
    expect(all(400 <= h <= 650 for h in held(rig, mark)) and len(held(rig, mark)) == 1, held(rig, mark))
    mark = len(rig.events())
    status, body = power(rig, "on")
    expect(status == 200 and body["changed"] is False and body["presses"] == 0, body)
    expect(atx(rig, mark, "button_down") == [], "pressed although on")
    status, body = power(rig, "off")
    expect(status == 200 and body["changed"] is True and body["state"] == "off", (status, body))
    expect(len(held(rig, mark)) == 1, held(rig, mark))
    status, body = rig.api("GET", "/api/power")
    expect(body["state"] == "off" and isinstance(body["since"], float), body)


def test_soft_off_ignored_times_out_and_force_off_works(rig):
    force_state(rig, True)
    sim(rig, "touch /run/atx-sim/ignore-soft-off")
    try:
        status, body = power(rig, "off")
        expect(status == 504 and body["error"]["code"] == "power_timeout", (status, body))
        expect("still on" in body["error"]["message"] and body["power"]["state"] == "on", body)
    finally:
        sim(rig, "rm -f /run/atx-sim/ignore-soft-off")
    mark = len(rig.events())
    status, body = power(rig, "force-off")
    expect(status == 200 and body["state"] == "off", (status, body))
    expect(4800 <= held(rig, mark)[0] <= 5400, "long press held %s ms" % held(rig, mark))


def test_reset_and_cycle(rig):
    force_state(rig, True)
    mark = len(rig.events())
    status, body = power(rig, "reset")
    expect(status == 200 and body["changed"] and body["state"] == "on", body)
    expect(len(held(rig, mark, "reset")) == 1 and 400 <= held(rig, mark, "reset")[0] <= 650,
           held(rig, mark, "reset"))
    mark = len(rig.events())
    status, body = power(rig, "cycle", timeout=90)
    expect(status == 200 and body["state"] == "on" and body["presses"] == 2, (status, body))
    held(rig, mark, "power_state", at_least=2)
    states = [e["on"] for e in atx(rig, mark, "power_state")]
    expect(states == [False, True], "cycle went %s" % states)
    mark = len(rig.events())
    status, body = power(rig, "reset")
    force_state(rig, False)
    mark = len(rig.events())
    status, body = power(rig, "reset")
    expect(status == 200 and body["changed"] is False, body)
    expect(atx(rig, mark, "button_down") == [], "reset pressed while off")


def test_second_action_while_one_runs_is_409(rig):
    force_state(rig, True)
    results = []
    t = threading.Thread(target=lambda: results.append(power(rig, "long-press")))
    t.start()
    time.sleep(1)
    status, body = power(rig, "reset")
    t.join()
    expect(status == 409 and body["error"]["code"] == "power_busy", (status, body))
    expect(results[0][0] == 200, results)


def test_raw_presses_and_bad_actions(rig):
    force_state(rig, False)
    mark = len(rig.events())
    status, body = power(rig, "press")
    expect(status == 200 and body["changed"], body)
    expect(len(held(rig, mark)) == 1, held(rig, mark))
    for bad in ({"action": "explode"}, {"action": 1}, {}, {"action": "on", "extra": 1}):
        status, body = rig.api("POST", "/api/power", bad)
        expect(status == 400, (bad, status, body))


def test_blinking_led_is_sleeping(rig):
    force_state(rig, True)
    sim(rig, "touch /run/atx-sim/sleep")
    try:
        deadline = time.time() + 8
        state = None
        while time.time() < deadline and state != "sleeping":
            time.sleep(0.2)
            state = rig.api("GET", "/api/power")[1]["state"]
        expect(state == "sleeping", "state %s while the LED blinks" % state)
    finally:
        sim(rig, "rm -f /run/atx-sim/sleep")
    deadline = time.time() + 8
    while time.time() < deadline and rig.api("GET", "/api/power")[1]["state"] != "on":
        time.sleep(0.2)
    expect(rig.api("GET", "/api/power")[1]["state"] == "on", "did not wake up")


def test_active_low_wiring(rig):
    force_state(rig, False)
    rc, out = rig.sh("rig-stop")
    mark = len(rig.events())
    sim(rig, "touch /run/atx-sim/active-low; sleep 0.1")  # the board's resistors pull high
    try:
        rig.write_file("/tmp/test.conf", rig.config("[power]\npower_active_low = yes\nreset_active_low = yes\n"))
        rig.sh("rig-start /tmp/test.conf")
        rig.wait_api(30)
        time.sleep(1)
        expect(atx(rig, mark, "button_down") == [], "active-low lines were pressed at start")
        status, body = power(rig, "on")
        expect(status == 200 and body["state"] == "on", (status, body))
        expect(len(held(rig, mark)) == 1 and 400 <= held(rig, mark)[0] <= 650, held(rig, mark))
        mark = len(rig.events())
        rig.sh("rig-stop")
        time.sleep(0.5)
        expect(atx(rig, mark, "button_down") == [], "stopping pressed a button")
    finally:
        sim(rig, "rm -f /run/atx-sim/active-low; sleep 0.1")
        if not rig.gadgetd_running():
            rig.sh("rig-start")
            rig.wait_api(30)
