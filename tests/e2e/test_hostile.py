"""Hostile input on every route that takes some: path names (images, macros, jobs), query
strings, JSON bodies of the wrong shape, type, size or encoding, multipart forms and upload
headers. Each request must be answered 400 (404 when the path names something that could exist
but does not, 405, 413 or 507 where that is the right answer) with {"error": {"code",
"message"}} naming what is wrong, and change nothing: the images, the medium, the macros, the
power state, the jobs, the gadget, the files in the store; no key and no button press reaches
the server, nothing reaches its console.

Table-driven: each test_* builds a list of Case and runs them all, comparing the state after
each one with the state before, and fails once with every case that misbehaved."""
import base64
import http.client
import json
import os
import select
import socket
import time

from e2e import expect

IMG = "hostile.img"  # an image that exists: bodies that would insert it if let through
SAVED = "hostile-saved"  # a saved macro: bodies that would overwrite it if let through
SAVED_BODY = {"macro": "shift", "description": "saved"}
BUILTIN = "grub-edit"  # a built-in macro that types 'e' if let run
MARKER = "hostile-marker"  # what a console write let through would put on the console
STORE = "/var/lib/gadgetd/images"
MACRO_DIR = "/var/lib/gadgetd/macros"
SCRIPT = "hostile-script"  # a saved script: bodies that would overwrite or run it if let through
SCRIPT_BODY = {"description": "saved", "steps": [{"log": "hostile script ran"}]}
SCRIPT_DIR = "/var/lib/gadgetd/scripts"
TOTALS = {}


class Raw:
    """JSON text (bytes or str) put into a body as it is: numbers JSON cannot hold in Python,
    \\u0000 escapes, bytes that are not UTF-8."""

    def __init__(self, text):
        self.text = text.encode() if isinstance(text, str) else text

    def __repr__(self):
        return "Raw(%r)" % self.text


def encode(body):
    """The bytes of BODY: bytes as they are, else JSON with each Raw value spliced in."""
    if body is None or isinstance(body, bytes):
        return body
    raws = []

    def walk(v):
        if isinstance(v, Raw):
            raws.append(v)
            return "\ue000%d\ue000" % (len(raws) - 1)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    text = json.dumps(walk(body)).encode()
    for i, r in enumerate(raws):
        text = text.replace(json.dumps("\ue000%d\ue000" % i).encode(), r.text)
    return text


class Case:
    def __init__(self, method, path, body=None, statuses=(400,), says=(), headers=None,
                 code=None, send=None, timeout=30, json_reply=True):
        self.method, self.path, self.body = method, path, body
        self.statuses = statuses if isinstance(statuses, tuple) else (statuses,)
        self.says = (says,) if isinstance(says, str) else tuple(says)
        self.headers = headers or {}
        self.code = code
        self.send = send  # a function (rig, case) -> (status, body) instead of one request
        self.timeout = timeout
        self.json_reply = json_reply  # False: libmicrohttpd answers before gadgetd sees it

    def label(self):
        body = self.body
        if isinstance(body, (dict, list, Raw)):
            try:
                body = encode(body)
            except TypeError:  # a form's parts
                body = repr(body).encode()
        if isinstance(body, bytes) and len(body) > 80:
            body = body[:60] + b"...(%d bytes)" % len(body)
        path = self.path if len(self.path) < 100 else self.path[:80] + "...(%d)" % len(self.path)
        return "%s %s %s" % (self.method, path, "" if body is None else repr(body))


# -- talking to the API ---------------------------------------------------------------------

def auth(rig):
    return "Basic " + base64.b64encode(("%s:%s" % rig.credentials()).encode()).decode()


def parse(status, data):
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data


def request(rig, method, path, body=None, headers=None, timeout=30):
    """One request with any method, an ASCII PATH taken as it is, and BODY (JSON-able, Raw,
    bytes, or an iterable of bytes sent chunked); returns (status, parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", rig.port, timeout=timeout)
    hdrs = {"Authorization": auth(rig)}
    chunked = body is not None and not isinstance(body, (bytes, dict, list, Raw))
    data = body if chunked else encode(body)
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=data, headers=hdrs, encode_chunked=chunked)
        resp = conn.getresponse()
        return parse(resp.status, resp.read())
    finally:
        conn.close()


def announce(rig, method, path, length, body=b"", headers=None, timeout=30):
    """Announces a body of LENGTH bytes, sends BODY and then spaces until the server answers
    (it may answer from the headers alone) or LENGTH is reached; returns (status, body)."""
    sock = socket.create_connection(("127.0.0.1", rig.port), timeout=timeout)
    try:
        head = "%s %s HTTP/1.1\r\nHost: gadgetd\r\nAuthorization: %s\r\nContent-Length: %d\r\n" % (
            method, path, auth(rig), length)
        for k, v in (headers or {"Content-Type": "application/json"}).items():
            head += "%s: %s\r\n" % (k, v)
        sock.sendall(head.encode() + b"\r\n")
        sock.setblocking(False)
        sent, filler, deadline = 0, b" " * 65536, time.time() + timeout
        while sent < length:
            readable, writable, _ = select.select([sock], [sock], [], max(0, deadline - time.time()))
            if readable:
                break  # answered before the body was in
            if not writable:
                raise TimeoutError("the server neither reads the body nor answers")
            chunk = body[sent:sent + 65536] if sent < len(body) else filler
            try:
                sent += sock.send(chunk[:min(len(chunk), length - sent)])
            except BlockingIOError:
                continue
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(timeout)
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                break
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        size = next((int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")), None)
        while size is not None and len(rest) < size:
            more = sock.recv(65536)
            if not more:
                break
            rest += more
        return parse(status, rest)
    finally:
        sock.close()


def multipart(rig, parts, boundary="hostileboundary", path="/api/images", raw_body=None,
              content_type=None):
    """POSTs a multipart/form-data body of PARTS: (field name, filename or None, bytes)."""
    body = b""
    for name, filename, data in parts:
        disp = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename is not None else "")
        body += b"--" + boundary.encode() + b"\r\nContent-Disposition: " + disp.encode() + b"\r\n"
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + data + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    return request(rig, "POST", path, raw_body if raw_body is not None else body, headers={
        "Content-Type": content_type or "multipart/form-data; boundary=" + boundary})


def big(method, path, body):
    """A body over the limit: 413, sent only as far as the server reads it."""
    data = encode(body)
    return Case(method, path, data, 413, code="body_too_large",
                send=lambda rig, c: announce(rig, method, path, len(data), data))


def get(rig, path):
    st, body = request(rig, "GET", path)
    expect(st == 200, "GET %s: %s %s" % (path, st, body))
    return body


# -- what must not change ---------------------------------------------------------------------

def snapshot(rig):
    s = {"images": get(rig, "/api/images"), "media": get(rig, "/api/media"),
         "macros": get(rig, "/api/macros"), "saved": get(rig, "/api/macros/" + SAVED),
         "scripts": get(rig, "/api/scripts"), "script": get(rig, "/api/scripts/" + SCRIPT)}
    power = get(rig, "/api/power")
    power.pop("since", None)  # wall time computed anew each time
    s["power"] = power
    s["jobs"] = [(j["id"], j["kind"], j["state"]) for j in get(rig, "/api/jobs")["jobs"]]
    if TOTALS.get("tokens"):
        s["tokens"] = get(rig, "/api/tokens")
    gadget = get(rig, "/api/gadget")
    s["gadget"] = (gadget["connected"], gadget["udc"], gadget["functions"])
    rc, out = rig.sh("ls -A %s %s %s /var/lib/gadgetd" % (STORE, MACRO_DIR, SCRIPT_DIR))
    s["files"] = out
    s["boot"] = get(rig, "/redfish/v1/Systems/host")["Boot"]
    return s


def differences(before, after):
    return ["%s: %s -> %s" % (k, json.dumps(before[k])[:300], json.dumps(after[k])[:300])
            for k in before if before[k] != after[k]]


def presses(rig, mark):
    return [e for e in rig.events()[mark:]
            if (e.get("source") == "keyboard" and e.get("event") == "key") or
            (e.get("source") == "atx" and e.get("event") == "button_down")]


def check_reply(case, st, body):
    problems = []
    if st not in case.statuses:
        problems.append("status %s, expected %s" % (st, "/".join(map(str, case.statuses))))
    if not case.json_reply:
        return problems
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str) or not err["code"] \
            or not isinstance(err.get("message"), str) or not err["message"].strip():
        problems.append("not a JSON error: %r" % (body if not isinstance(body, bytes) else body[:200]))
        return problems
    if case.code and err["code"] != case.code:
        problems.append("code %r, expected %r" % (err["code"], case.code))
    for s in case.says:
        if s not in err["message"]:
            problems.append("message %r does not say %r" % (err["message"], s))
    return problems


# State is compared every WINDOW requests (a snapshot is nine requests): a change names the
# requests of its window.
WINDOW = 25


def run_cases(rig, name, cases):
    """Runs CASES; raises with every one that misbehaved. Returns how many ran."""
    failures = []
    mark = len(rig.events())
    before = snapshot(rig)
    window = []
    for i, case in enumerate(cases):
        try:
            if case.send:
                st, body = case.send(rig, case)
            else:
                st, body = request(rig, case.method, case.path, case.body, case.headers,
                                   timeout=case.timeout)
            problems = check_reply(case, st, body)
        except Exception as e:  # a hang, a reset, a crash
            problems = ["%s: %s" % (type(e).__name__, e)]
            st, body = None, None
        window.append(case.label())
        if problems:
            failures.append("%s -> %s %s\n      %s" % (
                case.label(), st, json.dumps(body)[:300] if not isinstance(body, bytes) else body[:100],
                "\n      ".join(problems)))
        if len(window) < WINDOW and i + 1 < len(cases):
            continue
        try:
            after = snapshot(rig)
        except Exception as e:
            failures.append("the daemon no longer answers after one of %s: %s" % (window, e))
            rig.recover()
            after = snapshot(rig)
        changed = differences(before, after)
        if changed:
            failures.append("state changed by one of:\n        %s\n      %s" % (
                "\n        ".join(window), "; ".join(changed)))
        before, window = after, []
    time.sleep(1)  # a key or button press let through reaches server.log within this
    pressed = presses(rig, mark)
    if pressed:
        failures.append("the server saw presses: %s" % pressed[:10])
    TOTALS[name] = len(cases)
    print("#   %s: %d hostile requests, %d misbehaved" % (name, len(cases), len(failures)), flush=True)
    expect(not failures, "%d of %d hostile requests misbehaved:\n  %s" % (
        len(failures), len(cases), "\n  ".join(failures)))
    return len(cases)


# -- shared variants --------------------------------------------------------------------------

WRONG = {
    "string": [1, -1, 1.5, True, False, None, [], ["x"], {}, {"a": "b"}],
    "integer": ["20", "", 1.5, 20.0, True, None, [], [20], {}, -1, 2 ** 63 - 1,
                Raw("1e400"), Raw("-1e400"), Raw("18446744073709551616"), Raw("9223372036854775808"),
                Raw("-9223372036854775809"), Raw("1e2"), Raw("NaN"), Raw("0x10"), Raw("01")],
    "boolean": ["true", "false", "", 1, 0, None, [], {}, Raw("True")],
    "array": ["shift", 1, True, None, {}, {"0": "shift"}],
}
# Strings JSON or jansson refuse, whatever the field.
BAD_STRINGS = [Raw(r'"a\u0000b"'), Raw(r'"\u0000"'), Raw(b'"\xff"'), Raw(b'"a\xc0\xae"'),
               Raw(b'"\xed\xa0\x80"'), Raw(b'"\xf4\x90\x80\x80"'), Raw(r'"\ud800"'), Raw(r'"\udc00x"'),
               Raw(b'"a\nb"'), Raw(r'"\x41"'), Raw('"unterminated')]


def field_cases(method, path, base, fields, extra_statuses=()):
    """Each field of BASE (a valid body) given each wrong type, refused naming the field."""
    cases = []
    for field, kind in fields.items():
        values = WRONG[kind] + (BAD_STRINGS if kind == "string" else [])
        for v in values:
            body = dict(base)
            body[field] = v
            cases.append(Case(method, path, body, (400,) + extra_statuses, says=field))
        body = dict(base)
        body[field] = Raw("[" * 40 + "]" * 40)
        cases.append(Case(method, path, body, 400, says="nested deeper than 32"))
    return cases


def body_cases(method, path, base, optional_body=False, empty_says="required"):
    """The body as a whole: not an object, not JSON, too deep, duplicated, too large."""
    first = next(iter(base)) if base else "x"
    text = encode(base)
    dup = b"{" + encode({first: base.get(first, 1)})[1:-1] + b", " + text[1:] if base else b'{"x": 1, "x": 1}'
    cases = [
        Case(method, path, b"null", says="expected a JSON object, got null"),
        Case(method, path, b"[]", says="expected a JSON object, got an array"),
        Case(method, path, encode([base]), says="expected a JSON object, got an array"),
        Case(method, path, b'"' + text.replace(b'"', b'\\"') + b'"', says="got a string"),
        Case(method, path, b"42", says="got an integer"),
        Case(method, path, b"-1.5e3", says="got a real number"),
        Case(method, path, b"true", says="got true"),
        Case(method, path, text + b" x", says="end of file expected"),
        Case(method, path, text + b"{}", says="end of file expected"),
        Case(method, path, text + b"\x00", says="invalid JSON"),
        Case(method, path, text[:-1], says="invalid JSON"),
        Case(method, path, b"{'%s': 1}" % first.encode(), says="invalid JSON"),
        Case(method, path, b"{\xff}", says="invalid JSON"),
        Case(method, path, b'{"\xff": 1}', says="unable to decode byte 0xff"),
        Case(method, path, b'{"a\\u0000": 1}', says="NUL byte in object key"),
        Case(method, path, b"\xef\xbb\xbf" + text, says="invalid JSON"),  # a BOM
        Case(method, path, dup, says=["duplicate object key", first]),
        Case(method, path, b"[" * 1000 + b"]" * 1000, says="nested deeper than 32 levels"),
        Case(method, path, b"{" + b'"a":{' * 999 + b"}" * 1000, says="nested deeper than 32 levels"),
        Case(method, path, b"[" * 100000, says="nested deeper than 32 levels"),
        Case(method, path, dict(base, zz_unknown=1), says="unknown field 'zz_unknown'"),
        Case(method, path, dict(base, **{"": 1}), says="unknown field ''"),
        Case(method, path, dict(base, **{first.upper(): 1}) if base else {"X": 1}, says="unknown field"),
        # 2 MiB announced: refused from the headers, unread.
        Case(method, path, None, 413, code="body_too_large",
             send=lambda rig, c: announce(rig, method, path, 2 << 20, b'{"%s": "' % first.encode())),
    ]
    if optional_body:
        cases.append(Case(method, path, b"   ", says="invalid JSON"))
    else:
        cases += [Case(method, path, b"", says="request body is empty"),
                  Case(method, path, b"   ", says="invalid JSON"),
                  Case(method, path, {}, says=empty_says)]
    return cases


# -- setup ------------------------------------------------------------------------------------

def setup(rig):
    if TOTALS.get("setup"):
        return
    st, body = request(rig, "PUT", "/api/images/" + IMG, os.urandom(1 << 20),
                       headers={"Content-Type": "application/octet-stream"})
    expect(st in (201, 409), "uploading %s: %s %s" % (IMG, st, body))
    st, body = request(rig, "PUT", "/api/macros/" + SAVED, SAVED_BODY)
    expect(st == 200, "saving %s: %s %s" % (SAVED, st, body))
    st, body = request(rig, "PUT", "/api/scripts/" + SCRIPT, SCRIPT_BODY)
    expect(st in (200, 201), "saving %s: %s %s" % (SCRIPT, st, body))
    # Once inserted and ejected: the state file exists, as it does on a BMC in use.
    for method, body in (("PUT", {"image": IMG, "mode": "disk"}), ("DELETE", None)):
        st, reply = request(rig, method, "/api/media", body)
        expect(st == 200, "%s /api/media: %s %s" % (method, st, reply))
    st, _ = request(rig, "GET", "/api/tokens")
    TOTALS["tokens"] = st == 200  # a daemon with API tokens
    TOTALS["setup"] = 1


# -- the tests --------------------------------------------------------------------------------

BAD_IMAGE_PATHS = [  # percent-encoded path segments no image can have
    "..", ".", ".hidden", "-rf", "a..b", "%2E%2E", "%2e", "a%00b", "%00", "a%0Ab", "a%0Db", "a%09b",
    "a%7Fb", "x" * 129, "x" * 300, "%FF", "%FE%FF", "a%C3", "%C0%AE%C0%AE", "%E0%80%AE",
    "%ED%A0%80", "%F4%90%80%80", "%F8%88%80%80%80", "%C2%85", "%C2%9B", "a%5Cb", "%5C",
]
NO_ROUTE_IMAGE_PATHS = ["a%2Fb", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a/b"]
BAD_IMAGE_NAMES = ["..", "../x", "../../etc/passwd", "/etc/passwd", ".hidden", "", "-x", "a..b",
                   "x" * 129, "x" * 5000, "a\nb", "a\tb", "a\x7fb", "a\x01b", "a\u0085b", "a\\b", "a/b",
                   ".upload-1-1.tmp", Raw(r'"a\u0000b"'), Raw(r'"\ud800"'), Raw(b'"\xc0\xae"')]


def test_image_names(rig):
    setup(rig)
    cases = []
    for seg in BAD_IMAGE_PATHS:
        p = "/api/images/" + seg
        cases += [Case("GET", p, says="image name"), Case("GET", p + "/content", says="image name"),
                  Case("DELETE", p, says="image name"),
                  Case("PUT", p, b"x" * 100, says="image name",
                       headers={"Content-Type": "application/octet-stream"})]
    for seg in NO_ROUTE_IMAGE_PATHS:
        p = "/api/images/" + seg
        for method in ("GET", "DELETE", "PUT"):
            cases.append(Case(method, p, b"x" if method == "PUT" else None, 404, code="not_found"))
        cases.append(Case("GET", p + "/content", None, 404))
    for seg in ("missing.iso", "d%C3%A9bian-missing.iso", "%E2%80%AEosi.exe", "x" * 128):
        p = "/api/images/" + seg
        cases += [Case("GET", p, None, 404, code="no_such_image"),
                  Case("GET", p + "/content", None, 404, code="no_such_image"),
                  Case("DELETE", p, None, 404, code="no_such_image")]
    for name in BAD_IMAGE_NAMES:
        cases.append(Case("PUT", "/api/media", {"image": name}, says="image"))
        cases.append(Case("PUT", "/api/media", {"image": name, "mode": "disk"}, says="image"))
        cases.append(Case("POST", "/api/images", {"url": "http://10.0.2.2:9/x", "name": name},
                          says="name"))
    cases.append(Case("PUT", "/api/media", {"image": "missing.iso"}, 404, code="no_such_image"))
    run_cases(rig, "image names", cases)


def test_image_uploads(rig):
    setup(rig)
    put = "/api/images/hostile-put.img"
    octet = {"Content-Type": "application/octet-stream"}
    cases = [
        Case("PUT", put, b"", says="empty upload", headers=octet),
        Case("PUT", put, b"data", says="X-Checksum-Sha256", headers=dict(octet, **{"X-Checksum-Sha256": "zz"})),
        Case("PUT", put, b"data", says="X-Checksum-Sha256",
             headers=dict(octet, **{"X-Checksum-Sha256": "0" * 63})),
        Case("PUT", put, b"data", says="X-Checksum-Sha256",
             headers=dict(octet, **{"X-Checksum-Sha256": "g" * 64})),
        Case("PUT", put, b"data", code="checksum_mismatch",
             headers=dict(octet, **{"X-Checksum-Sha256": "0" * 64})),
        # More than the store holds, announced: refused before a byte is stored.
        Case("PUT", put, None, 507, code="insufficient_storage",
             send=lambda rig, c: announce(rig, "PUT", put, 1 << 50, headers=octet)),
        # A length past 2^64: libmicrohttpd answers 413 itself (HTML), before gadgetd sees it.
        Case("PUT", put, None, 413, json_reply=False, send=lambda rig, c: (
            announce(rig, "PUT", put, 99999999999999999999999, headers=octet))),
        Case("PUT", "/api/images/" + IMG, b"x", 409, code="image_inserted",
             send=lambda rig, c: insert_and_replace(rig)),
    ]
    # A browser's form: names from the file part or a "name" field.
    file = b"y" * 4096
    forms = [
        ([("file", "../evil.img", file)], "image name"),
        ([("file", "..", file)], "image name"),
        ([("file", ".hidden", file)], "image name"),
        ([("file", "a\x01b", file)], "image name"),
        ([("file", "x" * 300, file)], "image name"),
        ([("name", None, b"../x"), ("file", "hostile-mp.img", file)], "image name"),
        ([("name", None, b"x" * 300), ("file", "hostile-mp.img", file)], "name"),
        ([("name", None, b"a\x00b"), ("file", "hostile-mp.img", file)], "name"),
        ([("name", None, b"\xff\xfe"), ("file", "hostile-mp.img", file)], "image name"),
        ([("file", "hostile-mp.img", file), ("name", None, b"other.img")], "name"),
        ([("file", "hostile-mp.img", file), ("file2", "hostile-mp2.img", file)], "more than one file"),
        ([("file", "hostile-mp.img", file), ("file", "hostile-mp.img", file)], "more than one file"),
        ([("name", None, b"hostile-mp.img")], "no file part"),
        ([], "no file part"),
    ]
    for parts, says in forms:
        cases.append(Case("POST", "/api/images", parts, says=says,
                          send=lambda rig, c: multipart(rig, c.body)))
    cases += [
        Case("POST", "/api/images", "no boundary", send=lambda rig, c: multipart(
            rig, [("file", "hostile-mp.img", file)], content_type="multipart/form-data")),
        Case("POST", "/api/images", "garbage", send=lambda rig, c: multipart(
            rig, [], raw_body=b"\xff" * 5000)),
        Case("POST", "/api/images", "truncated", send=lambda rig, c: multipart(
            rig, [], raw_body=b'--hostileboundary\r\nContent-Disposition: form-data; name="file"; '
                              b'filename="hostile-mp.img"\r\n\r\nabc')),
    ]
    run_cases(rig, "image uploads", cases)


def insert_and_replace(rig):
    """Replacing the inserted image: 409, and the medium stays."""
    st, body = request(rig, "PUT", "/api/media", {"image": IMG, "mode": "disk"})
    expect(st == 200, "inserting %s: %s %s" % (IMG, st, body))
    try:
        return request(rig, "PUT", "/api/images/" + IMG, b"x", {"Content-Type": "application/octet-stream"})
    finally:
        st, body = request(rig, "DELETE", "/api/media")
        expect(st == 200, body)


def test_image_downloads(rig):
    setup(rig)
    base = {"url": "http://10.0.2.2:9/hostile", "name": "hostile-dl.img"}
    cases = field_cases("POST", "/api/images", base, {"url": "string", "name": "string"})
    # The JSON body of this route is at most 64 KiB (larger ones are 413, below).
    cases += [c for c in body_cases("POST", "/api/images", base)
              if c.code != "body_too_large" and len(encode(c.body) or b"") <= 65536]
    for url in ["file:///etc/passwd", "ftp://10.0.2.2/x", "gopher://10.0.2.2/x", "dict://x/",
                "scp://x/y", "javascript:alert(1)", "", "http:", "http://", "http:///x", "https://",
                "http://a b/", "http://10.0.2.2:9/x\r\nHost: y", "http://10.0.2.2:9/\x01", "http://\x7f/",
                "//10.0.2.2/x", "http://[::1/x", "http://10.0.2.2:99999999/x", " http://10.0.2.2:9/",
                "http://10.0.2.2:9/" + "a" * 3000, "HTTP://10.0.2.2:9/x", Raw(r'"http://x/\u0000"'),
                "http:/x", "http:x", "http://?x", "http://#x", "http://@/", "http://:80/",
                "http://a:b@/", "http://%00/", "http://x:-1/", "https:///"]:
        cases.append(Case("POST", "/api/images", dict(base, url=url), says="url"))
    cases += [
        Case("POST", "/api/images", {"name": "hostile-dl.img"}, says="'url' is required"),
        Case("POST", "/api/images", {"url": base["url"]}, says="'name' is required"),
        Case("POST", "/api/images?wait=abc", base, says="'wait'"),
        Case("POST", "/api/images?wait=2", base, says="'wait'"),
        Case("POST", "/api/images?wait=-1", base, says="'wait'"),
        Case("POST", "/api/images?wait=", base, says="'wait'"),
        Case("POST", "/api/images?wait=1%00", base, says="'wait'"),
        big("POST", "/api/images", b'{"url": "' + b"a" * (100 << 10) + b'"}'),
        Case("POST", "/api/images", None, 413, code="body_too_large",
             send=lambda rig, c: announce(rig, "POST", "/api/images", 2 << 20, b'{"url": "')),
    ]
    run_cases(rig, "image downloads", cases)


def test_media(rig):
    setup(rig)
    base = {"image": IMG, "mode": "disk", "readonly": True}
    cases = field_cases("PUT", "/api/media", base, {"image": "string", "mode": "string", "readonly": "boolean"})
    cases += body_cases("PUT", "/api/media", base)
    for mode in ["floppy", "CDROM", "Disk", "", "cdrom ", "disk\n", "x" * 1000]:
        cases.append(Case("PUT", "/api/media", dict(base, mode=mode), says="'mode'"))
    cases += [
        Case("PUT", "/api/media", {"image": IMG, "mode": "cdrom", "readonly": False}, says="readonly"),
        Case("PUT", "/api/media", {"image": IMG, "readonly": False}, says="readonly"),
        Case("PATCH", "/api/media", base, 405, code="method_not_allowed"),
        Case("POST", "/api/media", base, 405, code="method_not_allowed"),
    ]
    run_cases(rig, "media", cases)


def test_power(rig):
    setup(rig)
    base = {"action": "press"}
    cases = field_cases("POST", "/api/power", base, {"action": "string"})
    cases += body_cases("POST", "/api/power", base)
    for action in ["PRESS", "press ", " press", "press\n", "on; reboot", "", "x" * 1000,
                   "a\u00e9" * 20, "\u00e9" * 40, "long_press", "longpress", "force off", "off!"]:
        cases.append(Case("POST", "/api/power", {"action": action}, says="'action'"))
    cases += [
        Case("POST", "/api/power", None, 413, code="body_too_large",
             send=lambda rig, c: request(rig, "POST", "/api/power",
                                         iter([b'{"action": "' + b"p" * 65536] + [b"p" * 65536] * 32))),
        Case("PUT", "/api/power", base, 405, code="method_not_allowed"),
        Case("DELETE", "/api/power", None, 405, code="method_not_allowed"),
    ]
    run_cases(rig, "power", cases)


def test_gadget(rig):
    setup(rig)
    base = {"connected": True}
    cases = field_cases("POST", "/api/gadget", base, {"connected": "boolean"})
    cases += body_cases("POST", "/api/gadget", base)
    cases += [Case("POST", "/api/gadget", {"connected": False, "x": 1}, says="unknown field 'x'"),
              Case("POST", "/api/gadget", {"connected": "false"}, says="connected"),
              Case("POST", "/api/gadget", {"connected": 0}, says="connected"),
              Case("PUT", "/api/gadget", base, 405)]
    run_cases(rig, "gadget", cases)


BAD_MACROS = [
    "nokey", "ctrl+nokey", "ctrl+", "+", "++", "ctrl++a", "type \"unterminated", "type \"\"",
    "type unquoted", "type \"a\" extra", "type \"\\q\"", "type \"\\uZZZZ\"", "type \"\\u00\"",
    "type \"\\u0000\"", "repeat 99999999999999999999: a", "repeat 10001: a", "repeat 0: a",
    "repeat -1: a", "repeat: a", "repeat 3", "repeat 3:", "repeat 3 every: a", "repeat 3 every 0.5: a",
    "repeat 2: repeat 2: repeat 2: repeat 2: repeat 2: a",
    "repeat 2 every 10ms: repeat 2 every 10ms: a", "wait", "wait 5", "wait -1s", "wait 1.5.5s",
    "wait 99999h", "wait 3601s", "wait 1e3s", "wait 0x10ms", "hold", "hold ctrl", "hold ctrl 2h",
    "hold ctrl -1s", "ctrl+alt+a+b+c+d+e+f+g", "a+b+c+d+e+f+g", ";;;", "# only a comment",
    "\n\n\n", "\u202eshift", "shift\u200b", "\u00e9", "\U0001f600", "a" * 100000,
    " zz" * 300000,  # 900 KB of unknown names
]


def test_keys(rig):
    setup(rig)
    cases = []
    cases += field_cases("POST", "/api/keys", {"keys": ["shift"]}, {"keys": "array"})
    cases += field_cases("POST", "/api/keys", {"macro": "shift"}, {"macro": "string"})
    cases += field_cases("POST", "/api/keys", {"text": "a"}, {"text": "string"})
    cases += field_cases("POST", "/api/keys", {"keys": ["shift"], "layout": "us", "pacing_ms": 20},
                         {"layout": "string", "pacing_ms": "integer"})
    cases += body_cases("POST", "/api/keys", {"keys": ["shift"]}, empty_says="exactly one of")
    for keys, says in [([], "'keys'"), (["nokey"], "keys[0]"), (["shift", "nokey"], "keys[1]"),
                       ([1], "keys[0]"), ([None], "keys[0]"), ([["shift"]], "keys[0]"),
                       (["shift", {}], "keys[1]"), (["a"] * 17, "'keys'"),
                       (["a", "b", "c", "d", "e", "f", "g"], "'keys'"), ([""], "keys[0]"),
                       (["shift\n"], "keys[0]"), (["x" * 10000], "keys[0]"),
                       ([Raw(r'"a\u0000"')], "keys[0]"), ([Raw(b'"\xff"')], "keys[0]")]:
        cases.append(Case("POST", "/api/keys", {"keys": keys}, says=says))
    for body in [{}, {"keys": ["shift"], "macro": "shift"}, {"keys": ["shift"], "text": "a"},
                 {"macro": "shift", "text": "a"}, {"layout": "us"}, {"pacing_ms": 20}]:
        cases.append(Case("POST", "/api/keys", body, says="exactly one of"))
    for text in ["", "\u2603", "\u0001", "a\u0000b", "\U0001f600", "\ud7ff", "\x7f", "a" * 10 + "\u20ac"]:
        body = {"text": Raw(json.dumps(text).replace("\\u0000", "\\u0000"))}
        cases.append(Case("POST", "/api/keys", body, says="text"))
    for layout in ["../../etc/passwd", "", "US", "us ", "us/../us", "x" * 5000, "us\n",
                   Raw(r'"us\u0000"'), Raw(b'"us\xff"'), "../keymaps/us"]:
        cases.append(Case("POST", "/api/keys", {"text": "a", "layout": layout}, says="layout"))
    for pacing in [-1, 1001, 2 ** 31, -2 ** 31, 2 ** 32 + 20]:
        cases.append(Case("POST", "/api/keys", {"text": "a", "pacing_ms": pacing}, says="pacing_ms"))
    for macro in BAD_MACROS + ["repeat 10000: repeat 10000: a", "repeat 10000: type \"" + "a" * 500 + "\""]:
        cases.append(Case("POST", "/api/keys", {"macro": macro}, says="macro"))
    cases.append(big("POST", "/api/keys", {"macro": "a;" * (1 << 19)}))
    for query in ["wait=abc", "wait=2", "wait=-1", "wait=", "wait=1%00", "wait=true", "wait=01x"]:
        cases.append(Case("POST", "/api/keys?" + query, {"keys": ["shift"]}, says="'wait'"))
    cases.append(Case("GET", "/api/keys", None, 405))
    run_cases(rig, "keys", cases)


BAD_MACRO_NAMES = ["..", ".", ".hidden", "-x", "UPPER", "a%20b", "a%00b", "%00", "a%0Ab", "x" * 65,
                   "%FF", "%C3%A9", "a%5Cb", "a:b", "a*b", "a%22b", "a'b", "%2E%2E"]


def test_macros(rig):
    setup(rig)
    path = "/api/macros/" + SAVED
    base = {"macro": "ctrl", "description": "changed"}
    cases = field_cases("PUT", path, base, {"macro": "string", "description": "string"})
    cases += body_cases("PUT", path, base)
    cases.append(Case("PUT", path, {"description": "only"}, says="'macro' is required"))
    for macro in BAD_MACROS:
        cases.append(Case("PUT", path, {"macro": macro}, says="macro"))
    cases.append(big("PUT", path, {"macro": "a;" * (1 << 19)}))
    for seg in BAD_MACRO_NAMES:
        p = "/api/macros/" + seg
        cases += [Case("GET", p, says="macro name"), Case("DELETE", p, says="macro name"),
                  Case("PUT", p, {"macro": "shift"}, says="macro name"),
                  Case("POST", p + "/run", {}, says="macro name"),
                  Case("POST", p + "/run", None, says="macro name")]
    for seg in ["a%2Fb", "..%2F..%2Fetc%2Fpasswd", ""]:
        cases += [Case("GET", "/api/macros/" + seg + "/x", None, 404),
                  Case("PUT", "/api/macros/" + seg + "/x", {"macro": "shift"}, (404, 405))]
    for seg in ["no-such-macro", "x" * 64]:
        p = "/api/macros/" + seg
        cases += [Case("GET", p, None, 404, code="no_such_macro"),
                  Case("DELETE", p, None, 404, code="no_such_macro"),
                  Case("POST", p + "/run", None, 404, code="no_such_macro")]
    cases += [Case("PUT", "/api/macros/ctrl-alt-del", {"macro": "shift"}, 409, code="builtin_macro"),
              Case("DELETE", "/api/macros/ctrl-alt-del", None, 409, code="builtin_macro")]
    # Running a macro: the body is optional, but when there is one it must be right.
    run = "/api/macros/%s/run" % BUILTIN
    rbase = {"layout": "us", "pacing_ms": 20}
    cases += field_cases("POST", run, rbase, {"layout": "string", "pacing_ms": "integer"})
    cases += body_cases("POST", run, rbase, optional_body=True)
    cases += [Case("POST", run, {"layout": "xx"}, says="layout"),
              Case("POST", run, {"layout": "../../etc/passwd"}, says="layout"),
              Case("POST", run, {"pacing_ms": 1001}, says="pacing_ms"),
              Case("POST", run, {"macro": "a"}, says="unknown field 'macro'")]
    for query in ["wait=abc", "wait=2", "wait=-1", "wait=", "wait=1%00"]:
        cases.append(Case("POST", run + "?" + query, {}, says="'wait'"))
        cases.append(Case("POST", run + "?" + query, None, says="'wait'"))
    run_cases(rig, "macros", cases)


BAD_STEPS = [  # (step, what the message says)
    ({"power": "up"}, "'power' must be"), ({"power": 1}, "'power' must be"),
    ({"jump": "x"}, "unknown step"), ({}, "unknown step"), ([], "a step must be an object"),
    ("power", "a step must be an object"), (None, "a step must be an object"),
    ({"power": "on", "keys": "f12"}, "does one thing"),
    ({"media": "insert", "image": "no-such.iso"}, "no image 'no-such.iso'"),
    ({"media": "insert", "image": "../../etc/passwd"}, "no image"),
    ({"media": "insert", "image": IMG, "mode": "tape"}, "'mode'"),
    ({"media": "insert", "image": IMG, "readonly": "yes"}, "'readonly'"),
    ({"media": "insert"}, "needs \"image\""), ({"media": "eject", "image": IMG}, "eject takes"),
    ({"keys": "ctrl+nokey"}, "bad macro"), ({"keys": ""}, "'keys'"), ({"keys": 5}, "'keys'"),
    ({"type": "x", "layout": "xx"}, "no keyboard layout"), ({"type": 5}, "'type'"),
    ({"expect": "("}, "bad pattern"), ({"expect": ""}, "'expect'"),
    ({"wait": "forever"}, "'wait'"), ({"wait": -1}, "'wait'"), ({"wait": 10 ** 12}, "'wait'"),
    ({"wait": "1e400s"}, "'wait'"), ({"log": ""}, "non-empty"), ({"console": 1}, "non-empty"),
    ({"power": "on", "timeout": 0}, "'timeout'"), ({"power": "on", "timeout": 2 ** 62}, "'timeout'"),
    ({"power": "on", "timeout": "5"}, "'timeout'"), ({"power": "on", "retries": -1}, "'retries'"),
    ({"power": "on", "retry_delay": "soon"}, "retry_delay"), ({"power": "on", "name": ""}, "'name'"),
    ({"power": "on", "wait_for": "sleeping"}, "'wait_for'"), ({"power": "on", "zz": 1}, "unknown field 'zz'"),
    ({"seed": {"label": "cidata", "files": {"a": "b"}}}, "label"),
    ({"seed": {"label": "CIDATA", "files": {"../a": "b"}}}, "file name"),
    ({"seed": {"label": "CIDATA", "files": {"a": 1}}}, "must be its text"),
    ({"seed": {"label": "CIDATA", "files": {}}}, "1 to 16"), ({"seed": "x"}, "'seed' must be"),
    ({"log": "${Bad}"}, "malformed variable"), ({"log": "${unclosed"}, "malformed variable"),
    ({"log": "${" + "a" * 40 + "}"}, "malformed variable"),
]
BAD_SCRIPT_NAMES = BAD_MACRO_NAMES


def test_scripts(rig):
    setup(rig)
    path = "/api/scripts/" + SCRIPT
    base = {"description": "changed", "steps": [{"log": "changed"}]}
    cases = body_cases("PUT", path, base)
    cases += field_cases("PUT", path, base, {"description": "string", "steps": "array"})
    for step, says in BAD_STEPS:
        cases.append(Case("PUT", path, {"steps": [{"log": "first"}, step]}, says=["step 1", says]))
    cases += [Case("PUT", path, {"steps": []}, says="1 to 256"),
              Case("PUT", path, {"steps": [{"log": "x"}] * 257}, says="1 to 256"),
              Case("PUT", path, {"description": "x" * 1025, "steps": [{"log": "x"}]}, says="description"),
              Case("PUT", path, {"vars": {"A": "x"}, "steps": [{"log": "x"}]}, says="variable name"),
              Case("PUT", path, {"vars": {"a": 5}, "steps": [{"log": "x"}]}, says="variable 'a'"),
              Case("PUT", path, {"vars": {"a": "x" * 5000}, "steps": [{"log": "x"}]}, says="variable 'a'"),
              Case("PUT", path, {"vars": [], "steps": [{"log": "x"}]}, says="'vars'"),
              Case("PUT", path, {"on_failure": {"media": "burn"}, "steps": [{"log": "x"}]}, says="on_failure"),
              Case("PUT", path, {"on_failure": {"x": 1}, "steps": [{"log": "x"}]}, says="unknown field 'x'"),
              Case("PUT", path, {"on_failure": "eject", "steps": [{"log": "x"}]}, says="on_failure")]
    cases.append(big("PUT", path, {"steps": [{"log": "x" * (2 << 20)}]}))
    for seg in BAD_SCRIPT_NAMES:
        p = "/api/scripts/" + seg
        cases += [Case("GET", p, says="script name"), Case("DELETE", p, says="script name"),
                  Case("PUT", p, base, says="script name"),
                  Case("POST", p + "/run", {}, says="script name"),
                  Case("POST", p + "/run", None, says="script name")]
    for seg in ["no-such-script", "x" * 64]:
        p = "/api/scripts/" + seg
        cases += [Case("GET", p, None, 404, code="no_such_script"),
                  Case("DELETE", p, None, 404, code="no_such_script"),
                  Case("POST", p + "/run", None, 404, code="no_such_script")]
    # Running: the body is optional; when there is one it is {"vars": {...}} and nothing else.
    run = path + "/run"
    cases += body_cases("POST", run, {"vars": {"a": "b"}}, optional_body=True)
    cases += [Case("POST", run, {"vars": "x"}, says="'vars'"),
              Case("POST", run, {"vars": {"a": 1}}, says="variable"),
              Case("POST", run, {"vars": {"a": "x" * 5000}}, says="variable"),
              Case("POST", run, {"vars": {"Bad": "x"}}, says="variable name"),
              Case("POST", run, {"vars": {}, "extra": 1}, says="unknown field 'extra'")]
    run_cases(rig, "scripts", cases)


BAD_JOB_IDS = ["abc", "-1", "1.5", "1e3", "0x10", "%20", "1%20", "%201", "%00", "1%00", "+1",
               "99999999999999999999", "18446744073709551616", "1" * 100, "%FF", "..", "1,2", "%E2%91%A0"]


def test_jobs(rig):
    setup(rig)
    cases = []
    for seg in BAD_JOB_IDS:
        cases += [Case("GET", "/api/jobs/" + seg, None, 400, says="job id"),
                  Case("DELETE", "/api/jobs/" + seg, None, 400, says="job id")]
    for seg in ["0", "999999", "18446744073709551615"]:
        cases += [Case("GET", "/api/jobs/" + seg, None, 404, code="no_such_job"),
                  Case("DELETE", "/api/jobs/" + seg, None, 404, code="no_such_job")]
    cases += [Case("POST", "/api/jobs/1", {}, 405), Case("PUT", "/api/jobs", {}, 405),
              Case("GET", "/api/jobs/1/x", None, 404)]
    run_cases(rig, "jobs", cases)


def ws_headers():
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}


def test_console(rig):
    setup(rig)
    start = get(rig, "/api/console")["next"]
    cases = []
    queries = {
        "since": ["-1", "99999999999999999999", "abc", "", "1.5", "1e3", "%2B1", "1%00", "0x10", "%201",
                  str(2 ** 63)],
        "wait": ["abc", "-1", "301", "1.5", "", "1%00", "99999999999999999999"],
        "max": ["0", "-1", "abc", "99999999999", "4194305", "", "1.5"],
        "encoding": ["foo", "", "TEXT", "text%00", "base64%20", "hex", "utf-8"],
    }
    for key, values in queries.items():
        for v in values:
            cases.append(Case("GET", "/api/console?%s=%s" % (key, v), None, says="'%s'" % key))
    cases.append(Case("GET", "/api/console?since=%d" % (start + 100000), None, code="bad_offset"))
    for v in ["../x", "-1", "abc", "99", "1.5", "", "%00", "1%2F..%2F..%2Fetc%2Fpasswd"]:
        cases.append(Case("GET", "/api/console/log?part=" + v, None, says="'part'"))
    for v in ["abc", "-1", "99999999999999", "", "1.5"]:
        cases.append(Case("GET", "/api/console/ws?replay=" + v, None, says="'replay'",
                          headers=ws_headers(), timeout=10))
    cases += [
        Case("GET", "/api/console/ws", None, says="Sec-WebSocket-Version", timeout=10,
             headers=dict(ws_headers(), **{"Sec-WebSocket-Version": "12"})),
        Case("GET", "/api/console/ws", None, says="Sec-WebSocket-Key", timeout=10,
             headers=dict(ws_headers(), **{"Sec-WebSocket-Key": "!!!"})),
    ]
    base = {"data": "# %s\n" % MARKER}
    cases += field_cases("POST", "/api/console", base, {"data": "string"})
    cases += body_cases("POST", "/api/console", base)
    cases += [Case("POST", "/api/console", {"data": ""}, says="'data' must not be empty"),
              Case("POST", "/api/console", {"data": ["# " + MARKER]}, says="'data'"),
              Case("POST", "/api/console", {"data": base["data"], "echo": True}, says="unknown field 'echo'")]
    ebase = {"pattern": MARKER, "timeout": 0, "since": 0}
    cases += field_cases("POST", "/api/console/expect", ebase,
                         {"pattern": "string", "timeout": "integer", "since": "integer"})
    cases += body_cases("POST", "/api/console/expect", ebase)
    for pattern in ["(", "a{99999}", "\\", "[z-a]", "(?i)a", "[[:nope:]]", "x{2,1}"]:
        cases.append(Case("POST", "/api/console/expect", {"pattern": pattern, "timeout": 0},
                          code="bad_pattern", says="'pattern'"))
    for timeout in [-1, 3601, 2 ** 62]:
        cases.append(Case("POST", "/api/console/expect", {"pattern": "x", "timeout": timeout}, says="'timeout'"))
    for since in [-1, 2 ** 62, start + 100000]:
        cases.append(Case("POST", "/api/console/expect", {"pattern": "x", "since": since}, says="'since'"))
    run_cases(rig, "console", cases)
    text = get(rig, "/api/console?since=%d" % start)["data"]
    expect(MARKER not in text, "a refused write reached the console: %r" % text[-300:])


def test_tokens_and_login(rig):
    setup(rig)
    if not TOTALS["tokens"]:
        return
    base = {"name": "hostile-token", "role": "viewer", "expires_in_s": 3600}
    cases = field_cases("POST", "/api/tokens", base,
                        {"name": "string", "role": "string", "expires_in_s": "integer"})
    cases += body_cases("POST", "/api/tokens", base)
    for name in ["", "a b", "../x", "x" * 33, "a\u0085", "a/b", "a\nb", "\u00e9"]:
        cases.append(Case("POST", "/api/tokens", dict(base, name=name), says="name"))
    for role in ["root", "ADMIN", "", "viewer ", "viewer\n", "x" * 17]:
        cases.append(Case("POST", "/api/tokens", dict(base, role=role), says="role"))
    for expires in [0, 59, -1, 86400 * 3651, 2 ** 62]:
        cases.append(Case("POST", "/api/tokens", dict(base, expires_in_s=expires), says="expires_in_s"))
    for seg in ["..", "%00", "x" * 300, "%FF", "a%2Fb"]:
        cases.append(Case("DELETE", "/api/tokens/" + seg, None, 404))
    # Logging in: a malformed body is refused before any password is looked at (and is not a
    # failed login that makes the address wait).
    user, password = rig.credentials()
    lbase = {"user": user, "password": password}
    cases += field_cases("POST", "/api/login", lbase, {"user": "string", "password": "string"})
    cases += body_cases("POST", "/api/login", lbase)
    cases += [Case("POST", "/api/login", {"user": "x" * 33, "password": password}, says="'user'"),
              Case("POST", "/api/login", {"user": user, "password": "x" * 1025}, says="'password'"),
              Case("POST", "/api/login", {"user": user, "password": ""}, says="'password'")]
    run_cases(rig, "tokens and login", cases)
    st, body = request(rig, "GET", "/api/status")
    expect(st == 200, "after the hostile logins: %s %s" % (st, body))

RF = "/redfish/v1"
RF_IDS = ["..", "%2e%2e", "%00", "a%0Ab", "x" * 300, "%FF", "-1", "0", "18446744073709551616", "Host", "host%20"]


def redfish_cases(cases):
    """Redfish names its errors from its Base registry: the /api codes are not checked there."""
    for c in cases:
        c.code = None
    return cases


def test_redfish(rig):
    setup(rig)
    reset = RF + "/Systems/host/Actions/ComputerSystem.Reset"
    insert = RF + "/Managers/gadgetd/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia"
    eject = RF + "/Managers/gadgetd/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia"
    login = {"UserName": "nobody", "Password": "not-the-password"}
    media = {"Image": IMG}
    cases = field_cases("POST", reset, {"ResetType": "PushPowerButton"}, {"ResetType": "string"})
    cases += body_cases("POST", reset, {"ResetType": "PushPowerButton"})
    for t in ["on", "ON", "On ", "Nmi", "ForceOn", "Suspend", "", "x" * 1000, "On\n"]:
        cases.append(Case("POST", reset, {"ResetType": t}, says="ResetType"))
    cases += field_cases("POST", insert, media, {"Image": "string", "Inserted": "boolean",
                                                "WriteProtected": "boolean",
                                                "TransferProtocolType": "string",
                                                "UserName": "string", "Password": "string"})
    cases += body_cases("POST", insert, media)
    for image in ["file:///etc/passwd", "ftp://10.0.2.2/x.iso", "http://", "http:///x.iso",
                  "http://10.0.2.2/a b.iso", "../" + IMG, "/" + IMG, ".hidden", "a/b.iso",
                  "http://10.0.2.2/" + "x" * 3000, "x" * 200]:
        cases.append(Case("POST", insert, {"Image": image}, (400, 404), says="Image"))
    cases += [Case("POST", insert, dict(media, Inserted=False), says="Inserted"),
              Case("POST", insert, dict(media, TransferProtocolType="NFS"), says="TransferProtocolType"),
              Case("POST", insert, dict(media, TransferMethod="Copy"), says="TransferMethod"),
              Case("POST", insert, dict(media, WriteProtected=False), says="write-protected"),
              Case("POST", eject, {"Image": IMG}, says="no parameters"),
              Case("POST", eject, b"[]", says="expected a JSON object"),
              Case("POST", eject, b"{", says="invalid JSON")]
    boot = {"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}
    cases += body_cases("PATCH", RF + "/Systems/host", boot)
    for key, kind in (("BootSourceOverrideTarget", "string"), ("BootSourceOverrideEnabled", "string"),
                      ("BootSourceOverrideMode", "string")):
        for v in WRONG[kind] + ["", "cd", "CD", "Floppy", "UefiHttp", "x" * 500]:
            cases.append(Case("PATCH", RF + "/Systems/host", {"Boot": dict(boot["Boot"], **{key: v})},
                              says=key))
    for v in WRONG["string"] + ["Cd"]:
        if not isinstance(v, dict):
            cases.append(Case("PATCH", RF + "/Systems/host", {"Boot": v}, says="Boot"))
    cases += [Case("PATCH", RF + "/Systems/host", dict(boot, PowerState="Off"), says="PowerState"),
              Case("PATCH", RF + "/Systems/host", boot, 412, says="If-Match",
                   headers={"If-Match": '"ffffffffffffffff"'}),
              Case("PATCH", RF + "/Systems/host", boot, 412, headers={"If-Match": "W/\"x\""})]
    cases += field_cases("POST", RF + "/SessionService/Sessions", login,
                         {"UserName": "string", "Password": "string"})
    cases += body_cases("POST", RF + "/SessionService/Sessions", login)
    for seg in RF_IDS:
        cases += [Case("GET", RF + "/Systems/" + seg, None, (400, 404)),
                  Case("PATCH", RF + "/Systems/" + seg, boot, (400, 404)),
                  Case("POST", RF + "/Systems/%s/Actions/ComputerSystem.Reset" % seg,
                       {"ResetType": "PushPowerButton"}, (400, 404)),
                  Case("GET", RF + "/Managers/" + seg, None, (400, 404)),
                  Case("GET", RF + "/Managers/gadgetd/VirtualMedia/" + seg, None, (400, 404)),
                  Case("GET", RF + "/Managers/%s/VirtualMedia" % seg, None, (400, 404)),
                  Case("POST", RF + "/Managers/gadgetd/VirtualMedia/%s/Actions/VirtualMedia.InsertMedia" % seg,
                       media, (400, 404)),
                  Case("POST", RF + "/Managers/gadgetd/VirtualMedia/%s/Actions/VirtualMedia.EjectMedia" % seg,
                       None, (400, 404)),
                  Case("GET", RF + "/SessionService/Sessions/" + seg, None, (400, 404)),
                  Case("DELETE", RF + "/SessionService/Sessions/" + seg, None, (400, 404)),
                  Case("GET", RF + "/TaskService/Tasks/" + seg, None, (400, 404)),
                  Case("DELETE", RF + "/TaskService/Tasks/" + seg, None, (400, 404))]
    cases += [Case("PUT", RF + "/Systems/host", boot, 405), Case("DELETE", RF + "/Systems", None, 405),
              Case("POST", RF, {}, 405), Case("GET", RF + "/Systems/host/Actions/ComputerSystem.Reset", None, 405),
              Case("GET", RF + "/Chassis", None, 404)]
    run_cases(rig, "redfish", redfish_cases(cases))


def test_panel_paths(rig):
    """The browser panel's files: paths that climb out, hide, smuggle bytes or are huge are
    refused with a JSON error and serve nothing; the API's prefix is never the panel's."""
    setup(rig)
    cases = []
    for path in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/shadow", "/vendor/../../etc/passwd",
                 "/.%2e/x", "/index.html%00.js", "/%00", "/index.html%0a", "/js/%2e%2e%2fmain.js",
                 "/.git/config", "/.env", "//etc/passwd", "/js//main.js", "/a%20b", "/%ff.js",
                 "/%C3%A9.html",
                 "/" + "a" * 200 + ".js", "/x/" * 300]:
        cases.append(Case("GET", path, None, (400, 404, 414)))
    for path in ["/nope.html", "/js/nope.js", "/vendor", "/js/"]:
        cases.append(Case("GET", path, None, 404, code="not_found"))
    for method in ["POST", "PUT", "DELETE", "PATCH"]:
        cases.append(Case(method, "/index.html", b"x", 405, code="method_not_allowed"))
    for path in ["/api", "/api/", "/api/index.html", "/api/../index.html", "/redfish/index.html",
                 "/redfish/v1/index.html"]:
        cases.append(Case("GET", path, None, (400, 404), code=None))
    run_cases(rig, "panel paths", cases)


def served_routes():
    """METHOD /path of every route in http.c's table."""
    import re
    source = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gadgetd",
                               "http.c")).read()
    return set("%s %s" % r for r in re.findall(
        r'(?:ROUTE|STREAM|PUBLIC)\(\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/[^"]*)"', source))


def test_every_route_with_input_was_tried(rig):
    """The route table in http.c: each route that takes a body, a path name or a query is in
    one of the tables above."""
    tried = {"POST /api/gadget", "POST /api/keys", "GET /api/jobs/{}", "DELETE /api/jobs/{}",
             "GET /api/macros/{}", "PUT /api/macros/{}", "DELETE /api/macros/{}",
             "POST /api/macros/{}/run", "POST /api/images", "GET /api/images/{}", "PUT /api/images/{}",
             "DELETE /api/images/{}", "GET /api/images/{}/content", "PUT /api/media", "POST /api/power",
             "GET /api/console", "POST /api/console", "GET /api/console/log", "GET /api/console/ws",
             "POST /api/console/expect", "POST /api/tokens", "DELETE /api/tokens/{}", "POST /api/login",
             "GET /api/scripts/{}", "PUT /api/scripts/{}", "DELETE /api/scripts/{}",
             "POST /api/scripts/{}/run", "POST /redfish/v1/SessionService/Sessions",
             "GET /redfish/v1/SessionService/Sessions/{}", "DELETE /redfish/v1/SessionService/Sessions/{}",
             "GET /redfish/v1/Systems/{}", "PATCH /redfish/v1/Systems/{}",
             "POST /redfish/v1/Systems/{}/Actions/ComputerSystem.Reset", "GET /redfish/v1/Managers/{}",
             "GET /redfish/v1/Managers/{}/VirtualMedia", "GET /redfish/v1/Managers/{}/VirtualMedia/{}",
             "POST /redfish/v1/Managers/{}/VirtualMedia/{}/Actions/VirtualMedia.InsertMedia",
             "POST /redfish/v1/Managers/{}/VirtualMedia/{}/Actions/VirtualMedia.EjectMedia",
             "GET /redfish/v1/TaskService/Tasks/{}", "DELETE /redfish/v1/TaskService/Tasks/{}"}
    without_input = {"GET /api/status", "GET /api/gadget", "GET /api/keyboard", "GET /api/keyboard/layouts",
                     "GET /api/keyboard/keys", "GET /api/jobs", "GET /api/macros", "GET /api/images",
                     "GET /api/media", "DELETE /api/media", "GET /api/power", "GET /api/tokens",
                     "GET /api/session", "POST /api/logout", "GET /api/scripts", "GET /redfish",
                     "GET /redfish/v1", "GET /redfish/v1/odata", "GET /redfish/v1/SessionService",
                     "GET /redfish/v1/SessionService/Sessions", "GET /redfish/v1/Systems",
                     "GET /redfish/v1/Managers", "GET /redfish/v1/TaskService",
                     "GET /redfish/v1/TaskService/Tasks"}
    missing = served_routes() - tried - without_input
    total = sum(v for k, v in TOTALS.items() if k not in ("setup", "tokens"))
    print("#   %d hostile requests in all" % total, flush=True)
    expect(not missing, "routes with input no hostile case tries: %s" % sorted(missing))
