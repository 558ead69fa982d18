# kcxx.mk - Kbuild rules for C++20 objects built on kcxx.
#
# Included by a module directory's Kbuild (kmod/cxx/Kbuild, kmod/samples/Kbuild):
#
#     include $(src)/../kcxx/kcxx.mk
#     $(call kcxx_module,foo_cxx,foo.o foo_glue.o)
#
# kcxx_module adds foo.o and foo_glue.o to module foo_cxx plus the per-module
# copy of the kcxx runtime (foo_cxx-kcxx_rt.o).  A foo.o whose source is
# foo.cpp is built by the C++ rule below; a foo.c by Kbuild's own C rule.
#
# Fairness rules this file enforces:
#  * C++ is compiled with the kernel's own $(c_flags) minus the flags that only
#    C accepts; every code-generation flag (-mcmodel=kernel, -mno-red-zone,
#    retpoline/rethunk thunks, -mfentry/-mrecord-mcount, stack protector,
#    -fno-strict-aliasing, -O2, ...) is kept.
#  * objtool runs on each C++ object exactly as on C objects ($(cmd_objtool)).
#  * scripts/check-cxx-objects.sh runs on every C++ object; a violation
#    (.init_array, undefined __cxa_*/atexit, exceptions, RTTI) fails the build.
#  * Both C and C++ get -fstack-usage when KCXX_STACK_USAGE=1 is not disabled,
#    so scripts/kmod-report.sh can compare stack frames.

KCXX_DIR := $(abspath $(src)/../kcxx)
KCXX_UAPI := $(abspath $(src)/../include)
KCXX_CHECK := $(abspath $(src)/../../scripts/check-cxx-objects.sh)
KCXX_CXX ?= $(patsubst gcc%,g++%,$(CC))

# Flags g++ rejects or that mean nothing to C++.  -Wno-override-init (6.12)
# is C-only; -Wmissing-declarations (6.12's C flags) is the C twin of
# -Wmissing-prototypes: in C++ it would flag every extern "C" entry point the
# kcxx macros define (file operations, init_module), which are reached only
# through the tables and the module loader, as static C functions are.  compiler_types.h and
# compiler-version.h are C-only force-includes (their "-include" word is
# removed as well; kconfig.h, pure macros, is re-added below).
KCXX_C_ONLY_FLAGS := -std=gnu11 -std=gnu89 -Werror=strict-prototypes \
	-Wstrict-prototypes -Werror=implicit-function-declaration \
	-Werror=implicit-int -Werror=incompatible-pointer-types \
	-Werror=designated-init -Wno-pointer-sign -Wdeclaration-after-statement \
	-Wmissing-prototypes -Wold-style-definition -Wnested-externs \
	-Wno-override-init -Wmissing-declarations \
	-include %/compiler_types.h %/compiler-version.h %/kconfig.h

# -fno-asynchronous-unwind-tables is already in c_flags; -fno-unwind-tables
# keeps C++ from emitting .eh_frame for cleanups.  -Wno-invalid-offsetof:
# kcxx uses offsetof only on its own standard-layout structs.
KCXX_CXX_ONLY_FLAGS := -std=gnu++20 -ffreestanding -fno-exceptions -fno-rtti \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fno-unwind-tables \
	-nostdinc++ -fno-gnu-unique -fno-operator-names -Wno-invalid-offsetof \
	-include $(srctree)/include/linux/kconfig.h \
	-I$(KCXX_DIR)/include -I$(KCXX_UAPI) -I$(obj)
# A clang-built kernel (the lab's Rust kernel, LLVM=1): $(CC) is clang, which
# compiles a .cpp as C++ by itself; -fno-gnu-unique is GCC's alone.
ifdef CONFIG_CC_IS_CLANG
KCXX_CXX_ONLY_FLAGS := $(filter-out -fno-gnu-unique,$(KCXX_CXX_ONLY_FLAGS))
endif

# Tracepoints on unless KMODLAB_TRACE=0 (kmodlab/trace/trace.mk; kcxx/trace.h).
include $(src)/../include/kmodlab/trace/trace.mk

# Stack usage for the C-vs-C++ report (kmod-report.sh reads the .su files).
ccflags-y += -fstack-usage
# kcxx/bindings.def for the C readers (glue/kcxx_helpers.c, kabi/proto-check.c).
ccflags-y += -I$(KCXX_DIR)/include
# The generated kcxx_kabi.h for the C readers too (proto-check.c, kcxx_helpers.c).
ccflags-y += -I$(obj)
# The shim directory comes first: it must win over the kernel's <linux/types.h>.
kcxx_cxx_flags = -I$(KCXX_DIR)/shim $(filter-out $(KCXX_C_ONLY_FLAGS),$(c_flags)) \
	$(KCXX_CXX_ONLY_FLAGS)

# --- the generated ABI header (asm-offsets technique) -------------------------
$(obj)/kcxx_kabi.s: $(KCXX_DIR)/kabi/kabi-gen.c FORCE
	$(call if_changed_dep,cc_s_c)

$(obj)/kcxx_kabi.h: $(obj)/kcxx_kabi.s FORCE
	$(call filechk,offsets,__KCXX_KABI_H__)

targets += kcxx_kabi.s kcxx_kabi.h

# --- C++ objects -------------------------------------------------------------
quiet_cmd_cxx_o_cpp = CXX $(quiet_modtag) $@
      cmd_cxx_o_cpp = $(KCXX_CXX) $(kcxx_cxx_flags) -c -o $@ $< \
		$(cmd_objtool)

quiet_cmd_kcxx_check = KCXXCHK $@
      cmd_kcxx_check = bash $(KCXX_CHECK) --quiet $@

# No raw kernel calls in a driver source (scripts/check-cxx-raw-calls.sh):
# on in directories that set KCXX_NO_RAW_CALLS := y (kmod/cxx); the sources
# named in KCXX_RAW_CALLS_PENDING are reported on every build, not failed.
KCXX_RAWCHECK := $(abspath $(src)/../../scripts/check-cxx-raw-calls.sh)
quiet_cmd_kcxx_rawcheck = KCXXRAW $<
      cmd_kcxx_rawcheck = KCXX_CXX=$(KCXX_CXX) bash $(KCXX_RAWCHECK) --quiet \
		$(if $(filter $(notdir $<),$(KCXX_RAW_CALLS_PENDING)),--pending) $<

define rule_cxx_o_cpp
	$(if $(KCXX_NO_RAW_CALLS),$(if $(filter $(src)/%.cpp,$<),$(call cmd,kcxx_rawcheck)))
	$(call cmd_and_fixdep,cxx_o_cpp)
	$(call cmd,gen_objtooldep)
	$(call cmd,kcxx_check)
endef

$(obj)/%.o: $(src)/%.cpp $(obj)/kcxx_kabi.h $(obj)/kcxx_proto_check.s FORCE
	$(call if_changed_rule,cxx_o_cpp)

# The kcxx runtime (__cxa_pure_virtual, operator delete) is linked into every
# module as its own copy: one object may not belong to two modules.
$(obj)/%-kcxx_rt.o: $(KCXX_DIR)/rt/kcxx_rt.cpp $(obj)/kcxx_kabi.h $(obj)/kcxx_proto_check.s FORCE
	$(call if_changed_rule,cxx_o_cpp)

# The C helpers (kernel inlines C++ cannot call), compiled as C, per module.
$(obj)/%-kcxx_helpers.o: $(KCXX_DIR)/glue/kcxx_helpers.c $(obj)/kcxx_kabi.h FORCE
	$(call if_changed_rule,cc_o_c)

# The prototype check: kcxx/bindings.def against the real kernel headers
# (kabi/proto-check.c), compiled as C before any C++ object of the directory.
$(obj)/kcxx_proto_check.s: $(KCXX_DIR)/kabi/proto-check.c $(KCXX_DIR)/include/kcxx/bindings.def \
		$(obj)/kcxx_kabi.h FORCE
	$(call if_changed_dep,cc_s_c)

targets += kcxx_proto_check.s

# $(call kcxx_module,MODULE,OBJECTS)
kcxx_module = $(eval obj-m += $(1).o)$(eval $(1)-y += $(2) $(1)-kcxx_rt.o $(1)-kcxx_helpers.o)

clean-files += kcxx_kabi.h kcxx_kabi.s kcxx_proto_check.s *.su
