"""The keyboard, end to end: key sequences, macros and text sent through the API arrive on the
server side as the right key events, in order, on time, in the layout asked for."""
import json
import os
import random
import subprocess
import threading
import time

from e2e import expect, restart

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DECODE = os.path.join(ROOT, "build", "xkb-decode")
XKB = {"us": ["us"], "de": ["de"], "fr": ["fr"]}


def keys_after(rig, mark, settle=0.5):
    """(key, value, ts) of the key events the server saw after event index MARK."""
    time.sleep(settle)
    return [(e["key"], e["value"], e["ts"]) for e in rig.events()[mark:]
            if e.get("source") == "keyboard" and e.get("event") == "key" and e["value"] in (0, 1)]


def send(rig, body, wait=True):
    status, job = rig.api("POST", "/api/keys" + ("?wait=1" if wait else ""), body, timeout=600)
    return status, job


def held(events):
    """Keys pressed and not released in EVENTS."""
    down = set()
    for key, value, _ in events:
        (down.add if value else down.discard)(key)
    return down


def decode(rig, mark, layout):
    lines = [json.dumps(e) for e in rig.events()[mark:] if e.get("source") == "keyboard"]
    out = subprocess.run([DECODE] + XKB[layout], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, timeout=60)
    expect(out.returncode == 0, out.stderr)
    return out.stdout


def test_ctrl_alt_del_arrives_in_order(rig):
    for body in ({"keys": ["ctrl", "alt", "delete"]}, {"macro": "ctrl+alt+delete"}):
        mark = len(rig.events())
        status, job = send(rig, body)
        expect(status == 200 and job["state"] == "done", (status, job))
        got = [(k, v) for k, v, _ in keys_after(rig, mark)]
        expect(got == [("KEY_LEFTCTRL", 1), ("KEY_LEFTALT", 1), ("KEY_DELETE", 1),
                       ("KEY_DELETE", 0), ("KEY_LEFTALT", 0), ("KEY_LEFTCTRL", 0)], got)
    mark = len(rig.events())
    status, job = rig.api("POST", "/api/macros/ctrl-alt-del/run?wait=1")
    expect(status == 200 and job["state"] == "done", (status, job))
    expect([k for k, v, _ in keys_after(rig, mark) if v] ==
           ["KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE"], "built-in macro")


def test_job_shape_and_polling(rig):
    status, job = send(rig, {"macro": "a; wait 500ms; b"}, wait=False)
    expect(status == 202, (status, job))
    for field in ("id", "state", "progress", "kind", "user", "done", "total"):
        expect(field in job, "job has no %s: %s" % (field, job))
    expect(job["state"] in ("queued", "running") and job["kind"] == "keys", job)
    deadline = time.time() + 30
    while job["state"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.1)
        status, job = rig.api("GET", "/api/jobs/%d" % job["id"])
        expect(status == 200, (status, job))
    expect(job["state"] == "done" and job["progress"] == 1.0 and job["error"] is None, job)
    status, listing = rig.api("GET", "/api/jobs")
    expect(any(j["id"] == job["id"] for j in listing["jobs"]), listing)
    status, body = rig.api("GET", "/api/jobs/999999")
    expect(status == 404 and body["error"]["code"] == "no_such_job", body)


def test_repeat_and_wait_timings(rig):
    mark = len(rig.events())
    status, job = send(rig, {"macro": "repeat 6 every 300ms: f12\nwait 1s\nf2"})
    expect(status == 200, job)
    ev = keys_after(rig, mark)
    f12 = [ts for k, v, ts in ev if k == "KEY_F12" and v == 1]
    expect(len(f12) == 6, "F12 presses: %d" % len(f12))
    gaps = [(b - a) * 1000 for a, b in zip(f12, f12[1:])]
    expect(all(240 <= g <= 380 for g in gaps), "repeat every 300ms, got gaps %s" % gaps)
    last_release = [ts for k, v, ts in ev if k == "KEY_F12" and v == 0][-1]
    f2 = [ts for k, v, ts in ev if k == "KEY_F2" and v == 1][0]
    # After the last F12 release: the remaining period (300 ms less one report) then 1 s.
    gap = (f2 - last_release) * 1000
    expect(1150 <= gap <= 1450, "wait 1s after the last period, got %.0f ms" % gap)


def sample_text(layout, length=2048, seed=7):
    alphabet = {
        "us": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "de": "abcdefghijklmnopqrstuvwxyzäöüßÄÖÜABCXYZ0123456789 !\"§$%&/()=?@€{}[]\\~|<>#'+*-_.,;:éèêáàâ^°µ²³",
        "fr": "abcdefghijklmnopqrstuvwxyzéèçàùABCXYZ0123456789 &\"'(-_)=+~#{[|`\\^@]}$£%µ*!§:/;.,?<>€²êâîôûëïü",
    }[layout]
    rnd = random.Random(seed)
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))))
    text = " ".join(words)[:length - 1] + "\n"
    return text


def test_text_in_us_de_fr_arrives_exactly(rig):
    for layout in ("us", "de", "fr"):
        text = sample_text(layout)
        mark = len(rig.events())
        t0 = time.time()
        status, job = send(rig, {"text": text, "layout": layout, "pacing_ms": 1})
        expect(status == 200 and job["state"] == "done", (layout, status, job))
        time.sleep(1)
        got = decode(rig, mark, layout)
        if got != text:
            at = next((i for i, (a, b) in enumerate(zip(got, text)) if a != b), min(len(got), len(text)))
            raise AssertionError("%s: decoded text differs at %d: sent %r, got %r (lengths %d/%d)" % (
                layout, at, text[at:at + 20], got[at:at + 20], len(text), len(got)))
        expect(held(keys_after(rig, mark, settle=0)) == set(), "keys left held")
        print("#   %s: %d characters in %.1fs" % (layout, len(text), time.time() - t0))


def test_untypable_and_bad_requests_send_nothing(rig):
    mark = len(rig.events())
    cases = [
        ({"text": "price: 5€", "layout": "us"}, "'€' (U+20AC) at position 9"),
        ({"keys": ["ctrl", "alt", "dlete"]}, "dlete"),
        ({"macro": "f12\nctlr+c"}, "line 2, column 1"),
        ({"macro": "wait 5"}, "line 1"),
        ({"text": "x", "layout": "klingon"}, "unknown layout"),
        ({"text": "x", "macro": "a"}, "exactly one"),
        ({}, "exactly one"),
        ({"keys": "ctrl"}, "array"),
        ({"text": "x", "pacing_ms": 5000}, "pacing_ms"),
        ({"text": "x", "colour": "red"}, "colour"),
    ]
    for body, message in cases:
        status, reply = send(rig, body)
        expect(status == 400 and message in reply["error"]["message"], (body, status, reply))
    expect(keys_after(rig, mark) == [], "a refused request typed something")


def test_cancel_mid_text_leaves_no_key_held(rig):
    mark = len(rig.events())
    status, job = send(rig, {"text": "Hello World " * 100, "pacing_ms": 30}, wait=False)
    expect(status == 202, job)
    time.sleep(1.5)
    status, job = rig.api("DELETE", "/api/jobs/%d" % job["id"])
    expect(status == 200 and job["state"] == "cancelled", job)
    expect(job["error"]["code"] == "cancelled" and 0 < job["progress"] < 1, job)
    ev = keys_after(rig, mark, settle=1)
    expect(len(ev) > 10, "nothing was typed before the cancel")
    expect(held(ev) == set(), "keys held after cancel: %s" % held(ev))


def test_timed_repeat_rides_through_an_unplug(rig):
    """'repeat N every T' is how a key is hammered through a power-on, while the firmware resets
    and enumerates the keyboard: the rounds the host cannot take are skipped, and the job is done
    if it took any; a repeat the host never takes fails host_offline."""
    status, _ = rig.api("POST", "/api/gadget", {"connected": False})
    expect(status == 200, status)
    try:
        status, job = send(rig, {"macro": "repeat 3 every 100ms: f12"})
        expect(status == 503 and job["error"]["code"] == "host_offline", (status, job))
        status, job = send(rig, {"macro": "repeat 40 every 250ms: f12"}, wait=False)
        expect(status == 202, job)
        t0 = time.time()
        while rig.api("GET", "/api/jobs/%d" % job["id"])[1]["done"] < 8 and time.time() - t0 < 10:
            time.sleep(0.05)
    finally:
        mark = len(rig.events())
        rig.api("POST", "/api/gadget", {"connected": True})
    t0 = time.time()
    while rig.api("GET", "/api/jobs/%d" % job["id"])[1]["state"] == "running" and time.time() - t0 < 30:
        time.sleep(0.1)
    status, job = rig.api("GET", "/api/jobs/%d" % job["id"])
    expect(job["state"] == "done", job)
    after = keys_after(rig, mark)
    got = [(k, v) for k, v, _ in after]
    expect(("KEY_F12", 1) in got and ("KEY_F12", 0) in got, got)
    expect(held(after) == set(), "keys held: %s" % held(after))


def test_unplug_mid_sequence_fails_host_offline_and_recovers(rig):
    mark = len(rig.events())
    status, job = send(rig, {"text": "slow text " * 50, "pacing_ms": 30}, wait=False)
    expect(status == 202, job)
    time.sleep(1)
    status, _ = rig.api("POST", "/api/gadget", {"connected": False})
    expect(status == 200, status)
    t0 = time.time()
    status, job = rig.api("GET", "/api/jobs/%d" % job["id"])
    while job["state"] == "running" and time.time() - t0 < 10:
        time.sleep(0.1)
        status, job = rig.api("GET", "/api/jobs/%d" % job["id"])
    expect(job["state"] == "failed" and job["error"]["code"] == "host_offline", job)
    # While unplugged: refused at once, and the daemon keeps serving.
    t0 = time.time()
    status, job = send(rig, {"keys": ["a"]})
    expect(status == 503 and job["error"]["code"] == "host_offline", (status, job))
    expect(time.time() - t0 < 3, "host_offline took %.1fs" % (time.time() - t0))
    status, body = rig.api("GET", "/api/status")
    expect(status == 200 and body["gadget"]["connected"] is False, body)
    # Plugged back: the keyboard works with no action from anyone, nothing is held.
    mark2 = len(rig.events())
    status, _ = rig.api("POST", "/api/gadget", {"connected": True})
    rig.wait_event({"source": "keyboard", "event": "attached"}, after=mark2, timeout=30)
    status, job = send(rig, {"keys": ["z"]})
    expect(status == 200 and job["state"] == "done", (status, job))
    got = [(k, v) for k, v, _ in keys_after(rig, mark2)]
    expect(("KEY_Z", 1) in got and ("KEY_Z", 0) in got, got)
    expect(held(keys_after(rig, mark2, settle=0)) == set(), "keys held after replug")


def test_two_clients_never_interleave(rig):
    mark = len(rig.events())
    results = []

    def client(text):
        results.append(send(rig, {"text": text, "pacing_ms": 2}))

    threads = [threading.Thread(target=client, args=(c * 40,)) for c in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(all(s == 200 for s, _ in results), results)
    got = decode(rig, mark, "us")
    expect(got in ("a" * 40 + "b" * 40, "b" * 40 + "a" * 40), "interleaved: %r" % got)


def test_caps_lock_led_is_reported(rig):
    def caps():
        return rig.api("GET", "/api/keyboard")[1]["leds"]["caps_lock"]

    start = caps()
    for expected in (not start, start):
        send(rig, {"keys": ["capslock"]})
        deadline = time.time() + 5
        while caps() != expected and time.time() < deadline:
            time.sleep(0.1)
        expect(caps() == expected, "caps_lock LED did not become %s" % expected)
    status, kb = rig.api("GET", "/api/keyboard")
    expect(kb["layout"] == "us" and kb["pacing_ms"] == 20 and kb["host_online"] is True, kb)


def test_layouts_and_key_names_are_listed(rig):
    status, body = rig.api("GET", "/api/keyboard/layouts")
    names = {l["name"] for l in body["layouts"]}
    for need in ("us", "gb", "de", "fr", "es", "it", "pt", "br", "ch-de", "se", "no", "dk", "fi",
                 "nl", "be", "pl", "cz", "hu", "ru", "jp", "kr", "latam", "tr", "us-dvorak",
                 "us-colemak"):
        expect(need in names, "layout %s missing" % need)
    status, body = rig.api("GET", "/api/keyboard/keys")
    for need in ("ctrl", "alt", "delete", "f1", "f24", "pagedown", "printscreen", "enter"):
        expect(need in body["keys"], "key %s missing" % need)


def test_saved_macros_crud_and_run(rig):
    status, body = rig.api("PUT", "/api/macros/my-boot", {"macro": "f11; wait 100ms; down; enter",
                                                         "description": "pick the 2nd entry"})
    expect(status == 200 and body["name"] == "my-boot" and body["builtin"] is False, body)
    status, body = rig.api("GET", "/api/macros/my-boot")
    expect(body["macro"] == "f11; wait 100ms; down; enter", body)
    status, body = rig.api("GET", "/api/macros")
    names = [m["name"] for m in body["macros"]]
    expect("my-boot" in names and "bios-setup-del" in names and "boot-menu-f12" in names, names)
    mark = len(rig.events())
    status, job = rig.api("POST", "/api/macros/my-boot/run?wait=1")
    expect(status == 200 and job["state"] == "done", job)
    expect([k for k, v, _ in keys_after(rig, mark) if v] == ["KEY_F11", "KEY_DOWN", "KEY_ENTER"], "run")
    status, body = rig.api("PUT", "/api/macros/broken", {"macro": "f11\nrepeat x: a"})
    expect(status == 400 and "line 2, column" in body["error"]["message"], body)
    status, body = rig.api("PUT", "/api/macros/ctrl-alt-del", {"macro": "a"})
    expect(status == 409 and body["error"]["code"] == "builtin_macro", body)
    status, body = rig.api("DELETE", "/api/macros/ctrl-alt-del")
    expect(status == 409, body)
    status, body = rig.api("PUT", "/api/macros/Bad.Name", {"macro": "a"})
    expect(status == 400, body)
    status, body = rig.api("DELETE", "/api/macros/my-boot")
    expect(status == 200, body)
    status, body = rig.api("GET", "/api/macros/my-boot")
    expect(status == 404 and body["error"]["code"] == "no_such_macro", body)
    status, body = rig.api("POST", "/api/macros/my-boot/run")
    expect(status == 404, body)


def test_large_text_is_accepted_and_progresses(rig):
    text = ("%ks\nlang en_US.UTF-8\nkeyboard us\nrootpw --iscrypted $6$abc\n" * 2000)[:100 * 1024]
    status, job = send(rig, {"text": text, "pacing_ms": 1}, wait=False)
    expect(status == 202 and job["total"] > 200000, (status, {k: job.get(k) for k in ("state", "total")}))
    time.sleep(2)
    status, later = rig.api("GET", "/api/jobs/%d" % job["id"])
    expect(later["state"] == "running" and later["done"] > 0, later)
    status, job = rig.api("DELETE", "/api/jobs/%d" % job["id"])
    expect(job["state"] == "cancelled", job)


def test_keyboard_only_gadget_for_picky_firmware(rig):
    mark = restart(rig, rig.config("[gadget]\nfunctions = keyboard\n"))
    _, ev = rig.wait_event({"source": "usb", "event": "enumerated"}, after=mark, timeout=30)
    expect(ev["keyboard"] and ev["block"] is None and ev["tty"] is None, ev)
    status, body = rig.api("GET", "/api/status")
    expect(body["gadget"]["functions"] == ["keyboard"], body)
    mark = len(rig.events())
    status, job = send(rig, {"keys": ["x"]})
    expect(status == 200, job)
    expect([(k, v) for k, v, _ in keys_after(rig, mark)] == [("KEY_X", 1), ("KEY_X", 0)], "keys")
    mark = restart(rig)
    rig.wait_event({"source": "usb", "event": "enumerated", "tty": "/dev/ttyACM0"}, after=mark, timeout=30)
