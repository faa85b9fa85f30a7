"""Virtual media, end to end: images uploaded through the forwarded port with curl, inserted
into the gadget's drive, and read, mounted and written by the server side."""
import hashlib
import http.server
import json
import os
import signal
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse

from e2e import expect, restart
from images import make_img, make_iso

WORK = tempfile.mkdtemp(prefix="gadgetd-media-")
STORE = "/var/lib/gadgetd/images"


def curl(rig, *args, timeout=600):
    """curl against the API with the rig's credentials; returns (status, parsed body)."""
    user, password = rig.credentials()
    out = subprocess.run(["curl", "-sS", "-u", "%s:%s" % (user, password), "-o", "-", "-w", "\n%{http_code}"]
                         + list(args), capture_output=True, timeout=timeout)
    body, _, code = out.stdout.rpartition(b"\n")
    try:
        return int(code), json.loads(body) if body else None
    except ValueError:
        return int(code or 0), body


def upload(rig, path, name, *extra):
    return curl(rig, "-T", path, *extra, rig.url + "/api/images/" + urllib.parse.quote(name, safe=""))


def media_events(rig, mark, event):
    return [e for e in rig.events()[mark:] if e.get("source") == "disk" and e.get("event") == event]


def wait_media(rig, mark, sha256, timeout=60):
    return rig.wait_event({"source": "disk", "event": "media", "sha256": sha256}, after=mark,
                          timeout=timeout)[1]


def store_files(rig):
    rc, out = rig.sh("ls -A %s" % STORE)
    return out.split()


ISO = os.path.join(WORK, "rescue.iso")
ISO2 = os.path.join(WORK, "other.iso")
IMG = os.path.join(WORK, "data.img")
SHA = {}


def test_upload_list_and_detect_kinds(rig):
    SHA["iso"] = make_iso(ISO, {"HELLO.TXT": b"hello from the iso\n"})
    SHA["iso2"] = make_iso(ISO2, {"OTHER.TXT": b"the other one\n"})
    SHA["img"] = make_img(IMG, 8 << 20, {"NOTE.TXT": b"a fat image\n"})
    status, body = upload(rig, ISO, "rescue.iso", "-H", "X-Checksum-Sha256: " + SHA["iso"])
    expect(status == 201 and body["sha256"] == SHA["iso"] and body["kind"] == "iso", (status, body))
    status, body = upload(rig, ISO2, "other.iso")
    expect(status == 201, (status, body))
    status, body = upload(rig, IMG, "data.img")
    expect(status == 201 and body["kind"] == "img", (status, body))
    # The kind comes from the content, not the name.
    status, body = upload(rig, ISO, "no-extension")
    expect(status == 201 and body["kind"] == "iso", (status, body))
    status, body = rig.api("GET", "/api/images")
    listed = {i["name"]: i for i in body["images"]}
    expect(set(listed) >= {"rescue.iso", "other.iso", "data.img", "no-extension"}, listed)
    expect(listed["rescue.iso"]["size"] == os.path.getsize(ISO) and
           listed["rescue.iso"]["sha256"] == SHA["iso"] and listed["rescue.iso"]["inserted"] is False,
           listed["rescue.iso"])
    status, _ = rig.api("DELETE", "/api/images/no-extension")
    expect(status == 200, status)
    # Downloading an image gives back the same bytes.
    status, data = curl(rig, rig.url + "/api/images/rescue.iso/content")
    expect(status == 200 and hashlib.sha256(data).hexdigest() == SHA["iso"], status)


def test_insert_iso_the_server_reads_and_mounts_it(rig):
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "rescue.iso", "mode": "cdrom"})
    expect(status == 200 and body["inserted"] and body["image"] == "rescue.iso" and body["mode"] == "cdrom", body)
    ev = wait_media(rig, mark, SHA["iso"])
    expect(ev["size"] == os.path.getsize(ISO), ev)
    rc, out = rig.sh("cat /sys/class/block/%s/device/vendor /sys/class/block/%s/device/model" %
                     (ev["device"][5:], ev["device"][5:]))
    expect(out.split() == ["gadgetd", "Virtual", "Media"], "the drive's inquiry: %r" % out)
    rc, out = rig.sh("mkdir -p /mnt/srv && mount -t iso9660 -o ro %s /mnt/srv && cat /mnt/srv/HELLO.TXT; "
                     "umount /mnt/srv" % ev["device"])
    expect(rc == 0 and "hello from the iso" in out, out)
    status, body = rig.api("GET", "/api/media")
    expect(body["image"] == "rescue.iso" and body["readonly"] is True and body["size"] == os.path.getsize(ISO), body)
    status, body = rig.api("GET", "/api/images/rescue.iso")
    expect(body["inserted"] is True, body)
    status, body = rig.api("DELETE", "/api/images/rescue.iso")
    expect(status == 409 and body["error"]["code"] == "image_inserted", body)
    status, body = upload(rig, ISO, "rescue.iso")
    expect(status == 409, "replacing an inserted image: %s" % status)


def test_switch_iso_img_eject_iso_while_mounted(rig):
    # The server has the CD mounted: its drive door is locked.
    _, ev = rig.wait_event({"source": "disk", "event": "media", "sha256": SHA["iso"]}, timeout=5)
    rc, out = rig.sh("mount -t iso9660 -o ro %s /mnt/srv" % ev["device"])
    expect(rc == 0, out)
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "other.iso"})
    expect(status == 200 and body["forced"] is True, ("the host held the door", body))
    wait_media(rig, mark, SHA["iso2"])
    rig.sh("umount -l /mnt/srv")
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "data.img", "mode": "disk"})
    expect(status == 200 and body["mode"] == "disk" and body["reenumerated"] is True, body)
    ev = wait_media(rig, mark, SHA["img"])
    expect(ev["device"].startswith("/dev/sd"), "a disk-mode image shows as a disk: %s" % ev)
    mark = len(rig.events())
    status, body = rig.api("DELETE", "/api/media")
    expect(status == 200 and body["inserted"] is False, body)
    rig.wait_event({"source": "disk", "event": "ejected"}, after=mark, timeout=30)
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "rescue.iso", "mode": "cdrom"})
    expect(status == 200, body)
    ev = wait_media(rig, mark, SHA["iso"])
    expect(ev["device"].startswith("/dev/sr"), ev)


def test_read_write_image_keeps_the_servers_changes(rig):
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "data.img", "mode": "disk", "readonly": False})
    expect(status == 200 and body["readonly"] is False, body)
    ev = wait_media(rig, mark, SHA["img"])
    rc, out = rig.sh("mkdir -p /mnt/rw && mount -t vfat %s /mnt/rw && echo 'written by the server' > "
                     "/mnt/rw/SERVER.TXT && umount /mnt/rw && sync" % ev["device"])
    expect(rc == 0, out)
    status, body = rig.api("DELETE", "/api/media")
    expect(status == 200, body)
    got = os.path.join(WORK, "back.img")
    status, data = curl(rig, rig.url + "/api/images/data.img/content")
    expect(status == 200, status)
    open(got, "wb").write(data)
    out = subprocess.run(["mtype", "-i", got, "::SERVER.TXT"], capture_output=True, text=True)
    expect("written by the server" in out.stdout, (out.stdout, out.stderr))


def test_restart_restores_the_medium(rig):
    status, body = rig.api("PUT", "/api/media", {"image": "rescue.iso"})
    expect(status == 200, body)
    mark = restart(rig)
    status, body = rig.api("GET", "/api/media")
    expect(body["inserted"] and body["image"] == "rescue.iso" and body["mode"] == "cdrom", body)
    wait_media(rig, mark, SHA["iso"])
    # An image that vanished while gadgetd was down leaves the drive empty, with a warning.
    rig.sh("rig-stop; cp %s/rescue.iso /tmp/keep.iso; rm %s/rescue.iso" % (STORE, STORE))
    rig.sh("rig-start")
    rig.wait_api(30)
    status, body = rig.api("GET", "/api/media")
    expect(body["inserted"] is False, body)
    rc, log = rig.sh("grep -c \"could not put 'rescue.iso' back\" /var/log/gadgetd.log")
    expect(int(log) >= 1, "no warning logged")
    rig.sh("mv /tmp/keep.iso %s/rescue.iso" % STORE)


def test_cdrom_refuses_images_it_would_truncate(rig):
    rig.sh("truncate -s 5G %s/windows.iso" % STORE)
    status, body = rig.api("PUT", "/api/media", {"image": "windows.iso", "mode": "cdrom"})
    expect(status == 400 and "disk" in body["error"]["message"], body)
    status, body = rig.api("GET", "/api/images/windows.iso")
    expect(body["size"] == 5 << 30, body)
    mark = len(rig.events())
    status, body = rig.api("PUT", "/api/media", {"image": "windows.iso", "mode": "disk"})
    expect(status == 200 and body["size"] == 5 << 30, body)
    ev = rig.wait_event({"source": "disk", "event": "media", "size": 5 << 30}, after=mark, timeout=60)[1]
    expect(ev["device"].startswith("/dev/sd"), ev)
    rig.api("DELETE", "/api/media")
    rig.api("DELETE", "/api/images/windows.iso")


def test_hostile_names_are_refused_and_touch_nothing(rig):
    before = store_files(rig)
    small = os.path.join(WORK, "small.bin")
    open(small, "wb").write(b"x" * 1000)
    for name in (".hidden", "..", "a..b", "-", "-rf", "a\x01b", "x" * 129, "a\\b", ".upload-1-1.tmp"):
        status, body = upload(rig, small, name)
        expect(status in (400, 404, 405), "%r: %s %s" % (name, status, body))
    for name in ("../etc/passwd", "a/b", "a%00b", "%2e%2e", "..%2fx", "%ff%fe"):
        status, body = curl(rig, "-T", small, "--path-as-is", rig.url + "/api/images/" + name)
        expect(status in (400, 404, 405), "%r: %s" % (name, status))
    expect(store_files(rig) == before, "the store changed: %s -> %s" % (before, store_files(rig)))
    rc, _ = rig.sh("test -e /etc/passwd.tmp || test -e /var/lib/gadgetd/passwd")
    expect(rc != 0, "something was written outside the store")
    status, body = rig.api("PUT", "/api/media", {"image": "../gadgetd.lock"})
    expect(status == 400, body)


def test_checksum_mismatch_stores_nothing(rig):
    before = store_files(rig)
    status, body = upload(rig, ISO2, "bad.iso", "-H", "X-Checksum-Sha256: " + "0" * 64)
    expect(status == 400 and body["error"]["code"] == "checksum_mismatch", (status, body))
    expect(store_files(rig) == before, store_files(rig))


def test_one_gib_upload_with_curl(rig):
    big = os.path.join(WORK, "big.img")
    with open(big, "wb") as f:
        block = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB of non-zero bytes
        for _ in range(1024):
            f.write(block)
    sha = hashlib.sha256(open(big, "rb").read()).hexdigest()
    t0 = time.time()
    status, body = upload(rig, big, "big.img", "-H", "X-Checksum-Sha256: " + sha)
    expect(status == 201 and body["size"] == 1 << 30 and body["sha256"] == sha, (status, body))
    print("#   1 GiB upload in %.1fs" % (time.time() - t0))
    rc, out = rig.sh("grep VmHWM /proc/$(cat /run/gadgetd.pid)/status")
    expect(int(out.split()[1]) < 64 * 1024, "gadgetd's memory grew with the upload: %s" % out)
    rig.api("DELETE", "/api/images/big.img")
    os.unlink(big)


def test_killed_upload_leaves_nothing(rig):
    before = store_files(rig)
    data = os.path.join(WORK, "slow.bin")
    with open(data, "wb") as f:
        f.write(os.urandom(1 << 20) * 50)
    user, password = rig.credentials()
    proc = subprocess.Popen(["curl", "-sS", "-u", "%s:%s" % (user, password), "--limit-rate", "2M", "-T", data,
                             rig.url + "/api/images/killed.img"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    rc, out = rig.sh("ls -A %s" % STORE)
    expect(any(n.startswith(".upload-") for n in out.split()), "no temporary file while uploading: %s" % out)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while store_files(rig) != before and time.time() < deadline:
        time.sleep(0.5)
    expect(store_files(rig) == before, "left behind: %s" % store_files(rig))
    status, body = rig.api("GET", "/api/images/killed.img")
    expect(status == 404, body)
    # gadgetd itself killed mid-upload: the next start removes the leftover.
    proc = subprocess.Popen(["curl", "-sS", "-u", "%s:%s" % (user, password), "--limit-rate", "2M", "-T", data,
                             rig.url + "/api/images/killed.img"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    rig.sh("rig-stop KILL")
    proc.wait()
    rig.sh("rig-start")
    rig.wait_api(30)
    expect(store_files(rig) == before, "left behind after a crash: %s" % store_files(rig))
    rc, log = rig.sh("grep -c 'left by an interrupted upload' /var/log/gadgetd.log")
    expect(int(log) >= 1, "the leftover was not reported")


def test_nearly_full_store_gets_507_and_keeps_nothing(rig):
    mark = restart(rig, rig.config("[media]\nimage_store = /mnt/small/images\n"))
    data = os.path.join(WORK, "toobig.bin")
    with open(data, "wb") as f:
        f.write(os.urandom(1 << 20) * 100)
    status, body = upload(rig, data, "toobig.img")
    expect(status == 507 and body["error"]["code"] == "insufficient_storage", (status, body))
    # Without a length up front: the disk fills during the upload.
    status, body = upload(rig, data, "toobig2.img", "-H", "Transfer-Encoding: chunked")
    expect(status == 507, (status, body))
    rc, out = rig.sh("ls -A /mnt/small/images")
    expect(out.split() == [], "left behind: %s" % out)
    restart(rig)


def test_download_from_a_url(rig):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = lambda *a, **k: Quiet(*a, directory=WORK, **k)  # noqa: E731
    server = socketserver.TCPServer(("0.0.0.0", 0), handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://10.0.2.2:%d/other.iso" % port
        status, job = rig.api("POST", "/api/images?wait=1", {"url": url, "name": "fetched.iso"}, timeout=120)
        expect(status == 200 and job["state"] == "done" and job["kind"] == "download", (status, job))
        status, body = rig.api("GET", "/api/images/fetched.iso")
        expect(body["sha256"] == SHA["iso2"] and body["kind"] == "iso", body)
        before = store_files(rig)
        status, job = rig.api("POST", "/api/images?wait=1",
                              {"url": "http://10.0.2.2:%d/missing.iso" % port, "name": "missing.iso"})
        expect(job["state"] == "failed" and job["error"]["code"] == "download_failed", job)
        expect(store_files(rig) == before, store_files(rig))
        status, body = rig.api("POST", "/api/images", {"url": "file:///etc/passwd", "name": "x"})
        expect(status == 400, body)
    finally:
        server.shutdown()


def test_multipart_upload_from_a_browser(rig):
    status, body = curl(rig, "-F", "name=form.iso", "-F", "file=@%s" % ISO2, rig.url + "/api/images")
    expect(status == 201 and body["name"] == "form.iso" and body["sha256"] == SHA["iso2"], (status, body))
