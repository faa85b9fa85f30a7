"""Who may do what: every route asked by each role (viewer, operator, admin), with requests
built to change nothing when they are let through (bad bodies, names that do not exist)."""
import os
import re
import time

from e2e import expect

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RANK = {"VIEWER": 0, "OPERATOR": 1, "ADMIN": 2}
USERS = {"VIEWER": ("eyes", "viewer-pw"), "OPERATOR": ("ops", "operator-pw")}


def routes():
    source = open(os.path.join(ROOT, "gadgetd", "http.c")).read()
    found = re.findall(r'(?:ROUTE|STREAM)\(\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/[^"]*)",\s*(VIEWER|OPERATOR|ADMIN)',
                       source)
    expect(len(found) > 20, "routes not found in http.c: %d" % len(found))
    return found


def harmless(method, path):
    """The request to make: a path with names that do not exist, a body that is refused."""
    path = path.replace("/api/jobs/{}", "/api/jobs/999999").replace("{}", "no-such-thing")
    body = None if method in ("GET", "DELETE") else {}
    return path, body


def add_users(rig):
    for role, (name, password) in USERS.items():
        rc, out = rig.sh("echo %s | gadgetd passwd --users /etc/gadgetd/users --role %s %s"
                         % (password, role.lower(), name))
        expect(rc == 0, out)


def test_every_route_by_role(rig):
    add_users(rig)
    time.sleep(1.1)  # the users file is reloaded when its mtime moves
    for n, (method, path, needs) in enumerate(routes()):
        url, body = harmless(method, path)
        for role in ("VIEWER", "OPERATOR", "ADMIN"):
            auth = USERS.get(role, True)
            st, reply = rig.api(method, url, body, auth=auth)
            if RANK[role] >= RANK[needs]:
                expect(st != 403, "%s %s as %s: refused (%s)" % (method, url, role, reply))
                expect(st != 401, "%s %s as %s: 401" % (method, url, role))
            else:
                code = "Base.1.8.InsufficientPrivilege" if path.startswith("/redfish") else "forbidden"
                expect(st == 403 and reply["error"]["code"] == code and
                       needs.lower() in reply["error"]["message"],
                       "%s %s as %s: %s %s (expected 403)" % (method, url, role, st, reply))
        st, _ = rig.api(method, url, body, auth=False)
        expect(st == 401, "%s %s without credentials: %s" % (method, url, st))
        # Wrong credentials: an unknown token everywhere; a wrong password (a hash to check,
        # slow in the guest) on every fourth route. The rig waits 100 ms after a first failure,
        # doubling to 400 ms, before it answers.
        wrong = [("a wrong token", False, {"Authorization": "Bearer gdt_" + "x" * 43})]
        if n % 4 == 0:
            wrong.append(("a wrong password", ("eyes", "wrong"), None))
        for what, auth, headers in wrong:
            t = time.time()
            st, _ = rig.api(method, url, body, auth=auth, headers=headers)
            expect(st == 401, "%s %s with %s: %s" % (method, url, what, st))
            expect(time.time() - t >= 0.1, "%s %s: %s answered at once" % (method, url, what))


def test_a_viewer_changes_nothing(rig):
    add_users(rig)
    before = rig.api("GET", "/api/console")[1]["next"]
    st, reply = rig.api("POST", "/api/console", {"data": "echo hi\n"}, auth=USERS["VIEWER"])
    expect(st == 403, reply)
    st, reply = rig.api("POST", "/api/power", {"action": "press"}, auth=USERS["VIEWER"])
    expect(st == 403, reply)
    st, reply = rig.api("POST", "/api/gadget", {"connected": False}, auth=USERS["OPERATOR"])
    expect(st == 403, reply)
    st, body = rig.api("GET", "/api/status")
    expect(body["gadget"]["connected"] is True, "an operator unplugged the gadget")
    expect(rig.api("GET", "/api/console")[1]["next"] == before, "a viewer wrote to the console")
