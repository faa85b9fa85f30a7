"""The serial console, end to end: the server side runs a shell on /dev/ttyACM0 (a getty in
the guest); gadgetd relays ttyGS0 to the JSON API, WebSocket clients (Python's websockets,
outside the guest) and TCP clients (socat), logs it, and survives the port going away."""
import asyncio
import base64
import http.client
import json
import socket
import subprocess
import time

import websockets

from e2e import expect, restart

# The processes that have the server's end of the console open (its shell).
ACM_USERS = "for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null | grep -q ttyACM0 && echo ${p#/proc/}; done"
IAC_NEGOTIATION = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x03"  # WILL ECHO, WILL SGA, DO SGA


def status(rig):
    st, body = rig.api("GET", "/api/status")
    expect(st == 200, body)
    return body["console"]


def run_command(rig, command, timeout=20):
    """Types COMMAND into the server's shell; returns the output that followed, as text."""
    st, body = rig.api("POST", "/api/console", {"data": command + "\n"})
    expect(st == 200, "POST /api/console: %s %s" % (st, body))
    return body["offset"]


def output_after(rig, offset, want, timeout=20):
    """Polls GET /api/console from OFFSET until WANT appears; returns the text read."""
    text, deadline = "", time.time() + timeout
    while want not in text and time.time() < deadline:
        st, body = rig.api("GET", "/api/console?since=%d&wait=2" % offset)
        expect(st == 200, body)
        expect(body["offset"] == offset and body["lost"] == 0, body)
        text += body["data"]
        offset = body["next"]
    expect(want in text, "no %r in the console output: %r" % (want, text[-500:]))
    return text


def wait_shell(rig, timeout=60):
    """Until the server's shell answers on the console (after a boot or a re-enumeration)."""
    deadline = time.time() + timeout
    for i in range(1000):
        st, body = rig.api("POST", "/api/console", {"data": "echo shell-up-$((%d+1))\n" % i})
        if st == 200:
            try:
                output_after(rig, body["offset"], "shell-up-%d\r\n" % (i + 1), timeout=3)
                return
            except AssertionError:
                pass
        expect(time.time() < deadline, "the server's shell does not answer: %s %s" % (st, body))
        time.sleep(0.5)


def handshake(rig, headers):
    """A WebSocket handshake by hand (urllib would send Connection: close): (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", rig.port, timeout=10)
    try:
        conn.request("GET", "/api/console/ws", headers=dict(auth_header(rig), **headers))
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def auth_header(rig):
    token = base64.b64encode(("%s:%s" % rig.credentials()).encode()).decode()
    return {"Authorization": "Basic " + token}


def ws_url(rig, query=""):
    return "ws://127.0.0.1:%d/api/console/ws%s" % (rig.port, query)


async def ws_read_until(ws, want, timeout=20):
    got, deadline = b"", time.time() + timeout
    while want not in got:
        left = deadline - time.time()
        expect(left > 0, "no %r over the WebSocket: %r" % (want, got[-300:]))
        got += await asyncio.wait_for(ws.recv(), left)
    return got


def tcp_read_until(sock, want, timeout=20):
    got, deadline = b"", time.time() + timeout
    while want not in got:
        left = deadline - time.time()
        expect(left > 0, "no %r over TCP: %r" % (want, got[-300:]))
        sock.settimeout(left)
        chunk = sock.recv(65536)
        expect(chunk, "the TCP connection closed early: %r" % got[-300:])
        got += chunk
    return got


def test_api_write_and_read(rig):
    wait_shell(rig)
    offset = run_command(rig, "echo $((6*7))")
    text = output_after(rig, offset, "\r\n42\r\n")
    expect("echo $((6*7))" in text, "the shell's echo is missing: %r" % text)
    # The whole buffer from 0, and polling from the end returns nothing new.
    st, body = rig.api("GET", "/api/console?since=0")
    expect(st == 200 and "42" in body["data"] and body["offset"] == 0, body)
    st, again = rig.api("GET", "/api/console?since=%d" % body["next"])
    expect(st == 200 and again["data"] == "" and again["next"] == body["next"], again)
    st, b64 = rig.api("GET", "/api/console?since=0&encoding=base64")
    expect(base64.b64decode(b64["data"]).decode() == body["data"], "base64 differs from text")


def test_expect(rig):
    offset = run_command(rig, "sleep 1; echo ready-$((3+4))")
    st, body = rig.api("POST", "/api/console/expect", {"pattern": "^ready-[0-9]+", "timeout": 20, "since": offset})
    expect(st == 200 and body["match"] == "ready-7", "%s %s" % (st, body))
    expect(body["start"] > offset, body)
    # From the end of that match on, it is not seen again: a timeout.
    t = time.time()
    st, body2 = rig.api("POST", "/api/console/expect", {"pattern": "^ready-7", "timeout": 1, "since": body["end"]})
    expect(st == 504 and body2["error"]["code"] == "expect_timeout", "%s %s" % (st, body2))
    expect(0.9 < time.time() - t < 10, "the timeout took %.1fs" % (time.time() - t))


def test_bad_requests_change_nothing(rig):
    before = status(rig)["next"]
    cases = [
        ("POST", "/api/console", {"data": 42}, 400),
        ("POST", "/api/console", {"data": ""}, 400),
        ("POST", "/api/console", {"data": "x", "extra": 1}, 400),
        ("GET", "/api/console?since=abc", None, 400),
        ("GET", "/api/console?since=%d" % (before + 1000000), None, 400),
        ("GET", "/api/console?encoding=hex", None, 400),
        ("GET", "/api/console?wait=99999", None, 400),
        ("POST", "/api/console/expect", {"pattern": "(unclosed"}, 400),
        ("POST", "/api/console/expect", {"pattern": "x", "timeout": "5"}, 400),
        ("POST", "/api/console/expect", {"pattern": "x", "timeout": -1}, 400),
        ("POST", "/api/console/expect", {"pattern": "x", "since": 10 ** 15}, 400),
        ("GET", "/api/console/log?part=999", None, 400),
        ("GET", "/api/console/ws", None, 426),
    ]
    for case in cases:
        method, path, body, want = case[:4]
        st, reply = rig.api(method, path, body, headers=case[4] if len(case) > 4 else None)
        expect(st == want and "error" in reply and reply["error"]["message"],
               "%s %s %r: %s %s (expected %d)" % (method, path, body, st, reply, want))
    for version, key in (("8", "dGhlIHNhbXBsZSBub25jZQ=="), ("13", "short")):
        st, reply = handshake(rig, {"Upgrade": "websocket", "Connection": "Upgrade",
                                    "Sec-WebSocket-Version": version, "Sec-WebSocket-Key": key})
        expect(st == 400 and reply["error"]["message"], "handshake %s %s: %s %s" % (version, key, st, reply))
    st, _ = rig.api("GET", "/api/console", auth=False)
    expect(st == 401, "GET /api/console without credentials: %s" % st)
    expect(status(rig)["next"] == before, "a refused request wrote to the console")


def test_websocket_and_tcp_see_the_same_stream(rig):
    """A WebSocket client and a telnet-mode TCP client (socat) at once, plus the JSON API."""
    socat = subprocess.Popen(["socat", "-u", "TCP:127.0.0.1:%d" % rig.console_port, "STDOUT"],
                             stdout=subprocess.PIPE)
    try:
        async def session():
            async with websockets.connect(ws_url(rig), extra_headers=auth_header(rig)) as ws:
                deadline = time.time() + 10
                while status(rig)["clients"] != {"websocket": 1, "tcp": 1}:
                    expect(time.time() < deadline, "clients: %s" % status(rig)["clients"])
                    time.sleep(0.1)
                await ws.send(b"for i in 1 2 3; do echo line-$i-$((i*i)); done; echo both-$((40+2))\n")
                got = await ws_read_until(ws, b"both-42\r\n")
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 5)
                return got
        ws_got = asyncio.run(session())
        expect(b"line-3-9\r\n" in ws_got, ws_got)
        time.sleep(1)
    finally:
        socat.terminate()
    tcp_got = socat.communicate(timeout=10)[0]
    expect(tcp_got.startswith(IAC_NEGOTIATION), "telnet negotiation: %r" % tcp_got[:20])
    tail = ws_got[ws_got.index(b"line-1-1"):ws_got.index(b"both-42\r\n")]
    expect(tail in tcp_got, "TCP saw other bytes: %r vs %r" % (tail, tcp_got[-300:]))


def test_websocket_replay_close_and_limits(rig):
    offset = run_command(rig, "echo replay-me")
    output_after(rig, offset, "replay-me\r\n")

    async def replay():
        async with websockets.connect(ws_url(rig, "?replay=4096"), extra_headers=auth_header(rig)) as ws:
            got = await ws_read_until(ws, b"replay-me\r\n", timeout=10)
            await ws.close(1000, "bye")
            return got, ws.close_code

    got, code = asyncio.run(replay())
    expect(code == 1000, "close code %s" % code)

    async def oversize():
        async with websockets.connect(ws_url(rig, "?replay=0"), extra_headers=auth_header(rig),
                                      max_size=None) as ws:
            await ws.send(b"#" * (64 * 1024 + 1))
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as e:
                return e.rcvd.code if e.rcvd else None

    expect(asyncio.run(oversize()) == 1009, "an oversize message was not refused with 1009")

    async def no_auth():
        try:
            async with websockets.connect(ws_url(rig)):
                return None
        except websockets.InvalidStatusCode as e:
            return e.status_code

    expect(asyncio.run(no_auth()) == 401, "a WebSocket without credentials was let in")


def log_text(rig):
    st, body = rig.api("GET", "/api/console/log")
    expect(st == 200, "GET /api/console/log: %s" % st)
    return body if isinstance(body, bytes) else str(body).encode()


def test_log_has_stamped_lines(rig):
    offset = run_command(rig, "echo logged-$((5*5))")
    output_after(rig, offset, "logged-25\r\n")
    lines = log_text(rig).split(b"\n")
    hit = [line for line in lines if line.endswith(b"logged-25\r")]
    expect(hit, "the log lacks the output")
    stamp = hit[0][:25]
    expect(len(stamp) == 25 and stamp[10:11] == b"T" and stamp[23:25] == b"Z ", "stamp %r" % stamp)


def test_port_closed_and_reopened_is_survived(rig):
    """The server's side goes away three ways; gadgetd keeps its log and carries on."""
    before = status(rig)
    offset = run_command(rig, "echo before-$((1+1))")
    output_after(rig, offset, "before-2\r\n")
    # 1. The server's shell and getty exit and a new getty opens the port.
    rc, out = rig.sh("kill $(%s); sleep 1.5; [ -n \"$(%s)\" ]" % (ACM_USERS, ACM_USERS))
    expect(rc == 0, "no shell came back on ttyACM0: %s" % out)
    time.sleep(1)
    # 2. The host's cdc-acm driver lets the interface go and takes it again.
    rc, out = rig.sh("cd /sys/bus/usb/drivers/cdc_acm && i=$(ls | grep ':1\\.[0-9]*$' | head -1) && "
                     "echo $i > unbind && sleep 1 && echo $i > bind && sleep 1 && ls /dev/ttyACM0")
    expect(rc == 0, "cdc-acm unbind/bind: %s" % out)
    # 3. The cable: the gadget is unplugged and plugged in (ttyGS0 is hung up).
    st, body = rig.api("POST", "/api/gadget", {"connected": False})
    expect(st == 200, body)
    st, body = rig.api("POST", "/api/console", {"data": "echo nobody\n"})
    expect(st == 503 and body["error"]["code"] == "host_offline", "%s %s" % (st, body))
    st, body = rig.api("POST", "/api/gadget", {"connected": True})
    expect(st == 200, body)
    deadline = time.time() + 30
    while True:
        rc, _ = rig.sh("[ -n \"$(%s)\" ]" % ACM_USERS)
        st, body = rig.api("POST", "/api/console", {"data": "echo after-$((2+2))\n"})
        if rc == 0 and st == 200:
            try:
                output_after(rig, body["offset"], "after-4\r\n", timeout=3)
                break
            except AssertionError:
                pass
        expect(time.time() < deadline, "the console did not come back: %s %s" % (st, body))
        time.sleep(1)
    after = status(rig)
    expect(after["reopens"] > before["reopens"], "ttyGS0 was not reopened: %s" % after)
    expect(after["next"] > before["next"] and after["start"] == before["start"], after)
    log = log_text(rig)
    expect(b"before-2\r" in log and b"after-4\r" in log, "the log lost output across the reopen")
    rc, out = rig.sh("cat /run/gadgetd.pid")
    expect(rc == 0 and rig.gadgetd_running(), "gadgetd did not survive")


def test_tcp_raw_banner_idle_and_client_limit(rig):
    restart(rig, rig.config("[console]\ntcp_mode = raw\nbanner = gadgetd console\\nrig server\n"
                            "idle_timeout = 3\ntcp_clients = 1\n"))
    wait_shell(rig)
    first = socket.create_connection(("127.0.0.1", rig.console_port), 10)
    try:
        got = tcp_read_until(first, b"rig server\r\n", timeout=10)
        expect(got == b"gadgetd console\r\nrig server\r\n", "banner: %r" % got)
        first.sendall(b"echo raw-$((8*8))\n")
        tcp_read_until(first, b"raw-64\r\n")
        second = socket.create_connection(("127.0.0.1", rig.console_port), 10)
        refused = tcp_read_until(second, b"]\r\n", timeout=10)
        expect(b"1 clients are connected already" in refused, "second client: %r" % refused)
        second.close()
        t = time.time()
        closing = tcp_read_until(first, b"closing]\r\n", timeout=15)
        expect(b"idle for 3 s" in closing and time.time() - t < 12, "idle: %r" % closing)
        first.settimeout(5)
        expect(first.recv(100) == b"", "the idle client was not disconnected")
    finally:
        first.close()
        restart(rig)


def test_ten_mib_of_output_arrive_whole(rig):
    """yes | head -c 10M from the server: every byte in the rotated logs, the tail in the ring."""
    restart(rig, rig.config("[console]\nlog_size = 32M\nlog_files = 8\n"))
    wait_shell(rig)
    # Staged in a file: through a pipe, head would write two bytes at a time.
    rc, out = rig.sh("rm -f /var/lib/gadgetd/console/console.log.*; yes | head -c 10485760 > /tmp/ten && "
                     "stty -F /dev/ttyACM0 -opost && echo MARK-START > /dev/ttyACM0 && "
                     "cat /tmp/ten > /dev/ttyACM0 && echo MARK-END > /dev/ttyACM0; "
                     "stty -F /dev/ttyACM0 opost; rm -f /tmp/ten", timeout=600)
    expect(rc == 0, out)
    st, body = rig.api("POST", "/api/console/expect", {"pattern": "^MARK-END$", "since": 0, "timeout": 120})
    expect(st == 200, "MARK-END never arrived: %s %s" % (st, body))
    # Every line of the logs, stamps cut off, oldest file first: the stream between the marks
    # (the start mark follows the shell's prompt on its line). Downloaded: faster than a
    # per-line tool in the emulated guest.
    parts = []
    for part in range(8, -1, -1):
        st, body = rig.api("GET", "/api/console/log?part=%d" % part, timeout=300)
        if st == 404 and part > 0:
            continue
        expect(st == 200 and isinstance(body, bytes), "log part %d: %s" % (part, st))
        parts.append(b"".join(line[25:] for line in body.splitlines(keepends=True)))
    stream = b"".join(parts)
    start = stream.index(b"MARK-START\n") + len(b"MARK-START\n")
    end = stream.index(b"MARK-END\n", start)
    expect(end - start == 10 << 20 and stream[start:end] == b"y\n" * (5 << 20),
           "the log between the marks: %d bytes, %r..." % (end - start, stream[start:start + 60]))
    # The ring buffer (1 MiB) holds the newest output: y lines up to the mark.
    st, body = rig.api("GET", "/api/console?since=0&encoding=base64")
    data = base64.b64decode(body["data"])
    expect(st == 200 and len(data) == 1 << 20, "ring held %d bytes" % len(data))
    expect(body["lost"] == body["offset"] > 9 << 20 and body["next"] == body["offset"] + len(data),
           "offsets: %s" % {k: body[k] for k in ("offset", "next", "lost")})
    head, sep, _ = data.rpartition(b"MARK-END\n")
    expect(sep and set(head.split(b"\n")[1:-1]) == {b"y"}, "the ring's tail is not the output")
    restart(rig)
