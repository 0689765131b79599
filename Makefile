# SPDX-License-Identifier: GPL-2.0
#
# lazy_cma -- see README.md.
#
#   make                   module for the running kernel (KDIR), tool, selftests
#   make KVER=7.3          the same against Debian's newest 7.3 kernel (provisioned)
#   make check             every test on every kernel in KERNELS, in QEMU guests
#   make demo              a narrated tour in a 7.3 guest

# The kernel series tested, named once.  Each resolves to Debian's newest
# package of that series when provisioned.
KERNELS ?= 6.12 7.3
DEMO_KERNEL ?= $(lastword $(KERNELS))

KVER ?=
KDIR ?= /lib/modules/$(shell uname -r)/build
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lazy_cma
OUT := $(CURDIR)/out
# the kselftest harness comes from the linux-source of the host's suite
HARNESS_SERIES ?= $(firstword $(KERNELS))
KSFT_DIR := $(CACHE)/src-$(HARNESS_SERIES)/tools/testing/selftests
VM := $(CURDIR)/tools/testing/vm

all: module tool selftests

module:
ifeq ($(KVER),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
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

check: tool selftests
	$(VM)/check $(KERNELS)

demo: tool
	$(VM)/build-module $(DEMO_KERNEL)
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	cp $(OUT)/user/lazy_cma_tool $(VM)/demo $(OUT)/demo/
	$(VM)/run --kernel $(DEMO_KERNEL) --share $(OUT)/demo -- ./demo

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(OUT)

.PHONY: all module tool selftests check demo clean
