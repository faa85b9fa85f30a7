"""The foundation, end to end: the server enumerates the gadget, the API answers through the
forwarded port with authentication, and gadgetd starts, stops and fails cleanly."""
import json
import subprocess
import time

from e2e import expect, gadgets, restart, run_once

ALL_FUNCTIONS = ["keyboard", "mass_storage", "acm"]


def test_server_enumerates_keyboard_disk_and_serial(rig):
    _, ev = rig.wait_event({"source": "usb", "event": "enumerated"}, timeout=30)
    expect(ev["id"] == "1d6b:0104", ev)
    expect(ev["manufacturer"] == "gadgetd" and ev["product"] == "gadgetd USB BMC", ev)
    expect((ev["keyboard"] or "").startswith("/dev/input/event"), "no keyboard: %s" % ev)
    expect(ev["block"] == "/dev/sr0", "the LUN is not a CD-ROM block device: %s" % ev)
    expect(ev["tty"] == "/dev/ttyACM0", "no ttyACM: %s" % ev)
    _, kb = rig.wait_event({"source": "keyboard", "event": "attached"}, timeout=5)
    expect(kb["device"] == ev["keyboard"], kb)


def test_status_shows_gadget_configured_by_host(rig):
    status, body = rig.api("GET", "/api/status")
    expect(status == 200, (status, body))
    g = body["gadget"]
    expect(g["host_state"] == "configured" and g["configured"] is True, g)
    expect(g["connected"] is True and g["udc"] == "dummy_udc.0" and g["name"] == "gadgetd", g)
    expect(g["functions"] == ALL_FUNCTIONS, g)
    expect(g["vendor_id"] == "1d6b" and g["product_id"] == "0104", g)
    expect(body["version"] == "0.1.0", body)
    expect(isinstance(body["uptime_s"], int) and body["uptime_s"] >= 0, body)
    expect(rig.last_headers["Content-Type"] == "application/json", rig.last_headers)


def test_curl_with_credentials_file(rig):
    """What the README tells a newcomer to type."""
    import os
    creds = os.path.join(rig.dir, "credentials")
    out = subprocess.run(["curl", "-sS", "-u", open(creds).read().strip(), rig.url + "/api/status"],
                         capture_output=True, text=True, timeout=30)
    expect(out.returncode == 0, out.stderr)
    expect(json.loads(out.stdout)["gadget"]["configured"] is True, out.stdout)


def test_api_refuses_missing_wrong_and_malformed_credentials(rig):
    user, password = rig.credentials()
    cases = [
        ("missing", False, {}),
        ("wrong password", (user, password + "x"), {}),
        ("unknown user", ("mallory", password), {}),
        ("malformed", False, {"Authorization": "Basic not-base64!"}),
        ("other scheme", False, {"Authorization": "Bearer " + password}),
    ]
    for name, auth, headers in cases:
        for method, path in (("GET", "/api/status"), ("POST", "/api/gadget"), ("GET", "/api/nope")):
            status, body = rig.api(method, path, auth=auth, headers=headers,
                                   body={"connected": False} if method == "POST" else None)
            expect(status == 401, "%s %s with %s credentials: %s" % (method, path, name, status))
            expect(body["error"]["code"] == "unauthorized", body)
            expect(rig.last_headers["WWW-Authenticate"].startswith("Basic realm="), rig.last_headers)
    # The refused POST did not unplug anything.
    status, body = rig.api("GET", "/api/gadget")
    expect(body["connected"] is True, body)
    _, log = rig.sh("cat /var/log/gadgetd.log")
    expect("authentication failed for 'mallory' from 10.0.2.2" in log, log)
    expect(password not in log, "the log holds a password")


def test_bad_bodies_get_400_with_a_message(rig):
    cases = [
        (b"{not json", "invalid JSON at line 1"),
        (b"", "request body is empty"),
        (b"[true]", "expected a JSON object, got an array"),
        (b'{"connected": "yes"}', "connected"),
        (b'{"connected": true, "extra": 1}', "extra"),
        (b"{}", "connected"),
    ]
    for raw, message in cases:
        status, body = rig.api("POST", "/api/gadget", raw=raw)
        expect(status == 400, "%r: %s %s" % (raw[:40], status, body))
        expect(message in body["error"]["message"], "%r: %s" % (raw[:40], body))
        expect(body["error"]["code"] == "bad_request", body)
        expect(rig.last_headers.get("X-Content-Type-Options") == "nosniff", rig.last_headers)
    status, body = rig.api("POST", "/api/gadget", raw=b'{"connected": true}' + b" " * (1100 * 1024))
    expect(status == 413 and body["error"]["code"] == "body_too_large" and
           "exceeds 1048576 bytes" in body["error"]["message"], "%s %s" % (status, body))
    status, body = rig.api("GET", "/api/gadget")
    expect(body["connected"] is True, "a bad body changed the gadget: %s" % body)


def test_unknown_route_and_method(rig):
    status, body = rig.api("GET", "/api/nothing-here")
    expect(status == 404 and body["error"]["code"] == "not_found", (status, body))
    status, body = rig.api("DELETE", "/api/status")
    expect(status == 405 and body["error"]["code"] == "method_not_allowed", (status, body))
    expect(rig.last_headers.get("Content-Type") == "application/json", rig.last_headers)


def test_observer_reports_key_presses(rig):
    """A boot report written on the Pi side arrives as key events on the server side."""
    mark = len(rig.events())
    # Left Ctrl + 'a' pressed, then everything released.
    rc, out = rig.sh(r"printf '\001\000\004\000\000\000\000\000' > /dev/hidg0 && "
                     r"printf '\000\000\000\000\000\000\000\000' > /dev/hidg0")
    expect(rc == 0, out)
    seen = []
    for key, value in (("KEY_LEFTCTRL", 1), ("KEY_A", 1), ("KEY_A", 0), ("KEY_LEFTCTRL", 0)):
        i, _ = rig.wait_event({"source": "keyboard", "event": "key", "key": key, "value": value},
                              after=mark, timeout=10)
        seen.append(i)
    expect(seen[0] < seen[2] and seen[1] < seen[3], "presses and releases out of order: %s" % seen)


def test_disconnect_and_reconnect(rig):
    mark = len(rig.events())
    status, body = rig.api("POST", "/api/gadget", {"connected": False})
    expect(status == 200 and body["connected"] is False and body["host_state"] == "not attached", body)
    rig.wait_event({"source": "usb", "event": "removed"}, after=mark, timeout=15)
    status, body = rig.api("POST", "/api/gadget", {"connected": False})  # idempotent
    expect(status == 200 and body["connected"] is False, body)
    mark = len(rig.events())
    status, body = rig.api("POST", "/api/gadget", {"connected": True})
    expect(status == 200 and body["connected"] is True, body)
    rig.wait_event({"source": "usb", "event": "enumerated"}, after=mark, timeout=30)
    status, body = rig.api("GET", "/api/status")
    expect(body["gadget"]["configured"] is True, body)


def start_and_wait_enumerated(rig, mark):
    rig.sh("rig-start")
    rig.wait_api(30)
    rig.wait_event({"source": "usb", "event": "enumerated"}, after=mark, timeout=30)
    expect(gadgets(rig) == ["gadgetd"], gadgets(rig))


def test_sigterm_and_sigint_unbind_remove_and_restart_cleanly(rig):
    for sig in ("TERM", "INT"):
        mark = len(rig.events())
        rc, out = rig.sh("rig-stop " + sig)
        expect(rc == 0 and out.strip() == "0", "exit status on SIG%s: %r" % (sig, out))
        expect(gadgets(rig) == [], "gadget left after SIG%s: %s" % (sig, gadgets(rig)))
        rig.wait_event({"source": "usb", "event": "removed"}, after=mark, timeout=15)
        start_and_wait_enumerated(rig, mark)
    _, log = rig.sh("tail -3 /var/log/gadgetd.log")
    expect("ready" in log, log)


def test_leftover_from_a_crash_is_replaced_not_duplicated(rig):
    rc, out = rig.sh("rig-stop KILL")
    expect(rc == 0, out)
    expect(gadgets(rig) == ["gadgetd"], "SIGKILL should leave the gadget: %s" % gadgets(rig))
    start_and_wait_enumerated(rig, len(rig.events()))
    _, log = rig.sh("grep -c 'removing gadget .gadgetd. left by a previous run' /var/log/gadgetd.log")
    expect(int(log) >= 1, "the leftover was not reported")
    status, body = rig.api("GET", "/api/status")
    expect(body["gadget"]["configured"] is True and body["gadget"]["reused"] is False, body)


def test_keep_on_exit_leaves_keyboard_up_across_restart(rig):
    keep = rig.config("[gadget]\nkeep_on_exit = yes\n")
    restart(rig, keep)
    mark = len(rig.events())
    rc, out = rig.sh("rig-stop")
    expect(out.strip() == "0", out)
    expect(gadgets(rig) == ["gadgetd"], gadgets(rig))
    rc, state = rig.sh("cat /sys/class/udc/dummy_udc.0/state")
    expect(state.strip() == "configured", "the host lost the gadget: %s" % state)
    rig.write_file("/tmp/test.conf", keep)
    rig.sh("rig-start /tmp/test.conf")
    rig.wait_api(30)
    status, body = rig.api("GET", "/api/status")
    expect(body["gadget"]["reused"] is True and body["gadget"]["configured"] is True, body)
    time.sleep(1)
    removed = [e for e in rig.events()[mark:] if e.get("event") == "removed"]
    expect(removed == [], "the server saw the keyboard go away: %s" % removed)
    # Back to the default config: the kept gadget is taken over and removed at exit again.
    restart(rig)
    rc, out = rig.sh("rig-stop")
    expect(gadgets(rig) == [], gadgets(rig))
    rig.sh("rig-start")
    rig.wait_api(30)


def test_wrong_udc_is_a_clear_error(rig):
    rc, out = rig.sh("rig-stop")
    expect(out.strip() == "0", out)
    rc, out = run_once(rig, rig.config("[gadget]\nudc = nope.usb\n"))
    expect(rc == 1, "exit status %d: %s" % (rc, out))
    expect("UDC 'nope.usb' not found (available: dummy_udc.0)" in out, out)
    expect("Segmentation" not in out and "Abort" not in out, out)
    expect(gadgets(rig) == [], "a failed start left a gadget: %s" % gadgets(rig))
    rig.sh("rig-start")
    rig.wait_api(30)


def test_bad_config_names_file_and_line(rig):
    rc, out = run_once(rig, "[http]\nport = 8080\nprot = 1\n")
    expect(rc == 78, "exit status %d: %s" % (rc, out))
    expect(out.strip() == "gadgetd: /tmp/once.conf:3: unknown key 'prot' in [http]", out)
    rc, out = run_once(rig, "[http]\nport = eighty\n")
    expect(rc == 78 and "/tmp/once.conf:2: [http] port: 'eighty' is not a port number" in out, out)
    rc, out = rig.sh("gadgetd --config /tmp/absent.conf 2>&1")
    expect(rc == 78 and "/tmp/absent.conf: cannot open: No such file or directory" in out, out)
    expect(gadgets(rig) == ["gadgetd"], "the running gadget was disturbed")


def test_no_users_file_refuses_to_start(rig):
    rc, out = run_once(rig, rig.config("[http]\nusers = /tmp/no-users\n[daemon]\nstate_dir = /tmp/st2\n"))
    expect(rc == 78, "exit status %d: %s" % (rc, out))
    expect("gadgetd passwd" in out and "/tmp/no-users" in out, out)


def test_second_instance_is_refused(rig):
    rc, out = run_once(rig, rig.config())
    expect(rc == 1 and "another gadgetd is running" in out, "%d %s" % (rc, out))
    status, body = rig.api("GET", "/api/status")
    expect(status == 200 and body["gadget"]["configured"] is True, body)
    expect(gadgets(rig) == ["gadgetd"], gadgets(rig))


def test_passwd_tool_adds_a_user_the_running_daemon_accepts(rig):
    rc, out = rig.sh("echo 'second pw' | gadgetd --config /etc/gadgetd/gadgetd.conf passwd operator1")
    expect(rc == 0, out)
    status, body = rig.api("GET", "/api/status", auth=("operator1", "second pw"))
    expect(status == 200, (status, body))
    status, _ = rig.api("GET", "/api/status", auth=("operator1", "wrong"))
    expect(status == 401, status)
    rc, out = rig.sh("grep -c '^operator1:\\$y\\$' /etc/gadgetd/users && stat -c %a /etc/gadgetd/users")
    expect(out.split() == ["1", "600"], out)


def test_help_and_version(rig):
    rc, out = rig.sh("gadgetd --version")
    expect(rc == 0 and out.strip() == "gadgetd 0.1.0", out)
    rc, out = rig.sh("gadgetd --help")
    expect(rc == 0 and "--config FILE" in out and "passwd" in out, out)
    rc, out = rig.sh("gadgetd --bogus 2>&1")
    expect(rc == 2, out)


def test_api_doc_lists_exactly_the_served_routes(rig):
    """docs/API.md documents each /api route, docs/REDFISH.md each /redfish one; each GET
    without a name in its path answers."""
    import os
    import re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    source = open(os.path.join(root, "gadgetd", "http.c")).read()
    served = set(re.findall(r'(?:ROUTE|STREAM|PUBLIC)\("(GET|POST|PUT|DELETE|PATCH)", "(/[^"]*)"', source))
    for doc_name, prefix in (("API.md", "/api"), ("REDFISH.md", "/redfish")):
        doc = open(os.path.join(root, "docs", doc_name)).read()
        documented = {(m, re.sub(r"\{[a-z]+\}", "{}", p)) for m, p in
                      re.findall(r"^### (GET|POST|PUT|DELETE|PATCH) (/\S+)$", doc, re.M)}
        mine = {(m, p) for m, p in served if p.split("/")[1] == prefix[1:]}
        expect(documented == mine, "%s documents %s, served %s" % (doc_name, sorted(documented), sorted(mine)))
        for method, path in sorted(documented):
            if "{}" in path or method != "GET":
                continue
            status, body = rig.api(method, path)
            want = 426 if path.endswith("/ws") else 200  # a WebSocket, asked without the upgrade
            expect(status == want, "%s %s answers %s" % (method, path, status))
