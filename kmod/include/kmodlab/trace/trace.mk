# kmodlab/trace/trace.mk - the tracepoint build switch, for every driver
# directory (kmod/c/Kbuild, kmod/kcxx/kcxx.mk include it).
#   make modules KMODLAB_TRACE=0   drivers without tracepoints
#                                  (KMODLAB_NO_TRACE, kmodlab/trace/common.h):
#                                  the baseline of the disabled-cost check
ifeq ($(KMODLAB_TRACE),0)
ccflags-y += -DKMODLAB_NO_TRACE
endif
