# SPDX-License-Identifier: GPL-2.0
#
# lazy_cma -- see README.md.
#
#   make                   module for the running kernel (KDIR), tool, selftests
#   make KVER=6.12         the same against Debian's newest 6.12 kernel (provisioned)
#   make check             every test on every kernel in KERNELS, in QEMU guests
#   make demo              a narrated tour in a guest of the newest backports kernel
#   make mutants           mutation testing: do the tests notice breakages?
#   make soak              make check with the long runs: fuzz, churn and
#                          hot-plug stress at length, random fuzz seeds

# The kernel series tested, named once.  Each resolves to Debian's newest
# package of that series when provisioned; "backports" is the newest series
# that trixie-backports carries at that moment (7.3 when this was written).
KERNELS ?= 6.1 6.12 backports
DEMO_KERNEL ?= $(lastword $(KERNELS))
# built from that series' linux-source with the kernel's checkers
DEBUG_KERNEL ?= $(lastword $(KERNELS))-debug

KVER ?=
KDIR ?= /lib/modules/$(shell uname -r)/build
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lazy_cma
OUT := $(CURDIR)/out
# the kselftest harness and checkpatch come from the newest series' linux-source
HARNESS_SERIES ?= $(lastword $(KERNELS))
KSFT_DIR := $(CACHE)/src-$(HARNESS_SERIES)/tools/testing/selftests
VM := $(CURDIR)/tools/testing/vm

all: module tool selftests

# the host packages the guest tests need (root; apt-get only what is missing)
host-tools:
	$(VM)/provision --host

module:
ifeq ($(KVER),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) LAZY_CMA_VERSION=$(VERSION) modules
else
	$(VM)/build-module $(KVER)
endif

tool:
	@mkdir -p $(OUT)/user
	$(MAKE) -C tools/lazy_cma_tool OUT=$(OUT)/user

$(KSFT_DIR)/kselftest_harness.h:
	$(VM)/provision --source $(HARNESS_SERIES)

selftests: $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(OUT)/user
	$(MAKE) -C tools/testing/selftests/lazy_cma KSFT_DIR=$(KSFT_DIR) OUTPUT=$(OUT)/user
	cp $(VM)/guest-selftests $(OUT)/user/
	cp /usr/bin/udevadm udev/70-lazy_cma-heap-alias.rules $(OUT)/user/  # lazy_cma_apply_test.sh

# the test command: every kernel of KERNELS, then the debug kernel
check: host-tools tool selftests
	HARNESS_SERIES=$(HARNESS_SERIES) DEBUG_SERIES=$(DEBUG_KERNEL) $(VM)/check $(KERNELS)

# the debug kernel alone (KASAN, lockdep, kmemleak, fault injection, ...)
check-debug: host-tools tool selftests
	HARNESS_SERIES=$(HARNESS_SERIES) DEBUG_SERIES=$(DEBUG_KERNEL) $(VM)/check

# the stock kernels alone (minutes, once provisioned)
check-quick: host-tools tool selftests
	HARNESS_SERIES=$(HARNESS_SERIES) $(VM)/check $(KERNELS)

# the long versions (not part of check): every suite as in check, with
# fuzzing, churn and the node-1 hot-plug stress at length and a fuzz seed of
# its own per boot (printed: "lazy_cma_fuzz -s SEED" replays it); no deadline
SOAK_FUZZ_SECONDS ?= 600
SOAK_DEBUG_FUZZ_SECONDS ?= 1200
SOAK_STRESS_SECONDS ?= 300
SOAK_CHURN_SECONDS ?= 120
soak: host-tools tool selftests
	FUZZ_SECONDS=$(SOAK_FUZZ_SECONDS) DEBUG_FUZZ_SECONDS=$(SOAK_DEBUG_FUZZ_SECONDS) \
	STRESS_SECONDS=$(SOAK_STRESS_SECONDS) CHURN_SECONDS=$(SOAK_CHURN_SECONDS) \
	FUZZ_SEED=random CHECK_DEADLINE=0 \
	HARNESS_SERIES=$(HARNESS_SERIES) DEBUG_SERIES=$(DEBUG_KERNEL) $(VM)/check $(KERNELS)

# mutation testing (not part of check): small breakages of the driver and
# the tool, one at a time, on a scratch copy; every one must fail a test
mutants:
	$(VM)/mutants --kernel $(lastword $(KERNELS))

# benchmark: a debug-kernel guest and a stock one for 10 000 regions;
# writes bench.json, bench.txt, bench.png
BENCH_KERNEL ?= $(DEBUG_KERNEL)
bench: host-tools tool selftests
	$(VM)/bench $(BENCH_KERNEL)

demo: host-tools tool selftests
	$(VM)/build-module $(DEMO_KERNEL)
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	cp $(OUT)/user/lazy_cma_tool $(OUT)/user/lazy_cma_heap_demo $(VM)/demo $(OUT)/demo/
	$(VM)/run --kernel $(DEMO_KERNEL) --share $(OUT)/demo --kmod vgem --kernel-image \
		--host-prog kexec -- ./demo

# the one version: the top entry of debian/changelog
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(CURDIR)/debian/changelog)
DKMS_SRCDIR ?= /usr/src/lazy_cma-$(VERSION)

# the sources DKMS builds, with the version written into dkms.conf
dkms-source:
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRCDIR)/drivers $(DESTDIR)$(DKMS_SRCDIR)/include/uapi/linux
	$(INSTALL) -m 0644 Kbuild $(DESTDIR)$(DKMS_SRCDIR)/
	$(INSTALL) -m 0644 drivers/*.c drivers/*.h $(DESTDIR)$(DKMS_SRCDIR)/drivers/
	$(INSTALL) -m 0644 include/uapi/linux/lazy_cma.h $(DESTDIR)$(DKMS_SRCDIR)/include/uapi/linux/
	sed 's/#MODULE_VERSION#/$(VERSION)/g' dkms.conf > $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

# Debian packages lazy-cma-dkms and lazy-cma-tools in out/deb, checked by lintian
deb:
	tools/deb/build $(OUT)/deb

# --- install / uninstall ------------------------------------------------
# KVER here names a Debian series (6.12, 7.3), not a kernel release, so the
# release the module is installed for is KREL: the one recorded by
# build-module (out/$(KVER)/krel), else the one KDIR was configured for.
DESTDIR ?=
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /etc/udev/rules.d
UNITDIR ?= /etc/systemd/system
INSTALL ?= install
MODULE_KO = $(if $(KVER),$(OUT)/$(KVER),$(CURDIR))/lazy_cma.ko
KREL ?= $(strip $(if $(KVER),$(shell cat $(OUT)/$(KVER)/krel 2>/dev/null),\
	$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || uname -r)))
MODDIR = /lib/modules/$(KREL)/updates
# a staged install (DESTDIR) leaves depmod and udev to the package's scripts
DEPMOD = $(if $(DESTDIR),@echo "skipping depmod -a $(KREL) (DESTDIR set)",depmod -a $(KREL))

install: install-module install-tool

# the module built by "make" (or "make KVER=..."); with DKMS, skip this one
install-module: module
	@test -n "$(KREL)" || { echo "install: no kernel release (KREL)" >&2; exit 1; }
	$(INSTALL) -D -m 0644 $(MODULE_KO) $(DESTDIR)$(MODDIR)/lazy_cma.ko
	$(DEPMOD)

# lazy_cma_tool, its man page and the udev rule
install-tool: tool
	$(INSTALL) -D -m 0755 $(OUT)/user/lazy_cma_tool $(DESTDIR)$(SBINDIR)/lazy_cma_tool
	$(INSTALL) -D -m 0644 tools/lazy_cma_tool/lazy_cma_tool.8 $(DESTDIR)$(MANDIR)/man8/lazy_cma_tool.8
	$(INSTALL) -D -m 0644 udev/60-lazy_cma.rules $(DESTDIR)$(UDEVRULESDIR)/60-lazy_cma.rules
	$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/lazy_cma_tool|$(SBINDIR)/lazy_cma_tool|' systemd/lazy-cma.service \
		> $(DESTDIR)$(UNITDIR)/lazy-cma.service

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/lazy_cma.ko
	rm -f $(DESTDIR)$(SBINDIR)/lazy_cma_tool
	rm -f $(DESTDIR)$(MANDIR)/man8/lazy_cma_tool.8
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-lazy_cma.rules
	rm -f $(DESTDIR)$(UNITDIR)/lazy-cma.service
	$(DEPMOD)

.PHONY: install install-module install-tool uninstall

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(OUT)

.PHONY: all host-tools module tool selftests check check-debug check-quick soak mutants bench demo deb dkms-source clean
