#!/usr/bin/env python3
"""End-to-end tests: one guest boot serves every test module in tests/e2e/test_*.py.

Each module's test_* functions run in file order, given the booted Rig. Prints TAP; a test
that raises fails with its message. Usage: run.py [NAME_FILTER...] (a test runs when its
"module.function" name contains one of them). GADGETD_RIG_ARCH=arm64 boots the arm64 rig.
GADGETD_SERVER=uefi|bios puts a server VM running that real firmware on the other end of the
USB cable and runs the test_server_* modules, which need it (and only them: the rig's own host
side then sees nothing of the gadget); without it those modules are not collected.
"""
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
sys.path.insert(0, HERE)
import rig as rigmod  # noqa: E402


def collect(name_filters, server):
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        if fname.startswith("test_server_") != bool(server):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        funcs = [f for n, f in inspect.getmembers(mod, inspect.isfunction)
                 if n.startswith("test_") and f.__module__ == mod.__name__]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        tests += [("%s.%s" % (fname[:-3], f.__name__), f) for f in funcs
                  if not name_filters or any(n in "%s.%s" % (fname[:-3], f.__name__) for n in name_filters)]
    return tests


def sanitizer_check(rig):
    """A test whose requests made ASan, UBSan or LeakSanitizer report fails with the report."""
    reports = rig.sanitizer_reports()
    if reports:
        rig.sh("rm -f /var/log/sanitizer.*")
        raise AssertionError("sanitizer report in the guest:\n" + "\n".join(reports.splitlines()[:40]))


def main():
    server = os.environ.get("GADGETD_SERVER", "")
    tests = collect(sys.argv[1:], server)
    print("1..%d" % len(tests), flush=True)
    vm_dir = os.environ.get("GADGETD_VM_DIR") or os.path.join(
        rigmod.BUILD, "vm-test" + ("-" + server if server else ""))
    rig = rigmod.Rig(vm_dir=vm_dir, port=rigmod.free_port(), fresh_store=True,
                     console_port=rigmod.free_port(), tls_port=rigmod.free_port(),
                     ipmi_port=rigmod.free_port(),
                     sanitized=os.environ.get("GADGETD_RIG_SANITIZED", "1") == "1")
    failed = 0
    try:
        t0 = time.time()
        rig.boot()
        if server:
            rig.start_server(server)
        rig.booted_events = len(rig.events())  # what the boot itself left in server.log
        print("# guest booted, API ready in %.1fs" % (time.time() - t0), flush=True)
    except Exception as e:  # every test fails when there is no guest
        for i, (name, _) in enumerate(tests, 1):
            print("not ok %d - %s # no guest: %s" % (i, name, e))
        rig.shutdown()
        return 1
    try:
        for i, (name, func) in enumerate(tests, 1):
            t = time.time()
            try:
                func(rig)
                if rig.sanitized:
                    sanitizer_check(rig)
                print("ok %d - %s (%.1fs)" % (i, name, time.time() - t), flush=True)
            except Exception as e:
                failed += 1
                print("not ok %d - %s" % (i, name), flush=True)
                for line in ("%s: %s" % (type(e).__name__, e)).splitlines() + \
                        traceback.format_exc().splitlines()[-6:]:
                    print("#   " + line, flush=True)
                rig.recover()
                if rig.sanitized:  # reported here, not blamed on the next test
                    try:
                        sanitizer_check(rig)
                    except AssertionError as report:
                        for line in str(report).splitlines():
                            print("#   " + line, flush=True)
    finally:
        rig.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
