"""Test images built on the build machine, without root, loop devices or downloads.

  make_iso(path, files, min_size=1 << 20)   ISO 9660 (Rock Ridge, Joliet) with xorriso
  make_img(path, size, files)               FAT (mkfs.vfat on a plain file, mtools to fill it)
  make_demo_installer(path)                 an "installer" ISO for the rig's firmware
  make_grub_iso(path, config)               a BIOS and UEFI bootable GRUB ISO (grub-mkrescue)

  python3 tests/e2e/images.py demo-installer OUT.iso   the same, from the command line

FILES maps names ("README.TXT", "boot/grub.cfg") to contents (bytes, or str as UTF-8). Both
return the sha256 (hex) of the image, which is what the observer reports for the medium the
server reads. Same files, same image: timestamps and serials are fixed.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

EPOCH = 1700000000  # every timestamp in the images (2023-11-14)
FILLER = "FILLER.BIN"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stage(root, files):
    """Writes FILES under ROOT with fixed timestamps; returns the directories, parents first."""
    dirs = set()
    for name, data in files.items():
        name = name.strip("/")
        if not name or ".." in name.split("/"):
            raise ValueError("bad file name %r" % name)
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        parts = name.split("/")[:-1]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames:
            os.utime(os.path.join(dirpath, n), (EPOCH, EPOCH))
        os.utime(dirpath, (EPOCH, EPOCH))
    return sorted(dirs, key=lambda d: (d.count("/"), d))


def make_iso(path, files, min_size=1 << 20, label="GADGETD_TEST"):
    """An ISO 9660 image of FILES at PATH, at least MIN_SIZE bytes (a filler file of zeros,
    FILLER.BIN, makes up the difference: the mass storage function's CD-ROM mode takes
    nothing under 600 KiB); returns its sha256."""
    work = tempfile.mkdtemp(prefix="gadgetd-iso-")
    try:
        root = os.path.join(work, "root")
        os.makedirs(root)
        _stage(root, files)
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
        filler = 0
        while True:
            if filler:
                with open(os.path.join(root, FILLER), "wb") as f:
                    f.truncate(filler)
                for p in (os.path.join(root, FILLER), root):
                    os.utime(p, (EPOCH, EPOCH))
            tmp = path + ".tmp"
            subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", label,
                            "-o", tmp, root], check=True, capture_output=True, env=env)
            size = os.path.getsize(tmp)
            if size >= min_size:
                break
            filler += min_size - size  # the file's directory record may need one more round
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work)
    return sha256_file(path)


def make_img(path, size, files, label="GADGETD"):
    """A FAT image of SIZE bytes (FAT12/16/32 as mkfs.vfat picks for the size) holding FILES
    at PATH; returns its sha256."""
    work = tempfile.mkdtemp(prefix="gadgetd-img-")
    try:
        root = os.path.join(work, "root")
        os.makedirs(root)
        dirs = _stage(root, files)
        tmp = path + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        with open(tmp, "wb") as f:
            f.truncate(size)
        mkfs = shutil.which("mkfs.vfat") or "/usr/sbin/mkfs.vfat"  # /usr/sbin: not in a user's PATH
        subprocess.run([mkfs, "--invariant", "-n", label, tmp], check=True, capture_output=True)
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1", SOURCE_DATE_EPOCH=str(EPOCH))
        for d in dirs:
            subprocess.run(["mmd", "-i", tmp, "::/" + d], check=True, capture_output=True, env=env)
        for name in files:
            name = name.strip("/")
            subprocess.run(["mcopy", "-i", tmp, "-m", "-o", os.path.join(root, name), "::/" + name],
                           check=True, capture_output=True, env=env)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work)
    return sha256_file(path)


DEMO_INSTALLER_ID = "demo-installer-1"


def make_demo_installer(path, image_id=DEMO_INSTALLER_ID):
    """An ISO that the VM rig's simulated firmware (tests/vm/firmware.c) boots as an OS
    installer: /GADGETD.ID holds IMAGE_ID, the id the "installed" OS reports; returns its
    sha256."""
    readme = ("A demo installer for the gadgetd VM rig's simulated firmware.\n\n"
              "Insert it as a CD-ROM (PUT /api/media), power the server on while hammering F12,\n"
              "pick the USB CD-ROM in the boot menu and type boot parameters at 'boot: ', e.g.\n"
              "'auto hostname=demo'. The firmware then 'installs' %s on the server's disk.\n"
              % image_id)
    return make_iso(path, {"GADGETD.ID": image_id + "\n", "README.TXT": readme},
                    label="DEMO_INSTALLER")


GRUB_SERIAL = ("serial --unit=0 --speed=115200\n"
               "terminal_input console serial\n"
               "terminal_output serial\n")


def make_grub_iso(path, config, files=None):
    """A hybrid ISO (El Torito for BIOS and UEFI, and a partition table, so it also boots as a
    disk) made by grub-mkrescue from Debian's GRUB: its menu and console on the serial port,
    its keyboard the firmware's (the gadget's keyboard); CONFIG is the rest of grub.cfg, FILES
    more files. Returns its sha256."""
    work = tempfile.mkdtemp(prefix="gadgetd-grub-")
    try:
        root = os.path.join(work, "root")
        cfg = {"boot/grub/grub.cfg": GRUB_SERIAL + config}
        cfg.update(files or {})
        _stage(root, cfg)
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
        tmp = path + ".tmp"
        subprocess.run(["grub-mkrescue", "-o", tmp, root, "--", "-volid", "GADGETD_GRUB"],
                       check=True, capture_output=True, env=env)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work)
    return sha256_file(path)


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 3 or sys.argv[1] != "demo-installer":
        sys.exit("usage: images.py demo-installer OUT.iso")
    print(make_demo_installer(sys.argv[2]))
