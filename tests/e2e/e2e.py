"""Helpers the end-to-end test modules share."""


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def gadgets(rig):
    rc, out = rig.sh("ls /sys/kernel/config/usb_gadget")
    expect(rc == 0, out)
    return out.split()


def restart(rig, config=None):
    """Stops gadgetd (SIGTERM), starts it again (optionally with CONFIG text); returns the
    index of the first event after the stop."""
    rc, out = rig.sh("rig-stop")
    expect(rc == 0 and out.strip() == "0", "gadgetd did not exit 0 on SIGTERM: %r" % out)
    mark = len(rig.events())
    if config is None:
        rig.sh("rig-start")
    else:
        rig.write_file("/tmp/test.conf", config)
        rig.sh("rig-start /tmp/test.conf")
    rig.wait_api(30)
    return mark


def run_once(rig, config_text, args=""):
    """Runs gadgetd in the foreground with CONFIG_TEXT; returns (exit status, output)."""
    rig.write_file("/tmp/once.conf", config_text)
    return rig.sh("gadgetd --config /tmp/once.conf %s 2>&1" % args, timeout=30)
