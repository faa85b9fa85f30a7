"""Getting in, and being kept out: browser sessions with CSRF, API tokens, the wait after
failed logins, HTTPS with curl and openssl, and the limits a slow or greedy client meets."""
import base64
import http.cookies
import json
import socket
import subprocess
import threading
import time

from e2e import expect, restart

# Longer waits than the rig's default, so that "during the wait" is easy to hit.
SLOW_AUTH = "[http]\nauth_delay_ms = 3000\nauth_delay_max_ms = 8000\nsession_idle = 3\n"


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def login(rig, user=None, password=None):
    """POST /api/login; returns (status, body, cookie value or None, Set-Cookie header)."""
    if user is None:
        user, password = rig.credentials()
    st, body = rig.api("POST", "/api/login", {"user": user, "password": password}, auth=False)
    header = rig.last_headers.get("Set-Cookie")
    cookie = None
    if header:
        jar = http.cookies.SimpleCookie(header)
        cookie = jar["gadgetd_session"].value if "gadgetd_session" in jar else None
    return st, body, cookie, header


def with_cookie(rig, method, path, cookie, body=None, headers=None):
    hdrs = {"Cookie": "gadgetd_session=%s" % cookie}
    hdrs.update(headers or {})
    return rig.api(method, path, body, auth=False, headers=hdrs)


def test_session_lifecycle_and_csrf(rig):
    st, body, cookie, header = login(rig)
    expect(st == 200 and cookie and len(cookie) >= 43, "login: %s %s" % (st, body))
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
        expect(attr in header, "Set-Cookie lacks %s: %s" % (attr, header))
    expect("Secure" not in header, "Secure on plain HTTP: %s" % header)
    csrf = body["csrf_token"]
    st, who = with_cookie(rig, "GET", "/api/session", cookie)
    expect(st == 200 and who["via"] == "session" and who["csrf_token"] == csrf, who)
    h = rig.last_headers
    expect(h.get("X-Content-Type-Options") == "nosniff" and h.get("X-Frame-Options") == "DENY" and
           "default-src 'none'" in (h.get("Content-Security-Policy") or "") and
           h.get("Cache-Control") == "no-store" and h.get("Server") is None, dict(h))
    # A state change with the cookie alone is refused, and changes nothing.
    st, reply = with_cookie(rig, "PUT", "/api/macros/csrf-probe", cookie, {"macro": "Enter"})
    expect(st == 403 and reply["error"]["code"] == "csrf", "%s %s" % (st, reply))
    st, _ = rig.api("GET", "/api/macros/csrf-probe")
    expect(st == 404, "the macro was saved without the CSRF token")
    st, reply = with_cookie(rig, "PUT", "/api/macros/csrf-probe", cookie, {"macro": "Enter"},
                            {"X-CSRF-Token": "0" * 32})
    expect(st == 403, "a wrong CSRF token: %s" % st)
    # Another site's page: refused even with the token.
    st, reply = with_cookie(rig, "GET", "/api/session", cookie, headers={"Origin": "http://evil.example"})
    expect(st == 403, "cross-origin: %s %s" % (st, reply))
    st, _ = with_cookie(rig, "PUT", "/api/macros/csrf-probe", cookie, {"macro": "Enter"},
                        {"X-CSRF-Token": csrf})
    expect(st in (200, 201), "with the CSRF token: %s" % st)
    rig.api("DELETE", "/api/macros/csrf-probe")
    # The session's secret works as a Bearer token (no CSRF there: no browser sends it).
    st, who = rig.api("GET", "/api/session", auth=False, headers={"Authorization": "Bearer " + cookie})
    expect(st == 200 and who["user"] == "admin" and who["via"] == "bearer", who)
    # Logout needs the token too, ends the session, clears the cookie.
    st, _ = with_cookie(rig, "POST", "/api/logout", cookie)
    expect(st == 403, "logout without CSRF: %s" % st)
    st, reply = with_cookie(rig, "POST", "/api/logout", cookie, headers={"X-CSRF-Token": csrf})
    expect(st == 200 and reply["logged_out"] is True, reply)
    expect("Max-Age=0" in (rig.last_headers.get("Set-Cookie") or ""), "the cookie was not cleared")
    st, reply = with_cookie(rig, "GET", "/api/session", cookie)
    expect(st == 401 and reply["error"]["code"] == "session_expired", "reused after logout: %s" % st)
    st, _ = rig.api("GET", "/api/session", auth=False, headers={"Authorization": "Bearer " + cookie})
    expect(st == 401, "bearer reuse after logout: %s" % st)


def test_login_refusals(rig):
    for body in ({}, {"user": "admin"}, {"user": 1, "password": "x"}, {"user": "admin", "password": ""},
                 {"user": "admin", "password": "x", "extra": 1}):
        st, reply = rig.api("POST", "/api/login", body, auth=False)
        expect(st == 400 and reply["error"]["message"], "login %s: %s %s" % (body, st, reply))
    st, _, cookie, _ = login(rig, "admin", "wrong")
    expect(st == 401 and cookie is None, "wrong password: %s" % st)


def test_api_tokens(rig):
    st, reply = rig.api("POST", "/api/tokens", {"name": "ci", "role": "viewer"})
    expect(st == 201 and reply["token"].startswith("gdt_"), reply)
    token, token_id = reply["token"], reply["id"]
    bearer = {"Authorization": "Bearer " + token}
    st, who = rig.api("GET", "/api/session", auth=False, headers=bearer)
    expect(st == 200 and who["user"] == "token:ci" and who["role"] == "viewer", who)
    st, reply = rig.api("POST", "/api/power", {"action": "press"}, auth=False, headers=bearer)
    expect(st == 403, "a viewer token pressed power: %s" % st)
    st, reply = rig.api("POST", "/api/tokens", {"name": "ci", "role": "admin"})
    expect(st == 409, "duplicate name: %s" % st)
    for bad in ({"name": "../x", "role": "viewer"}, {"name": "x", "role": "root"},
                {"name": "x", "role": "viewer", "expires_in_s": "soon"}):
        st, reply = rig.api("POST", "/api/tokens", bad)
        expect(st == 400, "%s: %s" % (bad, st))
    st, listing = rig.api("GET", "/api/tokens")
    expect(st == 200 and [t["name"] for t in listing["tokens"]] == ["ci"], listing)
    expect("token" not in listing["tokens"][0] and "sha256" not in listing["tokens"][0], listing)
    rc, out = rig.sh("cat /var/lib/gadgetd/tokens.json; echo")
    expect(rc == 0 and token_id in out and token[4:] not in out, "tokens file: %s" % out)
    rc, out = rig.sh("stat -c %a /var/lib/gadgetd/tokens.json")
    expect(out.strip() == "600", "tokens file mode: %s" % out)
    # Kept across a restart; revoked at once.
    restart(rig)
    st, _ = rig.api("GET", "/api/session", auth=False, headers=bearer)
    expect(st == 200, "token after restart: %s" % st)
    st, _ = rig.api("DELETE", "/api/tokens/" + token_id)
    expect(st == 200, "revoke: %s" % st)
    st, _ = rig.api("GET", "/api/session", auth=False, headers=bearer)
    expect(st == 401, "revoked token still works: %s" % st)


def test_failed_logins_wait_but_lock_nobody_out(rig):
    restart(rig, rig.config(SLOW_AUTH))
    try:
        user, password = rig.credentials()
        rig.api("GET", "/api/status")  # the admin's password is verified once, before
        t = time.time()
        st, _ = rig.api("GET", "/api/status", auth=("admin", "guess-1"))
        took = time.time() - t
        expect(st == 401 and took >= 2.0, "first failure: %s after %.2fs" % (st, took))
        # Within the 3 s wait: another guess is not even checked ...
        st, reply = rig.api("GET", "/api/status", auth=("admin", "guess-2"))
        retry = rig.last_headers.get("Retry-After")
        expect(st == 429 and reply["error"]["code"] == "too_many_attempts" and retry,
               "second guess: %s %s" % (st, reply))
        st, _ = rig.api("POST", "/api/login", {"user": "admin", "password": "guess-3"}, auth=False)
        expect(st == 429, "login during the wait: %s" % st)
        # ... but the admin, whose password is known good, is not locked out, here or elsewhere.
        st, _ = rig.api("GET", "/api/status")
        expect(st == 200, "the admin was locked out: %s" % st)
        rc, out = rig.sh("wget -q -O - --header 'Authorization: %s' http://127.0.0.1:8080/api/session;"
                         " echo" % basic(user, password))
        expect(rc == 0 and '"user":"admin"' in out, "from another address: %s" % out)
        rc, out = rig.sh("grep -c \"authentication failed for 'admin' from 10.0.2.2\" /var/log/gadgetd.log")
        expect(rc == 0 and int(out) >= 1, "failure not logged with the address: %s" % out)
        # The wait grows: the next failure after it costs more.
        time.sleep(int(retry) + 0.2)
        t = time.time()
        st, _ = rig.api("GET", "/api/status", auth=("admin", "guess-4"))
        expect(st == 401 and time.time() - t >= 2.0, "after the wait: %s" % st)
        st, status = rig.api("GET", "/api/status")
        expect(status["http"]["throttled_addresses"] >= 1, status["http"])
    finally:
        restart(rig)


def test_session_idle_expiry(rig):
    restart(rig, rig.config(SLOW_AUTH))
    try:
        st, body, cookie, _ = login(rig)
        expect(st == 200, body)
        for _ in range(3):  # used every second: alive past the idle time
            time.sleep(1)
            st, _ = with_cookie(rig, "GET", "/api/session", cookie)
            expect(st == 200, "an active session expired")
        time.sleep(3.5)
        st, reply = with_cookie(rig, "GET", "/api/session", cookie)
        expect(st == 401 and reply["error"]["code"] == "session_expired", "idle: %s %s" % (st, reply))
    finally:
        restart(rig)


def s_client(rig, *args):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % rig.tls_port, "-servername", "localhost"]
    return subprocess.run(cmd + list(args), input=b"", capture_output=True, timeout=30)


def served_fingerprint(rig):
    cert = s_client(rig).stdout
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=cert,
                         capture_output=True, check=True).stdout.decode()
    return "SHA256:" + out.strip().split("=", 1)[1]


def test_tls_handshake_versions_and_persistence(rig):
    user, password = rig.credentials()
    out = subprocess.run(["curl", "-sk", "-u", "%s:%s" % (user, password), "-D", "-",
                          rig.tls_url + "/api/status"], capture_output=True, timeout=30).stdout.decode()
    expect(out.startswith("HTTP/1.1 200") and "Strict-Transport-Security" in out, out[:400])
    status = json.loads(out.split("\r\n\r\n", 1)[1])
    fingerprint = status["http"]["tls"]["fingerprint"]
    expect(served_fingerprint(rig) == fingerprint, "the certificate served is not the one reported")
    for version in ("-tls1_2", "-tls1_3"):
        r = s_client(rig, version)
        expect(r.returncode == 0 and b"Cipher is (NONE)" not in r.stdout, "%s refused" % version)
    for version in ("-tls1", "-tls1_1"):  # offered for real: the client's own floor lowered
        r = s_client(rig, version, "-cipher", "DEFAULT@SECLEVEL=0")
        expect(r.returncode != 0 or b"Cipher is (NONE)" in r.stdout, "%s accepted" % version)
    # The session cookie is Secure over HTTPS.
    out = subprocess.run(["curl", "-sk", "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/json",
                          "-d", json.dumps({"user": user, "password": password}), rig.tls_url + "/api/login"],
                         capture_output=True, timeout=30).stdout.decode()
    expect("Secure" in out and "gadgetd_session=" in out, out)
    restart(rig)
    expect(served_fingerprint(rig) == fingerprint, "a new certificate after a restart")
    rc, out = rig.sh("stat -c '%a %n' /var/lib/gadgetd/tls/key.pem /var/lib/gadgetd/tls/cert.pem")
    expect(out.split()[0] == "600", "key file mode: %s" % out)


def test_slowloris_does_not_starve_others(rig):
    slow = []
    try:
        for _ in range(40):  # more than max_connections (32), each sending a header now and then
            s = socket.create_connection(("127.0.0.1", rig.port), 10)
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        time.sleep(1.5)  # a request that began a moment ago is served, not taken for a slow one
        worst = 0.0
        for _ in range(12):
            t = time.time()
            st, _ = rig.api("GET", "/api/status", timeout=10)
            worst = max(worst, time.time() - t)
            expect(st == 200, "a normal client got %s" % st)
            for s in slow:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            time.sleep(0.5)
        expect(worst < 3, "a normal request took %.2fs" % worst)
        timed_out = 0
        for s in slow:
            s.settimeout(6)
            try:
                if b" 408 " in s.recv(200):
                    timed_out += 1
            except OSError:
                pass
        expect(timed_out == len(slow), "only %d of %d slow clients got 408" % (timed_out, len(slow)))
        st, status = rig.api("GET", "/api/status")
        expect(status["http"]["connections_dropped"] >= len(slow), status["http"])
    finally:
        for s in slow:
            s.close()


def test_busy_server_answers_503(rig):
    """Every connection busy (long polls): one more is told to come back, not left hanging."""
    done = []

    since = rig.api("GET", "/api/console")[1]["next"]

    def long_poll():
        st, body = rig.api("GET", "/api/console?wait=20&since=%d" % since, timeout=40)
        done.append(st)

    threads = [threading.Thread(target=long_poll) for _ in range(32)]
    for t in threads:
        t.start()
    refused = None
    time.sleep(2)  # let every long poll arrive; a newcomer would not make room for one just begun
    deadline = time.time() + 15
    while refused is None and time.time() < deadline and not done:  # until all 32 are in
        time.sleep(0.3)
        st, reply = rig.api("GET", "/api/status", timeout=10)
        if st != 200:
            refused = (st, reply, rig.last_headers.get("Retry-After"))
    for t in threads:
        t.join()
    expect(refused and refused[0] == 503 and refused[1]["error"]["code"] == "busy" and
           refused[2] == "1", "one more than the limit: %s (long polls ended: %s)" % (refused, done))
    expect(done.count(200) == 32, "the long polls: %s" % done)
    expect(rig.api("GET", "/api/console")[1]["next"] >= since, "console")
    st, _ = rig.api("GET", "/api/status")
    expect(st == 200, "after the burst: %s" % st)


def test_oversize_headers_and_url(rig):
    st, _ = rig.api("GET", "/api/status", headers={"X-Big": "a" * 20000})
    expect(st == 431, "20 KB header: %s" % st)
    st, _ = rig.api("GET", "/api/status?" + "a" * 20000)
    expect(st in (414, 431), "20 KB URL: %s" % st)
    st, reply = rig.api("POST", "/api/keys", raw=b"{" + b" " * (2 << 20) + b"}")
    expect(st == 413, "2 MiB body: %s" % st)
    st, _ = rig.api("GET", "/api/status")
    expect(st == 200, "afterwards: %s" % st)
