# kmodlab - C against C++ in Linux kernel drivers, measured.
#
# The two commands:  make bench   (the main job)   make test   (the suite)
# Everything else:   make help
#
# TARGET=vm (default) runs kernel-side work in the QEMU guest (vm/run);
# TARGET=host runs it on this machine's kernel, which must load modules.

# kmodlab.conf is read through scripts/conf.sh (the shell reader), never
# included: an included "KEY = value" would override the environment and be
# exported to every tool with the file's value, so REGRESS_RATIO_THRESHOLD=0.2
# make regress would still gate at the file's 0.10.  Make itself needs only
# the cache path for messages.
ROOT       := $(CURDIR)
KMODLAB_CACHE = $(shell $(ROOT)/scripts/conf.sh get KMODLAB_CACHE)
BUILD      := $(ROOT)/build
TARGET     ?= vm
PYTHON     ?= /usr/bin/python3
CMAKE_DIR  := $(BUILD)/cmake
KVER_FILE  := $(BUILD)/kver
JOBS       ?= 2
QUICK      ?=
KERNEL     ?=
SHARD      ?=
RESULTS    ?=
VM_RUN     := $(ROOT)/vm/run
export KMODLAB_ROOT := $(ROOT)

ifeq ($(filter $(TARGET),vm host),)
$(error TARGET must be vm or host, not '$(TARGET)')
endif

.PHONY: help setup modules samples host build load unload status dmesg vm-shell \
	test test-host test-guest bench calibrate report regress icount format-check clean distclean config \
	check-host-target

help:
	@echo "kmodlab - C against C++ in Linux kernel drivers"
	@echo
	@echo "  make bench            build, boot the guest, run the C/C++ matrix, write the report"
	@echo "  make bench QUICK=1    the same, small matrix (about 5 minutes)"
	@echo "  make bench KERNEL=6.1 one configured kernel only; SHARD=i/N: shard i of N of the cells"
	@echo "                        (join shards: python3 -m analysis merge RUN... --out DIR)"
	@echo "  make calibrate        A/A and planted-cost pairs: false-positive and detection rates (QUICK=1: small)"
	@echo "  make test             the whole test suite; ends with 'N passed, N failed'"
	@echo
	@echo "  make setup            install packages, fetch Debian's kernel, build our QEMU (idempotent)"
	@echo "  make build            modules + host tools (loadgen, bpf, tests)"
	@echo "  make modules          kernel modules only (kmod/*/Kbuild), for every kernel of KERNELS (KERNEL=: one); make samples: kmod/samples"
	@echo "  make load | unload    insmod/rmmod every module with kmodlab.conf parameters (in the guest)"
	@echo "  make status | dmesg   which modules are loaded / their kernel log lines (in the guest)"
	@echo "  make vm-shell         interactive root shell in the guest"
	@echo "  make report RESULTS=dir   re-render a report from stored JSON"
	@echo "  make regress          compare the newest run (or RESULTS=) with results/baseline (or BASELINE=); exit 1 on regression"
	@echo "  make icount           exact instructions per operation (QEMU TCG plugin)"
	@echo "                        EXTRA_WORK=N: with the planted cost; EXPLAIN=driver/workload: both paths' instructions"
	@echo "  make format-check     kernel coding style of the drivers (clang-format)"
	@echo "  make config           every kmodlab.conf key, its value and where it came from"
	@echo "  make clean            remove build outputs (keeps the cache in $(KMODLAB_CACHE))"
	@echo
	@echo "Variables: TARGET=vm|host  KERNEL=<name|abi> (one of kmodlab.conf KERNELS)  QUICK=1  SHARD=i/N  RESULTS=<dir>  JOBS=$(JOBS)"
	@echo "Configuration: kmodlab.conf.  Guest runner: vm/run --help."

# --- set-up and builds ------------------------------------------------------
# Set-up is idempotent and takes about a second when everything is there.
setup:
	@scripts/setup.sh $(if $(filter host,$(TARGET)),--no-qemu)

$(KVER_FILE):
	@scripts/setup.sh $(if $(filter host,$(TARGET)),--no-qemu)

modules: setup
	@$(MAKE) --no-print-directory -C kmod -j$(JOBS) modules

samples: setup
	@$(MAKE) --no-print-directory -C kmod samples

host: setup
	@cmake -S $(ROOT) -B $(CMAKE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(CMAKE_DIR) -j $(JOBS)

build: modules host
	@if [ -f kmod/samples/Kbuild ]; then $(MAKE) --no-print-directory -C kmod samples; fi

# --- kernel-side helpers (in the guest, or TARGET=host) ----------------------
unload load status dmesg:
	@scripts/modules.sh $@

vm-shell: build
	@$(VM_RUN) --shell

check-host-target:
ifeq ($(TARGET),host)
	@test -e /proc/modules || { echo "TARGET=host: this kernel cannot load modules (no /proc/modules); use the VM: drop TARGET=host"; exit 1; }
	@test -f /usr/src/linux-headers-$$(uname -r)/Makefile || { echo "TARGET=host: no headers for $$(uname -r); install linux-headers-$$(uname -r) or use the VM"; exit 1; }
endif

# --- the suite ----------------------------------------------------------------
test: check-host-target build
	@TARGET=$(TARGET) PYTHON=$(PYTHON) tests/run.sh

# --- the main job -----------------------------------------------------------------
bench: check-host-target build
	@TARGET=$(TARGET) QUICK=$(QUICK) KERNEL=$(KERNEL) SHARD=$(SHARD) CELLS=$(CELLS) PYTHON=$(PYTHON) scripts/bench.sh

calibrate: check-host-target build
	@TARGET=$(TARGET) QUICK=$(QUICK) PYTHON=$(PYTHON) scripts/calibrate.sh

report:
	@test -n "$(RESULTS)" || { echo "make report: say which run: make report RESULTS=results/<dir>"; exit 2; }
	@$(PYTHON) -m analysis report $(RESULTS)

regress:
	@$(PYTHON) -m analysis regress $(if $(RESULTS),--run $(RESULTS)) $(if $(BASELINE),--baseline $(BASELINE))

icount: check-host-target build
	@scripts/icount.sh $(if $(EXTRA_WORK),--extra-work "$(EXTRA_WORK)") $(if $(EXPLAIN),--explain $(EXPLAIN))

config:
	@scripts/conf.sh show

format-check:
	@scripts/check-format.sh

clean:
	@$(MAKE) --no-print-directory -C kmod clean
	rm -rf $(BUILD)

distclean: clean
	@echo "the kernel image and QEMU build stay in $(KMODLAB_CACHE); remove that folder by hand to refetch"
