"""Redfish, end to end, with the clients fleet tools use: Debian's python3-sushy (Ironic's
Redfish library) and DMTF's redfishtool, from the build machine through the forwarded port.
Resets go through the ATX simulator (server.log shows each press), virtual media is downloaded
from an HTTP server this module starts on the build machine (the guest reaches it as
10.0.2.2) and read by the server side, and the boot override hammers the rig firmware's boot
menu key. Each test leaves the server off, the drive empty and the override disabled."""
import http.server
import json
import os
import socketserver
import subprocess
import tempfile
import threading
import time

from e2e import expect
from images import make_iso
from test_firmware import arm, wait_fw
from test_media import wait_media
from test_power import atx, force_state
from test_security import USERS, add_users

V1 = "/redfish/v1"
SYSTEM = V1 + "/Systems/host"
CD = V1 + "/Managers/gadgetd/VirtualMedia/Cd"
WORK = tempfile.mkdtemp(prefix="gadgetd-redfish-")


def rf(rig, method, path, body=None, auth=True, headers=None, timeout=60):
    return rig.api(method, path, body, auth=auth, headers=headers, timeout=timeout)


def error_id(body):
    return body["error"]["code"] if isinstance(body, dict) and "error" in body else None


def sushy_conn(rig, session=True):
    import sushy
    from sushy import auth
    user, password = rig.credentials()
    method = auth.SessionAuth(user, password) if session else auth.BasicAuth(user, password)
    return sushy.Sushy(rig.url, auth=method), method


def wait_power(system, want, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        system.refresh()
        if system.power_state.value == want:
            return
        time.sleep(0.2)
    raise AssertionError("PowerState stayed %s, expected %s" % (system.power_state, want))


def reset_clean(rig):
    """The override disabled, the drive empty, the server off, the firmware disarmed."""
    rf(rig, "PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "None",
                                        "BootSourceOverrideEnabled": "Disabled"}})
    rf(rig, "POST", CD + "/Actions/VirtualMedia.EjectMedia", {})
    arm(rig, False)
    force_state(rig, False)


class Images:
    """An HTTP server on the build machine serving WORK, counting GET and HEAD per path;
    paths under /slow/ trickle their body over about SLOW_S seconds."""
    SLOW_S = 7

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=WORK, **k)

            def do_GET(self):
                outer.requests.append(("GET", self.path))
                if self.path.startswith("/slow/"):
                    self.path = self.path[5:]
                    return self.trickle()
                super().do_GET()

            def do_HEAD(self):
                outer.requests.append(("HEAD", self.path))
                super().do_HEAD()

            def trickle(self):
                with open(os.path.join(WORK, self.path.lstrip("/")), "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = len(data) // 14 + 1
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    time.sleep(self.server.slow_s / 14)

            def log_message(self, *args):
                pass

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("0.0.0.0", 0), Handler)
        self.server.slow_s = self.SLOW_S
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return "http://10.0.2.2:%d/%s" % (self.port, name)

    def count(self, method, path):
        return sum(1 for m, p in self.requests if m == method and p == path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_service_root_is_public_and_nothing_else_is(rig):
    st, root = rf(rig, "GET", V1 + "/", auth=False)
    expect(st == 200 and root["@odata.type"] == "#ServiceRoot.v1_5_0.ServiceRoot", (st, root))
    expect(rig.last_headers["OData-Version"] == "4.0", dict(rig.last_headers))
    expect(rig.last_headers["Content-Type"].startswith("application/json"), dict(rig.last_headers))
    expect(tuple(int(x) for x in root["RedfishVersion"].split(".")) >= (1, 6, 0), root)
    for key, path in (("Systems", V1 + "/Systems"), ("Managers", V1 + "/Managers"),
                      ("SessionService", V1 + "/SessionService")):
        expect(root[key] == {"@odata.id": path}, root)
    expect(root["Links"]["Sessions"] == {"@odata.id": V1 + "/SessionService/Sessions"}, root)
    st, body = rf(rig, "GET", "/redfish", auth=False)
    expect(st == 200 and body == {"v1": "/redfish/v1/"}, body)
    st, body = rf(rig, "GET", V1, auth=False)  # without the slash: the same document
    expect(st == 200 and body["Id"] == root["Id"], body)
    for path in (V1 + "/Systems", SYSTEM, V1 + "/Managers/gadgetd", CD, V1 + "/TaskService/Tasks"):
        st, body = rf(rig, "GET", path, auth=False)
        expect(st == 401 and error_id(body) == "Base.1.8.NoValidSession", (path, st, body))
        info = body["error"]["@Message.ExtendedInfo"][0]
        expect(info["MessageId"] == "Base.1.8.NoValidSession" and info["Message"], body)
        st, body = rf(rig, "GET", path, auth=False, headers={"X-Auth-Token": "not-a-session"})
        expect(st == 401, (path, st, body))
    st, body = rf(rig, "GET", V1 + "/Nothing")
    expect(st == 404 and error_id(body) == "Base.1.8.ResourceMissingAtURI", body)
    st, body = rf(rig, "PUT", V1 + "/Systems", {})
    expect(st == 405 and rig.last_headers["Allow"] == "GET", (st, dict(rig.last_headers)))


def test_session_lifecycle(rig):
    user, password = rig.credentials()
    st, body = rf(rig, "POST", V1 + "/SessionService/Sessions",
                  {"UserName": user, "Password": password}, auth=False)
    expect(st == 201 and body["UserName"] == user, (st, body))
    token, location = rig.last_headers["X-Auth-Token"], rig.last_headers["Location"]
    expect(len(token) >= 32 and location == body["@odata.id"], dict(rig.last_headers))
    headers = {"X-Auth-Token": token}
    st, body = rf(rig, "GET", SYSTEM, auth=False, headers=headers)
    expect(st == 200 and body["Id"] == "host", (st, body))
    st, body = rf(rig, "GET", location, auth=False, headers=headers)
    expect(st == 200 and body["UserName"] == user and token not in json.dumps(body), body)
    st, body = rf(rig, "GET", V1 + "/SessionService/Sessions", auth=False, headers=headers)
    expect({"@odata.id": location} in body["Members"], body)
    # A viewer sees and ends only its own sessions.
    add_users(rig)
    time.sleep(1.1)
    viewer = USERS["VIEWER"]
    st, _ = rf(rig, "POST", V1 + "/SessionService/Sessions",
               {"UserName": viewer[0], "Password": viewer[1]}, auth=False)
    viewer_headers = {"X-Auth-Token": rig.last_headers["X-Auth-Token"]}
    viewer_location = rig.last_headers["Location"]
    st, body = rf(rig, "GET", V1 + "/SessionService/Sessions", auth=False, headers=viewer_headers)
    expect(body["Members"] == [{"@odata.id": viewer_location}], body)
    st, body = rf(rig, "DELETE", location, auth=False, headers=viewer_headers)
    expect(st == 404, (st, body))
    st, body = rf(rig, "POST", SYSTEM + "/Actions/ComputerSystem.Reset", {"ResetType": "On"},
                  auth=False, headers=viewer_headers)
    expect(st == 403 and error_id(body) == "Base.1.8.InsufficientPrivilege", (st, body))
    expect(rf(rig, "DELETE", viewer_location, auth=False, headers=viewer_headers)[0] == 204, "viewer logout")
    # Logging out ends the token.
    st, body = rf(rig, "DELETE", location, auth=False, headers=headers)
    expect(st == 204 and body is None, (st, body))
    st, body = rf(rig, "GET", SYSTEM, auth=False, headers=headers)
    expect(st == 401, (st, body))
    for bad in ({"UserName": user, "Password": "wrong"}, {"UserName": user}, {}):
        st, body = rf(rig, "POST", V1 + "/SessionService/Sessions", bad, auth=False)
        expect(st in (400, 401) and error_id(body).startswith("Base.1.8."), (bad, st, body))
        expect("X-Auth-Token" not in rig.last_headers, dict(rig.last_headers))


def test_system_manager_and_media_shapes(rig):
    st, systems = rf(rig, "GET", V1 + "/Systems")
    expect(systems["Members"] == [{"@odata.id": SYSTEM}] and systems["Members@odata.count"] == 1, systems)
    force_state(rig, True)
    st, system = rf(rig, "GET", SYSTEM)
    expect(system["@odata.type"] == "#ComputerSystem.v1_13_0.ComputerSystem", system)
    expect(system["PowerState"] == "On", system)
    etag = rig.last_headers["ETag"]
    expect(etag.startswith('"') and not etag.startswith('W/'), etag)
    expect(rig.last_headers["Allow"] == "GET, PATCH", dict(rig.last_headers))
    force_state(rig, False)
    expect(rf(rig, "GET", SYSTEM)[1]["PowerState"] == "Off", "PowerState after off")
    boot = system["Boot"]
    expect(boot["BootSourceOverrideTarget@Redfish.AllowableValues"] ==
           ["None", "Cd", "Usb", "Hdd", "Pxe", "BiosSetup"], boot)
    expect(boot["BootSourceOverrideEnabled@Redfish.AllowableValues"] == ["Disabled", "Once", "Continuous"], boot)
    expect(system["Links"]["ManagedBy"] == [{"@odata.id": V1 + "/Managers/gadgetd"}], system)
    reset = system["Actions"]["#ComputerSystem.Reset"]
    expect(reset["target"] == SYSTEM + "/Actions/ComputerSystem.Reset", reset)
    expect(sorted(reset["ResetType@Redfish.AllowableValues"]) ==
           sorted(["On", "ForceOff", "GracefulShutdown", "ForceRestart", "GracefulRestart",
                   "PushPowerButton", "PowerCycle"]), reset)
    st, mgr = rf(rig, "GET", V1 + "/Managers/gadgetd")
    expect(mgr["@odata.type"] == "#Manager.v1_3_1.Manager" and mgr["ManagerType"] == "BMC", mgr)
    st, media = rf(rig, "GET", mgr["VirtualMedia"]["@odata.id"])
    expect([m["@odata.id"] for m in media["Members"]] == [CD, V1 + "/Managers/gadgetd/VirtualMedia/Usb"], media)
    st, cd = rf(rig, "GET", CD)
    expect(rig.last_headers["Allow"] == "GET", dict(rig.last_headers))
    expect(cd["@odata.type"] == "#VirtualMedia.v1_4_0.VirtualMedia" and cd["MediaTypes"] == ["CD", "DVD"], cd)
    expect(cd["Inserted"] is False and cd["Image"] is None and cd["ConnectedVia"] == "NotConnected", cd)
    st, usb = rf(rig, "GET", V1 + "/Managers/gadgetd/VirtualMedia/Usb")
    expect(usb["MediaTypes"] == ["USBStick"], usb)
    st, status = rf(rig, "GET", "/api/status")
    override = status["boot_override"]
    expect(override["target"] == boot["BootSourceOverrideTarget"] and
           override["enabled"] == boot["BootSourceOverrideEnabled"] == "Disabled" and
           override["mode"] == boot["BootSourceOverrideMode"], (override, boot))


def test_refusals_change_nothing(rig):
    force_state(rig, False)
    mark = len(rig.events())
    st, before = rf(rig, "GET", SYSTEM)
    etag = rig.last_headers["ETag"]
    cases = [
        ("PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "Floppy"}}, 400, "PropertyValueNotInList"),
        ("PATCH", SYSTEM, {"Boot": {"BootSourceOverrideEnabled": "always"}}, 400, "PropertyValueNotInList"),
        ("PATCH", SYSTEM, {"Boot": "Cd"}, 400, None),
        ("PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": 3}}, 400, None),
        ("PATCH", SYSTEM, {"AssetTag": "x"}, 400, "PropertyUnknown"),
        ("PATCH", SYSTEM, {}, 400, None),
        ("PATCH", V1 + "/Systems/other", {"Boot": {}}, 404, "ResourceMissingAtURI"),
        ("POST", SYSTEM + "/Actions/ComputerSystem.Reset", {"ResetType": "Nmi"}, 400, "ActionParameterNotSupported"),
        ("POST", SYSTEM + "/Actions/ComputerSystem.Reset", {}, 400, None),
        ("POST", SYSTEM + "/Actions/ComputerSystem.Reset", {"ResetType": ["On"]}, 400, None),
        ("POST", CD + "/Actions/VirtualMedia.InsertMedia", {"Image": "file:///etc/passwd"}, 400, None),
        ("POST", CD + "/Actions/VirtualMedia.InsertMedia", {"Image": "../../etc/passwd"}, 400, None),
        ("POST", CD + "/Actions/VirtualMedia.InsertMedia", {"Image": "no-such.iso"}, 404, None),
        ("POST", CD + "/Actions/VirtualMedia.InsertMedia", {"Image": "http://10.0.2.2:1/x.iso",
                                                          "TransferProtocolType": "NFS"}, 400, None),
        ("POST", CD + "/Actions/VirtualMedia.InsertMedia", {"Image": "http://10.0.2.2:1/x.iso",
                                                          "WriteProtected": False}, 400, None),
        ("POST", V1 + "/Managers/gadgetd/VirtualMedia/Floppy/Actions/VirtualMedia.InsertMedia",
         {"Image": "x.iso"}, 404, None),
        ("POST", CD + "/Actions/VirtualMedia.EjectMedia", {"Force": True}, 400, None),
        ("GET", V1 + "/TaskService/Tasks/0", None, 404, None),
        ("DELETE", V1 + "/TaskService/Tasks/99999999", None, 404, None),
        ("DELETE", V1 + "/SessionService/Sessions/../../x", None, (400, 404), None),
    ]
    problems = []
    for method, path, body, want, code in cases:
        st, reply = rf(rig, method, path, body)
        wants = want if isinstance(want, tuple) else (want,)
        if st not in wants or not error_id(reply) or (code and error_id(reply) != "Base.1.8." + code):
            problems.append("%s %s %s: %s %s" % (method, path, body, st, reply))
    st, reply = rf(rig, "PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "Pxe"}},
                   headers={"If-Match": '"0000000000000000"'})
    if st != 412 or error_id(reply) != "Base.1.8.PreconditionFailed":
        problems.append("If-Match mismatch: %s %s" % (st, reply))
    expect(not problems, "\n".join(problems))
    st, after = rf(rig, "GET", SYSTEM)
    expect(after["Boot"] == before["Boot"] and rig.last_headers["ETag"] == etag, after["Boot"])
    expect(rf(rig, "GET", "/api/media")[1]["inserted"] is False, "a refused insert inserted")
    time.sleep(0.5)
    expect(atx(rig, mark, "button_down") == [], "a refused reset pressed a button")
    # With the right ETag the same PATCH goes through, and the ETag moves.
    st, body = rf(rig, "PATCH", SYSTEM, {"Boot": {"BootSourceOverrideTarget": "Pxe",
                                                  "BootSourceOverrideEnabled": "Continuous"}},
                  headers={"If-Match": etag})
    expect(st == 200 and body["Boot"]["BootSourceOverrideTarget"] == "Pxe", (st, body))
    expect(rig.last_headers["ETag"] != etag, "the ETag did not change")
    reset_clean(rig)


def test_sushy_resets_each_type_through_the_atx_simulator(rig):
    import sushy
    force_state(rig, False)
    conn, session = sushy_conn(rig, session=True)
    system = conn.get_system(SYSTEM)
    expect(system.power_state == sushy.PowerState.OFF, system.power_state)
    allowed = {t.value for t in system.get_allowed_reset_system_values()}
    expect(len(allowed) == 7, allowed)
    mark = len(rig.events())
    plan = [("On", "On"), ("GracefulShutdown", "Off"), ("On", "On"), ("ForceRestart", "On"),
            ("GracefulRestart", "On"), ("PowerCycle", "On"), ("PushPowerButton", "Off"),
            ("On", "On"), ("ForceOff", "Off")]
    seen_transition = set()
    for reset_type, want in plan:
        system.reset_system(sushy.ResetType(reset_type))
        system.refresh()
        if system.power_state.value.startswith("Powering"):
            seen_transition.add(system.power_state.value)
        wait_power(system, want)
        time.sleep(0.3)
    expect(seen_transition, "PowerState never showed PoweringOn/PoweringOff while a reset ran")
    time.sleep(0.5)
    downs = [e["button"] for e in atx(rig, mark, "button_down")]
    held = [e["held_ms"] for e in atx(rig, mark, "power_button")]
    # On, off, on, (reset), off+on, long+on, press, on, long.
    expect(downs.count("reset") == 1 and downs.count("power") == 10, downs)
    expect(sum(1 for h in held if h >= 4000) == 2, held)
    # Basic auth works too, and logging out ends the session.
    session.close()
    basic, _ = sushy_conn(rig, session=False)
    expect(basic.get_system(SYSTEM).power_state == sushy.PowerState.OFF, "Basic auth read")


def test_resets_back_to_back_run_in_order(rig):
    force_state(rig, True)
    mark = len(rig.events())
    path = SYSTEM + "/Actions/ComputerSystem.Reset"
    results = []
    threads = [threading.Thread(target=lambda t=t: results.append((t, rf(rig, "POST", path, {"ResetType": t}))))
               for t in ("ForceOff", "On")]
    threads[0].start()
    time.sleep(0.2)
    threads[1].start()
    for t in threads:
        t.join()
    expect(all(r[1][0] == 204 for r in results), results)
    st, system = rf(rig, "GET", SYSTEM)
    expect(system["PowerState"] in ("PoweringOn", "PoweringOff"), system["PowerState"])
    deadline = time.time() + 30
    while rf(rig, "GET", SYSTEM)[1]["PowerState"] != "On" and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    held = [e["held_ms"] for e in atx(rig, mark, "power_button")]
    expect(len(held) == 2 and held[0] >= 4000 and held[1] < 1000, "the presses were %s" % held)
    downs = [e for e in rig.events()[mark:] if e.get("source") == "atx" and e.get("event") in
             ("button_down", "power_button")]
    gap = downs[2]["ts"] - downs[1]["ts"]
    expect(gap >= 0.2, "the second press began %.3f s after the first ended" % gap)
    force_state(rig, False)


def test_sushy_virtual_media_from_a_url(rig):
    import sushy
    force_state(rig, False)
    sha = make_iso(os.path.join(WORK, "redfish-boot.iso"), {"REDFISH.TXT": b"inserted by sushy\n"})
    server = Images()
    conn, session = sushy_conn(rig)
    try:
        manager = conn.get_manager(V1 + "/Managers/gadgetd")
        cd = manager.virtual_media.get_member(CD)
        expect(cd.inserted is False and "cd" in [str(t.value).lower() for t in cd.media_types], cd.media_types)
        url = server.url("redfish-boot.iso")
        mark = len(rig.events())
        cd.insert_media(url)
        cd.refresh()
        expect(cd.inserted is True and cd.image == url and cd.write_protected is True, (cd.inserted, cd.image))
        ev = wait_media(rig, mark, sha)
        expect(ev["size"] == os.path.getsize(os.path.join(WORK, "redfish-boot.iso")), ev)
        rc, out = rig.sh("mkdir -p /mnt/rf && mount -t iso9660 -o ro %s /mnt/rf && cat /mnt/rf/REDFISH.TXT; "
                         "umount /mnt/rf" % ev["device"])
        expect(rc == 0 and "inserted by sushy" in out, out)
        st, media = rf(rig, "GET", "/api/media")
        expect(media["image"] == "redfish-boot.iso" and media["mode"] == "cdrom", media)
        expect(server.count("GET", "/redfish-boot.iso") == 1, server.requests)
        cd.eject_media()
        cd.refresh()
        expect(cd.inserted is False and rf(rig, "GET", "/api/media")[1]["inserted"] is False, "eject")
        # The same URL again, unchanged on its server: only a HEAD, no download.
        cd.insert_media(url)
        expect(server.count("GET", "/redfish-boot.iso") == 1 and server.count("HEAD", "/redfish-boot.iso") == 2,
               server.requests)
        cd.eject_media()
        # Changed on its server (a new Last-Modified): downloaded again.
        sha2 = make_iso(os.path.join(WORK, "redfish-boot.iso"), {"REDFISH.TXT": b"a newer one\n"})
        os.utime(os.path.join(WORK, "redfish-boot.iso"), (time.time() + 5, time.time() + 5))
        mark = len(rig.events())
        cd.insert_media(url)
        expect(server.count("GET", "/redfish-boot.iso") == 2, server.requests)
        wait_media(rig, mark, sha2)
        cd.eject_media()
        # A URL its server does not have: an error, nothing inserted.
        before = rf(rig, "GET", "/api/images")[1]
        try:
            cd.insert_media(server.url("missing.iso"))
            raise AssertionError("inserting a missing URL succeeded")
        except sushy.exceptions.HTTPError as e:
            expect(e.status_code == 400 and "404" in str(e), str(e))
        expect(rf(rig, "GET", "/api/images")[1] == before, "a failed download left an image")
        expect(rf(rig, "GET", "/api/media")[1]["inserted"] is False, "inserted after a failure")
    finally:
        session.close()
        server.close()
        reset_clean(rig)
        rf(rig, "DELETE", "/api/images/redfish-boot.iso")


def test_a_slow_download_is_a_task(rig):
    make_iso(os.path.join(WORK, "slow.iso"), {"SLOW.TXT": b"slowly\n"})
    server = Images()
    try:
        st, body = rf(rig, "POST", CD + "/Actions/VirtualMedia.InsertMedia",
                      {"Image": server.url("slow/slow.iso"), "TransferProtocolType": "HTTP"})
        expect(st == 202 and body["TaskState"] in ("New", "Running"), (st, body))
        location = rig.last_headers["Location"]
        expect(location == body["@odata.id"] and location.startswith(V1 + "/TaskService/Tasks/"), location)
        st, tasks = rf(rig, "GET", V1 + "/TaskService/Tasks")
        expect({"@odata.id": location} in tasks["Members"], tasks)
        deadline, task = time.time() + 60, body
        while task["TaskState"] not in ("Completed", "Exception") and time.time() < deadline:
            time.sleep(0.3)
            st, task = rf(rig, "GET", location)
        expect(task["TaskState"] == "Completed" and task["PercentComplete"] == 100, task)
        st, cd = rf(rig, "GET", CD)
        expect(cd["Inserted"] is True and cd["ImageName"] == "slow.iso", cd)
    finally:
        server.close()
        reset_clean(rig)
        rf(rig, "DELETE", "/api/images/slow.iso")


def test_boot_override_cd_once_picks_the_usb_cd_in_the_firmware_menu(rig):
    import sushy
    force_state(rig, False)
    make_iso(os.path.join(WORK, "override.iso"), {"X.TXT": b"x\n"})
    server = Images()
    conn, session = sushy_conn(rig)
    try:
        system = conn.get_system(SYSTEM)
        system.set_system_boot_options(target=sushy.BootSource.CD,
                                       enabled=sushy.BootSourceOverrideEnabled.ONCE)
        system.refresh()
        expect(system.boot.target == sushy.BootSource.CD and
               system.boot.enabled == sushy.BootSourceOverrideEnabled.ONCE, system.boot)
        manager = conn.get_manager(V1 + "/Managers/gadgetd")
        manager.virtual_media.get_member(CD).insert_media(server.url("override.iso"))
        arm(rig)
        mark = len(rig.events())
        system.reset_system(sushy.ResetType.ON)
        menu = wait_fw(rig, mark, "menu", timeout=20)
        expect(menu["entries"] == ["cdrom", "disk"], menu)
        chosen = wait_fw(rig, mark, "selected", timeout=20)
        expect(chosen["entry"] == "cdrom", chosen)
        f12 = [e for e in rig.events()[mark:] if e.get("source") == "keyboard" and
               e.get("event") == "key" and e.get("key") == "KEY_F12" and e.get("value") == 1]
        expect(f12, "no F12 reached the server")
        system.refresh()
        expect(system.boot.enabled == sushy.BootSourceOverrideEnabled.DISABLED and
               system.boot.target == sushy.BootSource.CD, system.boot)
        # Once means once: the next start boots the disk without a menu.
        force_state(rig, False)
        time.sleep(1.5)
        mark = len(rig.events())
        system.reset_system(sushy.ResetType.ON)
        boot = wait_fw(rig, mark, "boot", timeout=20)
        expect(boot["from"] == "disk", boot)
        expect([e for e in rig.events()[mark:] if e.get("source") == "firmware" and e.get("event") == "menu"] == [],
               "a menu after the override was used")
    finally:
        session.close()
        server.close()
        reset_clean(rig)
        rf(rig, "DELETE", "/api/images/override.iso")


def redfishtool(rig, *args):
    user, password = rig.credentials()
    out = subprocess.run(["redfishtool", "-r", "127.0.0.1:%d" % rig.port, "-u", user, "-p", password,
                          "-S", "Never"] + list(args), capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, "redfishtool %s: %s %s" % (" ".join(args), out.stdout, out.stderr))
    return out.stdout


def test_redfishtool(rig):
    force_state(rig, False)
    systems = json.loads(redfishtool(rig, "Systems"))
    expect(systems["Members"] == [{"@odata.id": SYSTEM}], systems)
    system = json.loads(redfishtool(rig, "Systems", "-I", "host"))
    expect(system["Id"] == "host" and system["PowerState"] == "Off", system)
    mark = len(rig.events())
    redfishtool(rig, "Systems", "-I", "host", "reset", "On")
    deadline = time.time() + 20
    while rf(rig, "GET", SYSTEM)[1]["PowerState"] != "On" and time.time() < deadline:
        time.sleep(0.2)
    expect(rf(rig, "GET", SYSTEM)[1]["PowerState"] == "On", "redfishtool's reset On")
    expect(len(atx(rig, mark, "button_down")) == 1, atx(rig, mark))
    managers = json.loads(redfishtool(rig, "Managers"))
    expect(managers["Members"] == [{"@odata.id": V1 + "/Managers/gadgetd"}], managers)
    force_state(rig, False)


def test_ironic_redfish_power_and_management(rig):
    """Ironic's RedfishPower and RedfishManagement, as its conductor calls them."""
    from ironic.common import boot_devices, states
    import redfish_ironic
    force_state(rig, False)
    user, password = rig.credentials()
    task = redfish_ironic.task(rig.url, user, password, SYSTEM)
    task.driver.power.validate(task)
    mark = len(rig.events())
    try:
        expect(task.driver.power.get_power_state(task) == states.POWER_OFF, "Ironic reads off")
        task.driver.power.set_power_state(task, states.POWER_ON)
        expect(task.driver.power.get_power_state(task) == states.POWER_ON, "Ironic powered on")
        task.driver.power.reboot(task)  # ForceOff, then On
        expect(task.driver.power.get_power_state(task) == states.POWER_ON, "Ironic rebooted")
        task.driver.power.set_power_state(task, states.SOFT_POWER_OFF)
        expect(task.driver.power.get_power_state(task) == states.POWER_OFF, "Ironic soft off")
        # Ironic takes PoweringOff for off and moves on at once: the queue keeps the order.
        deadline = time.time() + 40
        while rf(rig, "GET", SYSTEM)[1]["PowerState"] != "Off" and time.time() < deadline:
            time.sleep(0.2)
        expect(rf(rig, "GET", SYSTEM)[1]["PowerState"] == "Off", "the queue did not drain to Off")
        time.sleep(0.5)
        held = [e["held_ms"] for e in atx(rig, mark, "power_button")]
        expect(len(held) == 4 and sum(1 for h in held if h >= 4000) == 1, "presses held %s ms" % held)
        for device, persistent, target, enabled in ((boot_devices.CDROM, False, "Cd", "Once"),
                                                    (boot_devices.PXE, True, "Pxe", "Continuous"),
                                                    (boot_devices.DISK, False, "Hdd", "Once")):
            task.driver.management.set_boot_device(task, device, persistent=persistent)
            boot = rf(rig, "GET", SYSTEM)[1]["Boot"]
            expect(boot["BootSourceOverrideTarget"] == target and
                   boot["BootSourceOverrideEnabled"] == enabled, (device, boot))
            got = task.driver.management.get_boot_device(task)
            expect(got == {"boot_device": device, "persistent": persistent}, got)
    finally:
        reset_clean(rig)
