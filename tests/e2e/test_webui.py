"""The browser panel, end to end: Debian's Chromium, driven by playwright-core
(tests/browser/panel.mjs), clicks through the panel gadgetd serves in the rig, and the server's
side shows that the clicks did what they say. Screenshots land in build/webui-screens/."""
import glob
import gzip
import json
import os
import subprocess
import tempfile

from e2e import expect
from images import make_iso
from test_keyboard import decode, keys_after
from test_power import force_state
from test_security import USERS, add_users

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DRIVER = os.path.join(ROOT, "tests", "browser", "panel.mjs")
SHOTS = os.path.join(ROOT, "build", "webui-screens")
WEBUI = os.path.join(ROOT, "build", "webui")
WORK = tempfile.mkdtemp(prefix="gadgetd-webui-")


def browse(rig, scenario, arg="", timeout=180):
    """Runs one scenario in Chromium; returns what the page showed."""
    user, password = rig.credentials()
    env = dict(os.environ, GADGETD_URL=rig.url, GADGETD_USER=user, GADGETD_PASSWORD=password,
               GADGETD_SHOTS=SHOTS, SCENARIO_ARG=arg)
    out = subprocess.run(["node", DRIVER, scenario], env=env, capture_output=True, text=True,
                         timeout=timeout)
    expect(out.returncode == 0, "%s in the browser: %s%s" % (scenario, out.stderr[-3000:], out.stdout[-500:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_static_files_headers_and_refusals(rig):
    st, page = rig.api("GET", "/", auth=False, raw=None)
    h = rig.last_headers
    expect(st == 200 and "text/html" in h["Content-Type"], (st, h))
    csp = h["Content-Security-Policy"]
    expect("script-src 'self';" in csp and "default-src 'none'" in csp and "unsafe-eval" not in csp, csp)
    expect(h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff", h)
    etag = h["ETag"]
    st, _ = rig.api("GET", "/index.html", auth=False, headers={"If-None-Match": etag})
    expect(st == 304, "an unchanged file: %s" % st)
    st, _ = rig.api("GET", "/vendor/xterm.js", auth=False, headers={"Accept-Encoding": "gzip"})
    expect(st == 200 and rig.last_headers["Content-Encoding"] == "gzip", rig.last_headers)
    for path, want in (("/../etc/passwd", (400, 404)), ("/%2e%2e/etc/passwd", (400,)),
                       ("/.hidden", (400,)), ("/nope.js", (404,)), ("/vendor", (404,))):
        st, body = rig.api("GET", path, auth=False)
        expect(st in want, "%s: %s %s" % (path, st, body))
    st, body = rig.api("POST", "/index.html", auth=False, raw=b"x")
    expect(st == 405 and body["error"]["code"] == "method_not_allowed", (st, body))
    # The API is still the API, and still asks for credentials: with the browser's password
    # prompt for curl or the address bar, without it for a page's scripts (it has a form).
    st, body = rig.api("GET", "/api/status", auth=False)
    expect(st == 401 and rig.last_headers["WWW-Authenticate"].startswith("Basic"), (st, rig.last_headers))
    for header in ({"Sec-Fetch-Mode": "cors"}, {"X-Requested-With": "gadgetd-webui"}):
        st, body = rig.api("GET", "/api/session", auth=False, headers=header)
        expect(st == 401 and "WWW-Authenticate" not in rig.last_headers, (header, rig.last_headers))


def test_the_panel_is_small(rig):
    """Under 300 KiB compressed, the terminal library apart."""
    total = 0
    for path in glob.glob(os.path.join(WEBUI, "**", "*"), recursive=True):
        if os.path.isfile(path) and not path.endswith(".gz") and "/vendor/" not in path:
            with open(path, "rb") as f:
                total += len(gzip.compress(f.read(), 9))
    print("#   panel: %.1f KiB compressed" % (total / 1024))
    expect(0 < total < 300 * 1024, "the panel is %d bytes compressed" % total)


def test_login_logout_phone_and_csp(rig):
    got = browse(rig, "login")
    expect(got["refused"], got)
    expect("admin" in got["who"], got)
    expect(got["overflow"] <= 0, "the page is wider than a phone: %s px" % got["overflow"])


def test_ctrl_alt_del_button_reaches_the_server(rig):
    mark = len(rig.events())
    browse(rig, "macro")
    pressed = [k for k, v, _ in keys_after(rig, mark) if v == 1]
    expect(pressed == ["KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE"], pressed)


def test_virtual_keyboard_leds_and_capture_by_physical_key(rig):
    mark = len(rig.events())
    got = browse(rig, "keyboard")
    expect(got["latched"] == "true", got)
    pressed = [k for k, v, _ in keys_after(rig, mark) if v == 1]
    expect(pressed == ["KEY_LEFTSHIFT", "KEY_A", "KEY_B", "KEY_CAPSLOCK", "KEY_CAPSLOCK", "KEY_Y",
                       "KEY_ENTER"], pressed)


def test_saved_macro_error_at_its_line_run_and_delete(rig):
    mark = len(rig.events())
    got = browse(rig, "macros")
    expect("line 2" in got["error"] and got["marked"] == "2", got)
    pressed = [k for k, v, _ in keys_after(rig, mark) if v == 1]
    expect(pressed == ["KEY_F12", "KEY_ENTER"], pressed)
    expect(rig.api("GET", "/api/macros/panel-test")[0] == 404, "the macro was not deleted")


def test_paste_box_types_the_text(rig):
    text = "Hello, panel! 42 <>|~\n"
    mark = len(rig.events())
    got = browse(rig, "paste", text)
    expect(got["progress"] == 1, got)
    typed = decode(rig, mark, "us")
    expect(typed == text, "the server got %r" % typed)


def test_upload_with_progress_then_insert(rig):
    iso = os.path.join(WORK, "panel.iso")
    sha = make_iso(iso, {"PANEL.TXT": b"uploaded from a browser\n"})
    mark = len(rig.events())
    got = browse(rig, "upload", iso)
    expect(got["max"] == 100 and got["final"] == 100, got)
    st, image = rig.api("GET", "/api/images/panel.iso")
    expect(st == 200 and image["sha256"] == sha, image)
    ev = rig.wait_event({"source": "disk", "event": "media", "sha256": sha}, after=mark, timeout=60)[1]
    rc, out = rig.sh("mkdir -p /mnt/web && mount -t iso9660 -o ro %s /mnt/web && cat /mnt/web/PANEL.TXT; "
                     "umount /mnt/web" % ev["device"])
    expect(rc == 0 and "uploaded from a browser" in out, out)
    rig.api("DELETE", "/api/media")


def test_power_on_from_the_page(rig):
    force_state(rig, False)
    mark = len(rig.events())
    got = browse(rig, "power")
    expect("force" in got["question"].lower() or "off" in got["question"].lower(), got)
    buttons = [e["event"] for e in rig.events()[mark:] if e.get("source") == "atx"]
    expect(buttons.count("power_button") == 1, "one press (on), none for the cancelled force-off: %s" % buttons)
    expect(rig.api("GET", "/api/power")[1]["state"] == "on", "the server is not on")


def test_terminal_runs_a_command(rig):
    got = browse(rig, "terminal", "echo hi")
    expect("hi" in got["lines"], got)


def test_run_a_saved_script_from_the_page(rig):
    doc = {"steps": [{"console": "echo web-${who}-$((2*21))\n", "name": "say"},
                     {"expect": "^web-panel-42", "timeout": 20}, {"log": "from the panel"}]}
    st, _ = rig.api("PUT", "/api/scripts/web-demo", doc)
    expect(st in (200, 201), st)
    got = browse(rig, "script", "web-demo")
    expect("done" in got["result"].lower() and len(got["steps"]) == 3, got)
    job = [j for j in rig.api("GET", "/api/jobs")[1]["jobs"] if j.get("script") == "web-demo"][0]
    expect(job["state"] == "done" and "web-panel-42" in job["steps"][1]["message"], job)


def test_a_viewer_sees_but_cannot_touch(rig):
    add_users(rig)
    name, pw = USERS["VIEWER"]
    got = browse(rig, "viewer", "%s:%s" % (name, pw))
    expect("viewer" in got["who"], got)
    expect(got["enabled"] == [], "enabled for a viewer: %s" % got["enabled"])
