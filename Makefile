# gadgetd: build, test, run the VM rig, benchmark, install. Plain GNU make; objects under build/.
VERSION    := 0.1.0
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc/gadgetd
DATADIR    ?= $(PREFIX)/share/gadgetd
UNITDIR    ?= /etc/systemd/system
DESTDIR    ?=
B          := build
# CROSS=armhf (Pi Zero W, ARMv6 with VFP) or CROSS=arm64 (Pi Zero 2 W, Cortex-A53): Debian's cross
# compiler and the :armhf/:arm64 libraries (install-deps.sh cross), objects under build/CROSS/.
CROSS      ?=
ifeq ($(CROSS),armhf)
TRIPLET    := arm-linux-gnueabihf
ARCH_FLAGS := -mcpu=arm1176jzf-s -mfpu=vfp -mfloat-abi=hard -marm
QEMU_USER  := qemu-arm
else ifeq ($(CROSS),arm64)
TRIPLET    := aarch64-linux-gnu
ARCH_FLAGS := -mcpu=cortex-a53
QEMU_USER  := qemu-aarch64
else ifneq ($(CROSS),)
$(error CROSS=$(CROSS): armhf or arm64)
endif
ifneq ($(CROSS),)
CC         := $(TRIPLET)-gcc
B          := build/$(CROSS)
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
endif
PKG_CONFIG ?= pkg-config
# Debian's Python, where install-deps.sh puts the modules the tests use.
PYTHON     ?= /usr/bin/python3

PKGS     := libusbgx libmicrohttpd jansson inih libcrypt libcrypto libsystemd libcurl libgpiod \
	    libtelnet
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror
# The rig's and the build's own programs (observer, simulators, generators): C11, large files.
TOOL_FLAGS = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 $(WARN)
# 64-bit off_t and time_t on 32-bit ARM too (a 4.7 GB ISO, dates past 2038).
BASE     := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 $(ARCH_FLAGS) $(WARN) -MMD -MP
DEFS     := -DGD_VERSION='"$(VERSION)"' -DGD_DATADIR='"$(DATADIR)"' -DGD_SYSCONFDIR='"$(SYSCONFDIR)"'
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
# libwslay by its soname: libwslay-dev is not Multi-Arch, so a build machine has its headers
# for one architecture only while the cross builds link the :armhf/:arm64 runtime.
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS)) -l:libwslay.so.1 -lpthread
SANITIZE ?= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS     := $(wildcard gadgetd/*.c)
OBJS     := $(SRCS:gadgetd/%.c=$(B)/obj/%.o)
ASAN_OBJS := $(SRCS:gadgetd/%.c=$(B)/asan/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/unit/%)

.PHONY: all deps test unit e2e run bench install lint format clean distclean valgrind rig keymaps \
	fuzz fuzz-build webui test-cross cross-build arm64-rig armhf-rig test-arm64 test-armhf \
	test-firmware
all: $(B)/gadgetd $(B)/webui.stamp

# The browser panel's static files in $(B)/webui (npm fetches the terminal library once).
WEBUI_SRCS := $(shell find webui -type f ! -path 'webui/node_modules/*')
$(B)/webui.stamp: $(WEBUI_SRCS) tools/build-webui.sh | $(B)/.deps
	tools/build-webui.sh $(B)/webui
	@touch $@
webui: $(B)/webui.stamp

# The browser tests' driver (playwright-core, pinned by its lock file) for Debian's Chromium.
$(B)/browser.stamp: tests/browser/package.json tests/browser/package-lock.json | $(B)/.deps-all
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

# Build dependencies only (what a Pi needs); the rig and the tests need the rest.
deps: $(B)/.deps
$(B)/.deps: scripts/install-deps.sh
	scripts/install-deps.sh $(if $(CROSS),cross,build)
	@mkdir -p $(B) && touch $@
$(B)/.deps-all: scripts/install-deps.sh
	scripts/install-deps.sh $(if $(CROSS),cross,all)
	@mkdir -p $(B) && touch $@

$(B)/gadgetd: $(OBJS)
	$(CC) $(CFLAGS) $(ARCH_FLAGS) -o $@ $^ $(PKG_LIBS)

# The daemon with ASan and UBSan (the unit tests' objects): what the e2e tests run in the rig.
$(B)/gadgetd-asan: $(ASAN_OBJS)
	$(CC) $(SANITIZE) -o $@ $^ $(PKG_LIBS)

$(B)/obj/%.o: gadgetd/%.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) $(DEFS) $(PKG_CFLAGS) -c -o $@ $<

# Unit tests link only the objects they need, built with ASan and UBSan.
$(B)/asan/%.o: gadgetd/%.c | $(B)/.deps-all
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 -g $(SANITIZE) $(DEFS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/unit/test_config: $(B)/asan/config.o $(B)/asan/log.o
$(B)/unit/test_auth: $(B)/asan/auth.o $(B)/asan/log.o
$(B)/unit/test_json: $(B)/asan/json.o
$(B)/unit/test_keymap: $(B)/asan/keymap.o $(B)/asan/macro.o $(B)/asan/layout.o
$(B)/unit/test_macro: $(B)/asan/macro.o $(B)/asan/keymap.o $(B)/asan/layout.o
$(B)/unit/test_layout: $(B)/asan/layout.o $(B)/asan/keymap.o
$(B)/unit/test_layout: UNIT_LIBS = $(shell $(PKG_CONFIG) --libs xkbcommon)
$(B)/unit/test_layout: UNIT_CFLAGS = -DGD_KEYMAPS_DIR='"$(CURDIR)/keymaps"'
$(B)/unit/test_lun: $(B)/asan/lun.o
$(B)/unit/test_lun: UNIT_LIBS = -Wl,--wrap=write
$(B)/unit/test_media_state: $(B)/asan/media_state.o
$(B)/unit/test_power: $(B)/asan/power.o $(B)/asan/log.o
$(B)/unit/test_media: $(B)/asan/media.o $(B)/asan/media_state.o $(B)/asan/lun.o $(B)/asan/jobs.o \
	$(B)/asan/gadget.o $(B)/asan/log.o $(B)/asan/config.o
$(B)/unit/test_ring: $(B)/asan/ring.o
$(B)/unit/test_conslog: $(B)/asan/conslog.o
$(B)/unit/test_console: $(B)/asan/console.o $(B)/asan/ring.o $(B)/asan/conslog.o $(B)/asan/log.o \
	$(B)/asan/config.o $(B)/asan/console_client.o
$(B)/unit/test_ws: $(B)/asan/ws.o
$(B)/unit/test_telnet: $(B)/asan/telnet.o
$(B)/unit/test_tls: $(B)/asan/tls.o $(B)/asan/log.o
$(B)/unit/test_throttle: $(B)/asan/throttle.o
$(B)/unit/test_conns: $(B)/asan/conns.o $(B)/asan/log.o
$(B)/unit/test_webui: $(B)/asan/webui.o
$(B)/unit/test_docstore: $(B)/asan/docstore.o $(B)/asan/json.o
$(B)/unit/test_seed: $(B)/asan/seed.o $(B)/asan/lun.o $(B)/asan/log.o
$(B)/unit/test_script: $(addprefix $(B)/asan/,script.o json.o macro.o keymap.o layout.o power.o log.o)
$(B)/unit/test_session: $(B)/asan/session.o $(B)/asan/secret.o
$(B)/unit/test_ipmi: $(addprefix $(B)/asan/,ipmi_lan.o ipmi_cmd.o ipmi_users.o throttle.o auth.o log.o)
$(B)/unit/test_boot: $(addprefix $(B)/asan/,boot.o jobs.o json.o macro.o keymap.o layout.o config.o log.o)
$(B)/unit/test_token: $(B)/asan/token.o $(B)/asan/secret.o $(B)/asan/json.o $(B)/asan/auth.o $(B)/asan/log.o
$(B)/unit/%: tests/unit/%.c tests/unit/unit.h | $(B)/.deps-all
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 -g $(SANITIZE) $(DEFS) $(UNIT_CFLAGS) -Igadgetd $(PKG_CFLAGS) -o $@ $< \
		$(filter %.o,$^) $(PKG_LIBS) $(UNIT_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# The VM rig: Debian's kernel, gpio-sim, a busybox initramfs with gadgetd, the observer and
# the server's simulated motherboard (atx-sim).
$(B)/observer: tests/vm/observer.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -o $@ $< $(shell $(PKG_CONFIG) --cflags --libs libevdev jansson libcrypto)

$(B)/atx-sim: tests/vm/atx-sim.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -o $@ $<

# A host-side USB reset for the rig's link to the server VM (tests/vm/server-link).
$(B)/usb-reset: tests/vm/usb-reset.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -o $@ $<
$(B)/usbredir-noreset.so: tests/vm/usbredir-noreset.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -shared -fPIC -o $@ $<

# The server's firmware and installer (boot menu, USB CD boot, answer files, boot prompt).
$(B)/firmware: tests/vm/firmware.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -pthread -o $@ $< $(shell $(PKG_CONFIG) --cflags --libs jansson)

# Keyboard layouts: keymaps/*.keymap are generated on a build host from xkeyboard-config and
# committed (the Pi needs no xkb). xkb-decode turns the rig's key events back into text.
$(B)/gen-keymaps: tools/gen-keymaps.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -o $@ $< $(shell $(PKG_CONFIG) --cflags --libs xkbcommon)

keymaps: $(B)/gen-keymaps
	$(B)/gen-keymaps keymaps

$(B)/xkb-decode: tools/xkb-decode.c | $(B)/.deps-all
	$(CC) $(TOOL_FLAGS) -O2 -o $@ $< \
		$(shell $(PKG_CONFIG) --cflags --libs xkbcommon libevdev jansson)

# The downloads are shared by the builds of every architecture.
KCACHE := build/cache/kernel
RIG_ARCH := $(if $(CROSS),$(CROSS),amd64)
$(B)/rig/kernel-version: tests/vm/fetch-kernel.sh | $(B)/.deps-all
	@mkdir -p $(dir $@)
	tests/vm/fetch-kernel.sh $(KCACHE) $(RIG_ARCH) > $@.tmp && mv $@.tmp $@

$(B)/rig/initrd.cpio.gz: $(B)/gadgetd $(B)/webui.stamp $(B)/observer $(B)/atx-sim $(B)/firmware $(B)/usb-reset $(B)/usbredir-noreset.so $(B)/rig/kernel-version tests/vm/mkinitramfs.sh tests/vm/init.sh tests/vm/rig-start tests/vm/rig-stop tests/vm/ref-compose tests/vm/server-link tests/vm/gadgetd.conf tests/vm/reinstall-demo.json tests/e2e/images.py $(wildcard keymaps/*.keymap) $(wildcard boot-profiles/*.conf)
	QEMU_USER=$(QEMU_USER) tests/vm/mkinitramfs.sh $(KCACHE)/$$(cat $(B)/rig/kernel-version) $(B) $@

rig: $(B)/rig/initrd.cpio.gz

unit: $(UNIT_BINS)

test: all unit rig $(B)/xkb-decode $(B)/gadgetd-asan $(B)/browser.stamp cross-build arm64-rig
	PYTHON=$(PYTHON) ARM64_E2E="$(ARM64_E2E)" tests/run-tests.sh

# The real-firmware end-to-end modules (tests/e2e/test_server_*.py) against a server VM running
# each of TEST_FIRMWARE (uefi: OVMF, bios: SeaBIOS) on the far end of the USB cable; make test
# runs them on UEFI.
TEST_FIRMWARE ?= uefi bios
test-firmware: all rig $(B)/gadgetd-asan
	@rc=0; for fw in $(TEST_FIRMWARE); do \
		echo "# e2e on a server VM with $$fw firmware"; \
		GADGETD_SERVER=$$fw $(PYTHON) tests/e2e/run.py | sed -E "s/^(ok|not ok) ([0-9]+) - /\1 \2 - $$fw: /" \
			|| rc=1; \
	done; exit $$rc

# The armhf and arm64 builds of gadgetd and of the unit tests (ASan and UBSan included);
# test-cross checks the binaries and runs the unit tests under qemu-user (tests/run-cross.sh).
CROSS_ARCHES := armhf arm64
NPROC := $(shell nproc 2>/dev/null || echo 1)
cross-build:
	@for a in $(CROSS_ARCHES); do \
		$(MAKE) --no-print-directory -j$(NPROC) CROSS=$$a build/$$a/gadgetd unit || exit 1; done
test-cross: cross-build
	tests/run-cross.sh build/test-results $(CROSS_ARCHES)

arm64-rig armhf-rig: %-rig:
	$(MAKE) --no-print-directory -j$(NPROC) CROSS=$* rig

# CROSS=arm64 boots the arm64 rig (the build machine's gadgetd writes its users file).
run: all rig
	$(if $(CROSS),$(MAKE) --no-print-directory CROSS= build/gadgetd)
	GADGETD_RIG_ARCH=$(RIG_ARCH) $(PYTHON) tests/vm/rig.py run

bench: all rig $(B)/xkb-decode arm64-rig
	$(PYTHON) tests/bench.py

# The end-to-end suite on the arm64 rig (the Pi Zero 2 W's architecture under
# qemu-system-aarch64) or the armhf one (32-bit, qemu-system-arm): the modules in ARM64_E2E (any
# part of "module.test" names; empty: all), with a gadgetd built without sanitizers; prints TAP.
# make test runs them on arm64 too.
ARM64_E2E ?= test_foundation. test_keyboard. test_media. test_power.
test-arm64 test-armhf: test-%: all $(B)/xkb-decode %-rig
	GADGETD_RIG_ARCH=$* GADGETD_VM_DIR=$(B)/vm-$* $(PYTHON) tests/e2e/run.py $(ARM64_E2E)

# The unit tests again, without sanitizers, under valgrind's memcheck.
valgrind:
	$(MAKE) --no-print-directory B=$(B)/valgrind SANITIZE= unit
	@for t in $(UNIT_BINS:$(B)/%=$(B)/valgrind/%); do \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			$$t >/dev/null || { echo "valgrind: $$t failed"; exit 1; }; \
	done; echo "valgrind: all unit tests clean"

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c), each linked with only the objects it needs, built
# with clang's -fsanitize=fuzzer plus ASan and UBSan under $(B)/fuzz/. `make fuzz` replays
# tests/fuzz/regressions/NAME/, then fuzzes each harness FUZZ_TIME seconds on a copy of
# tests/fuzz/corpus/NAME kept in $(B)/fuzz/corpus/ (FUZZ_PARALLEL at once; FUZZ_FLAGS: more
# libFuzzer options). It fails when a harness finds a crash, a leak or a timeout.
FUZZ_CC       ?= clang
FUZZ_TIME     ?= 60
FUZZ_PARALLEL ?= $(shell nproc 2>/dev/null || echo 1)
FUZZ_CFLAGS   ?= -O1 -g -fno-omit-frame-pointer
FUZZ_SANITIZE ?= address,undefined
FUZZ_FLAGS    ?=
FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)
FUZZ_OBJ      := $(B)/fuzz/obj

$(FUZZ_OBJ)/%.o: gadgetd/%.c | $(B)/.deps-all
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZE) \
		-fno-sanitize-recover=all $(DEFS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/fuzz/fuzz_config: $(FUZZ_OBJ)/config.o $(FUZZ_OBJ)/log.o
$(B)/fuzz/fuzz_macro: $(FUZZ_OBJ)/macro.o $(FUZZ_OBJ)/keymap.o $(FUZZ_OBJ)/layout.o
$(B)/fuzz/fuzz_layout: $(FUZZ_OBJ)/layout.o $(FUZZ_OBJ)/keymap.o $(FUZZ_OBJ)/macro.o
$(B)/fuzz/fuzz_json: $(addprefix $(FUZZ_OBJ)/,api_gadget.o api_keys.o api_macros.o api_media.o \
	api_power.o api_console.o api_images.o json.o macros.o macro.o keymap.o layout.o media.o \
	media_state.o lun.o jobs.o power.o ws.o log.o config.o)
$(B)/fuzz/fuzz_json: FUZZ_LIBS = -Wl,--wrap=gd_media_download
$(B)/fuzz/fuzz_redfish: $(addprefix $(FUZZ_OBJ)/,redfish.o redfish_power.o redfish_media.o boot.o \
	session.o secret.o power.o media.o media_state.o lun.o jobs.o json.o macro.o keymap.o layout.o \
	log.o config.o)
$(B)/fuzz/fuzz_redfish: FUZZ_LIBS = -Wl,--wrap=gd_media_probe,--wrap=gd_media_fetch
$(B)/fuzz/fuzz_ipmi: $(addprefix $(FUZZ_OBJ)/,ipmi_lan.o ipmi_cmd.o throttle.o log.o)
$(B)/fuzz/fuzz_media_name: $(addprefix $(FUZZ_OBJ)/,media.o media_state.o lun.o jobs.o gadget.o log.o)
$(B)/fuzz/fuzz_ws: $(FUZZ_OBJ)/ws.o
$(B)/fuzz/fuzz_telnet: $(FUZZ_OBJ)/telnet.o
$(B)/fuzz/fuzz_webui: $(FUZZ_OBJ)/webui.o
$(B)/fuzz/fuzz_auth: $(FUZZ_OBJ)/auth.o $(FUZZ_OBJ)/log.o
$(B)/fuzz/fuzz_access: $(addprefix $(FUZZ_OBJ)/,auth.o token.o secret.o json.o log.o)
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h | $(B)/.deps-all
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SANITIZE) -fno-sanitize-recover=all \
		$(DEFS) -DGD_KEYMAPS_DIR='"$(CURDIR)/keymaps"' -Igadgetd $(PKG_CFLAGS) -o $@ $< \
		$(filter %.o,$^) $(PKG_LIBS) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh $(B)/fuzz $(FUZZ_TIME) $(FUZZ_PARALLEL) $(FUZZ_NAMES)

lint: | $(B)/.deps-all
	clang-format --dry-run --Werror gadgetd/*.c gadgetd/*.h tests/unit/*.c tests/unit/*.h tests/vm/*.c tools/*.c \
		tests/fuzz/*.c tests/fuzz/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem --inline-suppr -Igadgetd gadgetd tests/vm/observer.c tests/vm/atx-sim.c tests/vm/firmware.c tests/vm/usb-reset.c tests/vm/usbredir-noreset.c tools
	clang-tidy --quiet gadgetd/*.c -- $(BASE) $(DEFS) $(PKG_CFLAGS)

format:
	clang-format -i gadgetd/*.c gadgetd/*.h tests/unit/*.c tests/unit/*.h tests/vm/*.c tools/*.c \
		tests/fuzz/*.c tests/fuzz/*.h

install: all
	install -D -m 0755 $(B)/gadgetd $(DESTDIR)$(PREFIX)/bin/gadgetd
	install -D -m 0644 docs/gadgetd.conf.example $(DESTDIR)$(SYSCONFDIR)/gadgetd.conf.example
	install -d $(DESTDIR)$(DATADIR)/keymaps $(DESTDIR)$(DATADIR)/webui $(DESTDIR)$(DATADIR)/boot-profiles
	install -m 0644 boot-profiles/*.conf $(DESTDIR)$(DATADIR)/boot-profiles/
	cp -r keymaps/. $(DESTDIR)$(DATADIR)/keymaps/
	cp -r $(B)/webui/. $(DESTDIR)$(DATADIR)/webui/
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		docs/gadgetd.service.in > $(DESTDIR)$(UNITDIR)/gadgetd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gadgetd.service

clean:
	rm -rf $(B)/obj $(B)/asan $(B)/unit $(B)/gadgetd $(B)/observer $(B)/atx-sim $(B)/firmware $(B)/usb-reset $(B)/usbredir-noreset.so $(B)/rig $(B)/test-results \
		$(B)/gen-keymaps $(B)/xkb-decode $(B)/webui $(B)/webui.stamp $(B)/browser.stamp $(B)/clang $(B)/valgrind $(B)/fuzz

distclean:
	rm -rf $(B)

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(wildcard $(B)/fuzz/obj/*.d $(B)/fuzz/*.d)
