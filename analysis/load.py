"""Reading and validating a run directory.

A run directory (results/<date>-<id>/ or results/baseline/) holds
manifest.json, written by scripts/bench.sh, and the files it names: one
kmodlab-load JSON per single run, fio and Google Benchmark JSON, the module
size report, probe-effect runs and an optional reliability summary.  The
formats are in analysis/README.md.

Everything is validated here, once, so that the statistics and the report
can trust their input: a missing or malformed file or field raises
InputError naming the file and the field.  Nothing is skipped silently.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from . import devnames
from .errors import InputError

# The variants every driver has, C first ("c", "cxx"): a pair without
# "pair_variants" compares these two (every manifest before the Rust column).
VARIANTS = devnames.variants()
PASSES = ("timing", "bpf")
MANIFEST = "manifest.json"
REGENERATE = ("regenerate it with 'make bench' (for results/baseline: 'make bench', then "
              "'python3 -m analysis promote results/<run>')")
LOADGEN_TOOL = "kmodlab-load"
LOADGEN_VERSIONS = (1,)


# --- small typed accessors ------------------------------------------------------
def read_json(path: Path) -> object:
    """Parse a JSON file; a missing or malformed file is an InputError naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e


def _get(obj: object, key: str, where: str, types, optional: bool = False):
    """obj[key] checked against types; `where` names the file and path for the message."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object")
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise InputError(f"{where}: missing field '{key}'")
    val = obj[key]
    # JSON true/false are ints to Python; never accept them as numbers.
    if isinstance(val, bool) and bool not in _as_tuple(types):
        raise InputError(f"{where}: field '{key}' must be {_names(types)}, got {val!r}")
    if not isinstance(val, types):
        raise InputError(f"{where}: field '{key}' must be {_names(types)}, got {type(val).__name__} {val!r}"[:300])
    if isinstance(val, float) and not math.isfinite(val):
        raise InputError(f"{where}: field '{key}' is not a finite number: {val!r}")
    return val


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _names(types) -> str:
    if set(_as_tuple(types)) == {int, float}:
        return "a number"
    return " or ".join({"int": "an integer", "float": "a number", "str": "a string", "bool": "true/false",
                        "dict": "an object", "list": "an array"}[t.__name__] for t in _as_tuple(types))


NUM = (int, float)


def _num(obj, key, where, optional=False, nonneg=True):
    val = _get(obj, key, where, NUM, optional)
    if val is not None and nonneg and val < 0:
        raise InputError(f"{where}: field '{key}' must not be negative, got {val!r}")
    return None if val is None else float(val)


def _histogram(raw, where: str) -> list[tuple[float, float, int]]:
    """[[lo, hi, count], ...] with lo < hi, count >= 0; returned sorted by lo."""
    if not isinstance(raw, list):
        raise InputError(f"{where}: must be an array of [lo_ns, hi_ns, count]")
    out = []
    for i, b in enumerate(raw):
        if (not isinstance(b, list) or len(b) != 3 or any(isinstance(x, bool) or not isinstance(x, NUM) for x in b)):
            raise InputError(f"{where}[{i}]: expected [lo_ns, hi_ns, count], got {b!r}"[:300])
        lo, hi, n = b
        if not (0 <= lo < hi) or n < 0:
            raise InputError(f"{where}[{i}]: need 0 <= lo < hi and count >= 0, got {b!r}")
        out.append((float(lo), float(hi), int(n)))
    out.sort()
    return out


# --- records -------------------------------------------------------------------------
@dataclass
class Env:
    kernel: str
    accel: str
    cpus: int
    qemu_version: str | None = None
    compiler: str | None = None
    host: str | None = None

    def line(self) -> str:
        """One line for figure footers and report headers."""
        parts = [f"kernel {self.kernel}", f"accel {self.accel}", f"{self.cpus} CPUs"]
        if self.qemu_version:
            parts.append(f"QEMU {self.qemu_version}")
        if self.compiler:
            parts.append(self.compiler)
        if self.host:
            parts.append(f"host {self.host}")
        return ", ".join(parts)


@dataclass
class BpfOp:
    device: str
    op: str
    count: int
    sum_ns: float
    histogram: list
    errors: dict


@dataclass
class BpfLock:
    lock: str
    kind: str | None
    count: int
    total_ns: float
    max_ns: float
    context: str = "task"     # "irq": waited in an interrupt that hit the syscall


@dataclass
class BpfTrace:
    """One module's own tracepoints in a BPF run (kmodlab-load --bpf-trace; bpf/README.md)."""
    module: str
    driver: str
    variant: str
    events: dict[str, int]              # event -> count
    phases: dict[str, list]             # lkp_enc: phase -> [[lo, hi, count], ...]
    sequence: dict[str, int]            # event-order figures: encrypts, out_of_order, alloc_then_write, ...


@dataclass
class BpfWake:
    """Wakeups of threads asleep inside a call on one device (kmodlab-load --bpf on a paired run; bpf/README.md)."""
    device: str
    op: str                             # the sleeping call's operation: read, write
    count: int                          # timed wakeups (sched_wakeup -> running again)
    sleeps: int                         # the thread switched away asleep inside the call
    woke_running: int                   # woken before it had switched away (not timed)
    histogram: list                     # [[lo, hi, count], ...] ns


@dataclass
class SetupTrace:
    """The set-up of a kmodlab-load --bpf-trace run (BPF attached before it; loadgen/SCHEMA.md "setup"):
    scull's trim and prefill, counted apart from the measured phase."""
    emptied: bool                       # the device was emptied (scull: trimmed) before the prefill
    prefill_bytes: int
    prefill_writes: int
    events: dict[str, int]              # tracepoint figure -> count over the set-up
    expected: dict[str, tuple[int, int]]  # figure -> [lo, hi] the set-up plan allows (exact: lo == hi)
    not_modelled: str | None = None     # why the set-up has no plan


@dataclass
class Bpf:
    opslat: list[BpfOp]
    lockstat: list[BpfLock]
    dropped: int
    prog_stats: list[dict]
    trace_events: list[BpfTrace] = field(default_factory=list)
    wakeup: list[BpfWake] | None = None  # None: the session did not trace wakeups
    attach_mode: str | None = None  # how the session hooked the calls (fentry, tp_btf, ...); None: not recorded


@dataclass
class LoadgenRun:
    """One kmodlab-load invocation: one repetition of one variant of one matrix cell."""
    file: str                 # path relative to the run directory
    driver: str
    workload: str
    variant: str
    rep: int
    params: dict
    expect_errors: list[str]
    device: str | None
    op: str | None
    threads: int
    sync: str | None          # counter's sync= mode, from params or module_params
    ops: int
    ops_per_s: float
    bytes_per_s: float | None
    latency: dict[str, float]  # p50, p99, ... in ns
    histogram: list
    errors: dict[str, int]
    check_enabled: bool
    check_ok: bool
    check_detail: str
    bpf: Bpf | None
    interrupted: bool = False  # stopped by a signal before its planned end
    per_op: dict[str, int] = field(default_factory=dict)  # kmodlab-load op name -> operations issued
    bytes: int = 0            # bytes moved by the measured operations (return values of read/write)
    pass_: str = "timing"     # manifest "pass": "timing" (no BPF) or "bpf"
    rival: str = VARIANTS[1]  # the variant C is paired with in this run's pair (manifest "pair_variants")
    pair: int | None = None   # manifest "pair": C and C++ of one pair share it (within driver, workload, pass)
    first: str | None = None  # manifest "first": which variant of the pair ran first
    boot: int | None = None   # manifest "boot": guest-boot index the pair ran in
    extra_work: int | None = None  # manifest "extra_work": planted cost (calibration runs)
    trace_check: dict | None = None  # check.trace_events of --bpf-trace --check: checked, ok, detail
    setup: SetupTrace | None = None  # --bpf-trace: the set-up's tracepoint figures
    setup_check: dict | None = None  # check.setup_trace_events of --bpf-trace --check: checked, ok, detail

    @property
    def bytes_per_op(self) -> float:
        return self.bytes / self.ops if self.ops else float("nan")


@dataclass
class FioRun:
    file: str
    driver: str
    workload: str
    variant: str
    rep: int
    ops_per_s: float
    bytes_per_s: float
    p50_ns: float | None
    p99_ns: float | None


@dataclass
class GbenchSample:
    file: str
    name: str
    driver: str
    workload: str
    variant: str
    rep: int
    ops_per_s: float
    real_time_ns: float


@dataclass
class ModuleInfo:
    name: str
    driver: str
    variant: str
    text: int
    data: int
    rodata: int
    bss: int
    max_stack: int | None     # None: not measured (no .su files: Rust)
    max_stack_function: str | None = None

    @property
    def total(self) -> int:
        return self.text + self.data + self.rodata + self.bss


@dataclass
class ProbeEffect:
    driver: str
    workload: str
    variant: str
    off: list[LoadgenRun]
    on: list[LoadgenRun]
    rival: str = VARIANTS[1]  # which pairs' runs (manifest "pair_variants")


@dataclass
class IcountRow:
    """Exact guest instructions per operation (make icount, vm/plugin/README.md), one driver x workload,
    C against one other variant (rival: C++, or Rust where the run counted it)."""
    driver: str
    workload: str
    driver_c: float
    driver_x: float              # the rival's
    driver_ratio: float | None   # rival / c; None when c is 0
    kernel_c: float
    kernel_x: float
    kernel_ratio: float | None
    rival: str = VARIANTS[1]


@dataclass
class Icount:
    ok: bool
    problems: list[str]
    rows: list[IcountRow]


@dataclass
class Run:
    dir: Path
    id: str
    started: str | None
    finished: str | None
    quick: bool
    env: Env
    loadgen: list[LoadgenRun]
    fio: list[FioRun] = field(default_factory=list)
    gbench: list[GbenchSample] = field(default_factory=list)
    gbench_unmapped: dict[str, list[float]] = field(default_factory=dict)  # run_name -> real_time_ns per rep
    modules: list[ModuleInfo] | None = None
    module_report: ModuleReport | None = None
    probe: list[ProbeEffect] = field(default_factory=list)
    reliability: dict | None = None
    icount: Icount | None = None
    bench_settings: dict = field(default_factory=dict)  # manifest "settings": what the bench script varied
    design: dict = field(default_factory=dict)          # manifest "design": boots, pairs_per_boot, order, ...
    variant_sides: dict | None = None                   # manifest "variant_sides" (A/A and planted runs)
    origin: dict = field(default_factory=dict)  # manifest commit, shard, machine(s), merged_from (shown, never read)
    selected: list[str] | None = None  # manifest "cells_selected": make bench CELLS= chose these cells, else None

    def runs_of(self, pass_: str) -> list[LoadgenRun]:
        return [r for r in self.loadgen if r.pass_ == pass_]


# --- parsers -------------------------------------------------------------------------
def driver_variants(driver: str) -> tuple[str, ...]:
    """The variants a driver exists in (kmod/include/uapi/kmodlab_dev.h, through
    devnames): counter also in Rust.  A name the header does not know (a
    hand-made run) has the variants every driver has."""
    return devnames.variants_of(driver) if driver in devnames.drivers() else VARIANTS


def _variant(val: str, where: str, allowed: tuple[str, ...] = VARIANTS) -> str:
    if val not in allowed:
        raise InputError(f"{where}: variant must be one of {', '.join(allowed)}, got {val!r}")
    return val


def _cell(entry: dict, where: str) -> tuple[str, str, str, int]:
    driver = _get(entry, "driver", where, str)
    workload = _get(entry, "workload", where, str)
    variant = _variant(_get(entry, "variant", where, str), where, driver_variants(driver))
    rep = _get(entry, "rep", where, int)
    return driver, workload, variant, rep


def _bpf(raw: dict, where: str) -> Bpf:
    ops = []
    for i, o in enumerate(_get(raw, "opslat", where, list)):
        w = f"{where}.opslat[{i}]"
        ops.append(BpfOp(device=_get(o, "device", w, str), op=_get(o, "op", w, str),
                         count=_get(o, "count", w, int), sum_ns=_num(o, "sum_ns", w),
                         histogram=_histogram(_get(o, "histogram", w, list), w + ".histogram"),
                         errors=_get(o, "errors", w, dict, optional=True) or {}))
    locks = []
    for i, lk in enumerate(_get(raw, "lockstat", where, list, optional=True) or []):
        w = f"{where}.lockstat[{i}]"
        locks.append(BpfLock(lock=_get(lk, "lock", w, str), kind=_get(lk, "kind", w, str, optional=True),
                             count=_get(lk, "count", w, int), total_ns=_num(lk, "total_ns", w),
                             max_ns=_num(lk, "max_ns", w),
                             context=_get(lk, "context", w, str, optional=True) or "task"))
    stats = []
    for i, p in enumerate(_get(raw, "prog_stats", where, list, optional=True) or []):
        w = f"{where}.prog_stats[{i}]"
        stats.append({"name": _get(p, "name", w, str), "run_cnt": _get(p, "run_cnt", w, int),
                      "ns_per_event": _num(p, "ns_per_event", w),
                      "recursion_misses": _get(p, "recursion_misses", w, int, optional=True) or 0})
    return Bpf(opslat=ops, lockstat=locks, dropped=_get(raw, "dropped", where, int), prog_stats=stats,
               trace_events=_trace_events(raw, where), wakeup=_wakeup(raw, where),
               attach_mode=_get(raw, "attach_mode", where, str, optional=True))


def _wakeup(raw: dict, where: str) -> list[BpfWake] | None:
    """bpf.wakeup (only when the session traced wakeups: paired scullpipe runs)."""
    items = _get(raw, "wakeup", where, list, optional=True)
    if items is None:
        return None
    out = []
    for i, x in enumerate(items):
        w = f"{where}.wakeup[{i}]"
        out.append(BpfWake(device=_get(x, "device", w, str), op=_get(x, "op", w, str),
                           count=_get(x, "count", w, int), sleeps=_get(x, "sleeps", w, int),
                           woke_running=_get(x, "woke_running", w, int),
                           histogram=_histogram(_get(x, "histogram", w, list), w + ".histogram")))
    return out


def _counts(raw, where: str) -> dict[str, int]:
    out = {}
    for k, v in (raw or {}).items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{where}.{k} must be a count, got {v!r}")
        out[str(k)] = v
    return out


def _trace_events(raw: dict, where: str) -> list[BpfTrace]:
    """bpf.trace_events (absent before kmodlab-load --bpf-trace existed, and without it)."""
    out = []
    for i, m in enumerate(_get(raw, "trace_events", where, list, optional=True) or []):
        w = f"{where}.trace_events[{i}]"
        phases = {name: _histogram(_get(ph, "histogram", f"{w}.phases.{name}", list), f"{w}.phases.{name}")
                  for name, ph in (_get(m, "phases", w, dict, optional=True) or {}).items()}
        out.append(BpfTrace(module=_get(m, "module", w, str), driver=_get(m, "driver", w, str),
                            variant=_get(m, "variant", w, str), events=_counts(_get(m, "events", w, dict), w + ".events"),
                            phases=phases, sequence=_counts(_get(m, "sequence", w, dict, optional=True), w + ".sequence")))
    return out


def _setup(raw: dict | None, where: str) -> SetupTrace | None:
    """setup (absent before the set-up was traced, null without --bpf-trace)."""
    if raw is None:
        return None
    expected = {}
    for i, e in enumerate(_get(raw, "expected", where, list)):
        w = f"{where}.expected[{i}]"
        lo, hi = _get(e, "lo", w, int), _get(e, "hi", w, int)
        if lo < 0 or hi < lo:
            raise InputError(f"{w}: lo {lo}, hi {hi} is not a range of counts")
        expected[_get(e, "figure", w, str)] = (lo, hi)
    return SetupTrace(emptied=_get(raw, "emptied", where, bool),
                      prefill_bytes=_get(raw, "prefill_bytes", where, int),
                      prefill_writes=_get(raw, "prefill_writes", where, int),
                      events=_counts(_get(raw, "trace_events", where, dict), where + ".trace_events"),
                      expected=expected, not_modelled=_get(raw, "not_modelled", where, str, optional=True))


def load_loadgen(run_dir: Path, entry: dict, where_entry: str) -> LoadgenRun:
    """One kmodlab-load result, cross-checked against its manifest entry."""
    rel = _get(entry, "file", where_entry, str)
    driver, workload, variant, rep = _cell(entry, where_entry)
    path = run_dir / rel
    doc = read_json(path)
    w = str(path)
    tool = _get(doc, "tool", w, str)
    if tool != LOADGEN_TOOL:
        raise InputError(f"{w}: field 'tool' is {tool!r}, expected {LOADGEN_TOOL!r}")
    version = _get(doc, "version", w, int)
    if version not in LOADGEN_VERSIONS:
        raise InputError(f"{w}: kmodlab-load JSON version {version} is not one this analysis reads "
                         f"({', '.join(map(str, LOADGEN_VERSIONS))})")
    # The file says what it measured; a manifest that disagrees is a labelling bug
    # that would silently swap C and C++, so it is an error.
    for key, want in (("driver", driver), ("variant", variant)):
        # A calibration side (manifest "variant_sides", entry "extra_work") may run
        # the same module on both sides: "variant" then names the side, not the node.
        if key == "variant" and "extra_work" in entry:
            continue
        got = _get(doc, key, w, str, optional=True)
        # "generic" (with variant null) is kmodlab-load's name for a device that is
        # not one of the lab's drivers, e.g. /dev/null as a floor: the manifest names it.
        if got is not None and got != want and got != "generic":
            raise InputError(f"{w}: field '{key}' is {got!r} but {where_entry} says {want!r}")
    lat_raw = _get(doc, "latency_ns", w, dict)
    latency = {}
    for k in ("p50", "p99"):
        latency[k] = _num(lat_raw, k, w + ".latency_ns")
    for k, v in lat_raw.items():
        if k not in latency and isinstance(v, NUM) and not isinstance(v, bool):
            latency[k] = float(v)
    errors_raw = _get(doc, "errors", w, dict)
    errors = {}
    for k, v in errors_raw.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{w}: errors.{k} must be a count, got {v!r}")
        errors[str(k)] = v
    check = _get(doc, "check", w, dict)
    check_enabled = _get(check, "enabled", w + ".check", bool)
    # kmodlab-load writes ok: null when checking was off; when on, ok must be there.
    check_ok = _get(check, "ok", w + ".check", bool, optional=not check_enabled)
    params = _get(entry, "params", where_entry, dict, optional=True) or {}
    module_params = _get(doc, "module_params", w, dict, optional=True) or {}
    sync = params.get("sync", module_params.get("sync"))
    bpf_raw = _get(doc, "bpf", w, dict, optional=True)
    per_op = {}
    for name, po in (_get(doc, "per_op", w, dict, optional=True) or {}).items():
        per_op[name] = _get(po, "ops", f"{w}.per_op.{name}", int)
    op = _get(doc, "op", w, str, optional=True)
    if not per_op and op is not None and op != "mix":
        per_op = {op: _get(doc, "ops", w, int)}
    ops_per_s = _num(doc, "ops_per_s", w)
    return LoadgenRun(
        file=rel, driver=driver, workload=workload, variant=variant, rep=rep, params=params,
        expect_errors=[str(e) for e in (_get(entry, "expect_errors", where_entry, list, optional=True) or [])],
        device=_get(doc, "device", w, str, optional=True), op=op, per_op=per_op,
        threads=_get(doc, "threads", w, int), sync=None if sync is None else str(sync),
        ops=_get(doc, "ops", w, int), ops_per_s=ops_per_s,
        bytes_per_s=_num(doc, "bytes_per_s", w, optional=True),
        latency=latency, histogram=_histogram(_get(doc, "histogram", w, list), w + ".histogram"),
        errors=errors,
        check_enabled=check_enabled,
        check_ok=True if check_ok is None else check_ok,
        interrupted=bool(_get(doc, "interrupted", w, bool, optional=True)),
        check_detail=str(check.get("detail") or ""),
        bpf=None if bpf_raw is None else _bpf(bpf_raw, w + ".bpf"),
        bytes=_get(doc, "bytes", w, int),
        trace_check=_get(check, "trace_events", w + ".check", dict, optional=True),
        setup=_setup(_get(doc, "setup", w, dict, optional=True), w + ".setup"),
        setup_check=_get(check, "setup_trace_events", w + ".check", dict, optional=True),
        **_pairing(entry, where_entry, driver, variant),
    )


def pair_variants(entry: dict, where: str, driver: str, variant: str) -> tuple[str, str]:
    """What the entry's pair compared: its "pair_variants" (["c", "rust"]), or
    C and C++ without it (the format's default: every pair before the Rust
    column, and every C/C++ pair since).  The entry's variant must be one of them."""
    raw = _get(entry, "pair_variants", where, list, optional=True)
    if raw is None:
        pv = VARIANTS
    else:
        allowed = driver_variants(driver)
        if (len(raw) != 2 or raw[0] != VARIANTS[0] or raw[1] == VARIANTS[0] or raw[1] not in allowed):
            raise InputError(f"{where}: field 'pair_variants' must be [\"{VARIANTS[0]}\", one other variant of "
                             f"{driver} ({', '.join(allowed[1:])})], got {raw!r}")
        pv = (raw[0], raw[1])
    if variant not in pv:
        raise InputError(f"{where}: variant {variant!r} is not a side of its pair {list(pv)}"
                         + ("" if raw is not None else " (a pair other than C/C++ must say 'pair_variants')"))
    return pv


def _pairing(entry: dict, where: str, driver: str, variant: str) -> dict:
    """The paired-design fields of a manifest loadgen entry (analysis/README.md).

    A timing-pass entry without pair/first/boot cannot be analysed as a pair;
    falling back to unpaired statistics would hide that, so it is an error.
    """
    if "pass" not in entry:
        raise InputError(f"{where}: missing field 'pass' (\"timing\" or \"bpf\"): this manifest predates the "
                         f"paired, uninstrumented bench design (issue 14) and cannot be analysed; {REGENERATE}")
    pass_ = _get(entry, "pass", where, str)
    if pass_ not in PASSES:
        raise InputError(f"{where}: field 'pass' must be one of {', '.join(PASSES)}, got {pass_!r}")
    timing = pass_ == "timing"
    pv = pair_variants(entry, where, driver, variant)
    out = {"pass_": pass_, "rival": pv[1]}
    for key in ("pair", "boot"):
        out[key] = _get(entry, key, where, int, optional=not timing)
        if timing and out[key] < 0:
            raise InputError(f"{where}: field '{key}' must not be negative, got {out[key]}")
    first = _get(entry, "first", where, str, optional=not timing)
    if first is not None:
        first = _variant(first, where + ".first", pv)
    out["first"] = first
    out["extra_work"] = _get(entry, "extra_work", where, int, optional=True)
    return out


def load_fio(run_dir: Path, entry: dict, where_entry: str) -> FioRun:
    """fio --output-format=json: throughput summed over jobs and directions, clat percentiles of the busier direction."""
    rel = _get(entry, "file", where_entry, str)
    driver, workload, variant, rep = _cell(entry, where_entry)
    path = run_dir / rel
    doc = read_json(path)
    w = str(path)
    jobs = _get(doc, "jobs", w, list)
    if not jobs:
        raise InputError(f"{w}: field 'jobs' is empty")
    # One fio file may hold several jobs (prefill, C and C++ sections): the
    # manifest entry's "job" picks the one that is this cell and variant.
    job = _get(entry, "job", where_entry, str, optional=True)
    if job is not None:
        picked = [j for j in jobs if isinstance(j, dict) and j.get("jobname") == job]
        if not picked:
            names = [j.get("jobname") for j in jobs if isinstance(j, dict)]
            raise InputError(f"{w}: no job named {job!r} ({where_entry} asks for it; the file has {names})")
        jobs = picked
    iops = bw = 0.0
    best = None  # (iops, clat) of the direction with most I/O, for latency
    for i, job in enumerate(jobs):
        if _get(job, "error", f"{w}.jobs[{i}]", int, optional=True):
            raise InputError(f"{w}.jobs[{i}]: fio reported error {job['error']}")
        for d in ("read", "write"):
            dd = _get(job, d, f"{w}.jobs[{i}]", dict, optional=True)
            if dd is None:
                continue
            wd = f"{w}.jobs[{i}].{d}"
            io = _num(dd, "iops", wd)
            iops += io
            bw += _num(dd, "bw_bytes", wd, optional=True) or _num(dd, "bw", wd) * 1024.0  # bw is KiB/s
            clat = _get(dd, "clat_ns", wd, dict, optional=True)
            if io > 0 and clat is not None and (best is None or io > best[0]):
                best = (io, clat, wd)
    p50 = p99 = None
    if best is not None:
        pct = _get(best[1], "percentile", best[2] + ".clat_ns", dict, optional=True) or {}
        for key, val in pct.items():
            try:
                q = float(key)
            except ValueError:
                raise InputError(f"{best[2]}.clat_ns.percentile: bad key {key!r}") from None
            if abs(q - 50.0) < 1e-6:
                p50 = float(val)
            elif abs(q - 99.0) < 1e-6:
                p99 = float(val)
    if iops <= 0:
        raise InputError(f"{w}: fio did no I/O (read.iops + write.iops is 0 over all jobs)")
    return FioRun(file=rel, driver=driver, workload=workload, variant=variant, rep=rep,
                  ops_per_s=iops, bytes_per_s=bw, p50_ns=p50, p99_ns=p99)


_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_gbench(run_dir: Path, entry: dict, where_entry: str) -> tuple[list[GbenchSample], dict[str, list[float]]]:
    """Google Benchmark --benchmark_format=json.

    Only run_type "iteration" entries are samples (one per repetition); the
    "aggregate" entries (mean/median/stddev) are recomputed here the same
    way as for every other tool.  A benchmark is placed in a matrix cell by
    the manifest entry: either the entry has driver/workload/variant (every
    benchmark of the file belongs to that cell) or a "benchmarks" object maps
    run_name -> {driver, workload, variant}.  Benchmarks in neither are
    returned as unmapped and listed in the report, not compared.
    """
    rel = _get(entry, "file", where_entry, str)
    path = run_dir / rel
    doc = read_json(path)
    w = str(path)
    mapping = _get(entry, "benchmarks", where_entry, dict, optional=True)
    whole = None
    if mapping is None:
        whole = {"driver": _get(entry, "driver", where_entry, str),
                 "workload": _get(entry, "workload", where_entry, str)}
        whole["variant"] = _variant(_get(entry, "variant", where_entry, str), where_entry,
                                    driver_variants(whole["driver"]))
    samples, unmapped = [], {}
    reps: dict[str, int] = {}
    for i, b in enumerate(_get(doc, "benchmarks", w, list)):
        wb = f"{w}.benchmarks[{i}]"
        if _get(b, "run_type", wb, str, optional=True) == "aggregate":
            continue
        if b.get("error_occurred"):
            raise InputError(f"{wb}: benchmark {b.get('name')!r} failed: {b.get('error_message', '')}")
        name = _get(b, "run_name", wb, str, optional=True) or _get(b, "name", wb, str)
        unit = _get(b, "time_unit", wb, str)
        if unit not in _TIME_UNIT_NS:
            raise InputError(f"{wb}: unknown time_unit {unit!r}")
        real_ns = _num(b, "real_time", wb) * _TIME_UNIT_NS[unit]
        cell = whole
        if cell is None:
            cell = mapping.get(name)
            if cell is None:
                unmapped.setdefault(name, []).append(real_ns)
                continue
            wm = f"{where_entry}.benchmarks[{name!r}]"
            drv = _get(cell, "driver", wm, str)
            cell = {"driver": drv, "workload": _get(cell, "workload", wm, str),
                    "variant": _variant(_get(cell, "variant", wm, str), wm, driver_variants(drv))}
        # items_per_second is what the benchmark declares as its operations;
        # without it an iteration is one operation (documented in README.md).
        ips = _num(b, "items_per_second", wb, optional=True)
        ops = ips if ips is not None else (1e9 / real_ns if real_ns > 0 else 0.0)
        reps[name] = reps.get(name, 0) + 1
        samples.append(GbenchSample(file=rel, name=name, rep=reps[name], ops_per_s=ops,
                                    real_time_ns=real_ns, **cell))
    return samples, unmapped


@dataclass
class ModuleReport:
    """scripts/kmod-report.sh --json: sizes and stack per module, and the dispatch-parity verdict."""
    modules: list[ModuleInfo]
    parity_ok: bool | None                  # None: the file does not say (flat format)
    problems: list[str]
    dispatch: list[dict]                    # per driver and op: indirect/helper calls, C against C++


def load_modules(path: Path) -> ModuleReport:
    """The module report of scripts/kmod-report.sh --json.

    Its format: {"modules": {name: {"sizes": {text, rodata, data, bss},
    "max_stack": {function, bytes, kind}, ...}}, "comparison": {driver:
    {"ops": {op: [{c_indirect, cxx_indirect, ...}, ...]}}}, "parity_ok",
    "problems"}.  A flat {"modules": [{name, text, data, rodata, bss,
    max_stack}]} (analysis/README.md) is read too, for hand-made reports.
    """
    doc = read_json(path)
    w = str(path)
    raw = doc if isinstance(doc, list) else _get(doc, "modules", w, (list, dict))
    items = list(raw.items()) if isinstance(raw, dict) else [(None, m) for m in raw]
    out = []
    for i, (key, m) in enumerate(items):
        wm = f"{w}.modules[{key!r}]" if key is not None else f"{w}.modules[{i}]"
        name = key if key is not None else _get(m, "name", wm, str)
        driver, variant = m.get("driver"), m.get("variant")
        if driver is None or variant is None:
            # The naming convention <base>_<variant> is the lab's (kmod/include/uapi/kmodlab.h).
            base, sep, var = name.rpartition("_")
            if not sep or var not in driver_variants(base):
                raise InputError(f"{wm}: no 'driver'/'variant' fields and name {name!r} is not <base>_<variant> "
                                 "(kmod/include/uapi/kmodlab_dev.h)")
            driver, variant = driver or base, variant or var
        secs = _get(m, "sizes", wm, dict) if "sizes" in m else m
        ws = wm + ".sizes" if "sizes" in m else wm
        sizes = {k: _get(secs, k, ws, int) for k in ("text", "data", "rodata", "bss")}
        # null: kmod-report found no -fstack-usage data (rustc writes no .su
        # files); shown as not measured, and the gate says so, never a pass.
        if "max_stack" not in m:
            raise InputError(f"{wm}: missing field 'max_stack' (null when not measured)")
        st = _get(m, "max_stack", wm, (int, dict), optional=True)
        func = None
        if isinstance(st, dict):
            func = _get(st, "function", wm + ".max_stack", str, optional=True)
            st = _get(st, "bytes", wm + ".max_stack", int)
        out.append(ModuleInfo(name=name, driver=str(driver), variant=_variant(str(variant), wm,
                                                                              driver_variants(str(driver))),
                              max_stack=st, max_stack_function=func, **sizes))
    if not out:
        raise InputError(f"{w}: lists no modules")
    parity = problems = None
    dispatch = []
    if isinstance(doc, dict):
        parity = _get(doc, "parity_ok", w, bool, optional=True)
        problems = [str(p) for p in (_get(doc, "problems", w, list, optional=True) or [])]
        for drv, comp in sorted((_get(doc, "comparison", w, dict, optional=True) or {}).items()):
            for op, tables in sorted((_get(comp, "ops", f"{w}.comparison.{drv}", dict, optional=True) or {}).items()):
                wo = f"{w}.comparison.{drv}.ops.{op}"
                if isinstance(tables, dict):
                    tables = [tables]
                if not isinstance(tables, list) or not tables:
                    raise InputError(f"{wo}: expected a non-empty array of per-table entries")
                # Several tables (counter has one per sync= mode): report the worst C++ entry.
                def worst(k):
                    return max(_get(t, k, wo, int) for t in tables)
                dispatch.append({"driver": drv, "op": op, "tables": len(tables),
                                 "c_indirect": worst("c_indirect"), "cxx_indirect": worst("cxx_indirect"),
                                 "cxx_helper_calls": worst("cxx_helper_calls"),
                                 "c_direct_calls": worst("c_direct_calls"), "cxx_direct_calls": worst("cxx_direct_calls"),
                                 "c_instructions": max(int(t.get("c_instructions") or 0) for t in tables),
                                 "cxx_instructions": max(int(t.get("cxx_instructions") or 0) for t in tables)})
    return ModuleReport(out, parity, problems or [], dispatch)


def load_icount(path: Path) -> Icount:
    """icount.json (schema kmodlab-icount/1, vm/plugin/README.md): only the comparisons and the verdict."""
    doc = read_json(path)
    w = str(path)
    schema = _get(doc, "schema", w, str)
    if schema != "kmodlab-icount/1":
        raise InputError(f"{w}: schema {schema!r} is not kmodlab-icount/1")
    rows = []
    for i, c in enumerate(_get(doc, "comparisons", w, list)):
        wc = f"{w}.comparisons[{i}]"
        d = _get(c, "driver_insn_per_op", wc, dict)
        k = _get(c, "kernel_insn_per_op", wc, dict)
        driver = _get(c, "driver", wc, str)
        ref, rival = pair_variants(c, wc, driver, VARIANTS[0])  # icount_report.py: absent = C/C++
        rows.append(IcountRow(driver=driver, workload=_get(c, "workload", wc, str),
                              driver_c=_num(d, ref, wc + ".driver_insn_per_op"),
                              driver_x=_num(d, rival, wc + ".driver_insn_per_op"),
                              driver_ratio=_num(c, "driver_ratio", wc, optional=True),
                              kernel_c=_num(k, ref, wc + ".kernel_insn_per_op"),
                              kernel_x=_num(k, rival, wc + ".kernel_insn_per_op"),
                              kernel_ratio=_num(c, "kernel_ratio", wc, optional=True), rival=rival))
    return Icount(ok=_get(doc, "ok", w, bool), rows=rows,
                  problems=[str(p) for p in (_get(doc, "problems", w, list, optional=True) or [])])


def _probe(run_dir: Path, raw: list, where: str, by_file: dict[str, LoadgenRun]) -> list[ProbeEffect]:
    out = []
    for i, p in enumerate(raw):
        wp = f"{where}[{i}]"
        driver = _get(p, "driver", wp, str)
        workload = _get(p, "workload", wp, str)
        variant = _variant(_get(p, "variant", wp, str), wp, driver_variants(driver))
        rival = pair_variants(p, wp, driver, variant)[1]
        sides = {}
        for side in ("bpf_off", "bpf_on"):
            runs = []
            for j, rel in enumerate(_get(p, side, wp, list)):
                if not isinstance(rel, str):
                    raise InputError(f"{wp}.{side}[{j}]: must be a file name")
                if rel in by_file:
                    runs.append(by_file[rel])
                else:
                    # Not a pair of the matrix: the pairing fields do not apply ("bpf" needs none).
                    entry = {"file": rel, "driver": driver, "workload": workload, "variant": variant,
                             "rep": j + 1, "pass": "bpf",
                             **({"pair_variants": p["pair_variants"]} if "pair_variants" in p else {})}
                    r = load_loadgen(run_dir, entry, f"{wp}.{side}[{j}]")
                    r.pass_ = side
                    runs.append(r)
            if not runs:
                raise InputError(f"{wp}: field '{side}' lists no runs")
            sides[side] = runs
        out.append(ProbeEffect(driver, workload, variant, off=sides["bpf_off"], on=sides["bpf_on"], rival=rival))
    return out


def _check_pairs(run: Run, where: dict[int, str]) -> None:
    """Every pair is one run of each of its variants (C and C++, or C and its
    "pair_variants" rival) of the same cell, boot and recorded order."""
    pairs: dict[tuple, list[LoadgenRun]] = {}
    for r in run.loadgen:
        if r.pair is not None:
            pairs.setdefault((r.driver, r.workload, r.pass_, r.rival, r.pair), []).append(r)
    for (driver, workload, pass_, rival, pair), rs in sorted(pairs.items()):
        names = ", ".join(where[id(r)] for r in rs)
        want = sorted((VARIANTS[0], rival))
        if sorted(r.variant for r in rs) != want:
            raise InputError(f"{names}: pair {pair} of {driver}/{workload} ({pass_} pass) must be exactly one "
                             f"{devnames.label(want[0])} and one {devnames.label(want[1])} run, got "
                             f"{sorted(r.variant for r in rs)}")
        for key in ("boot", "first"):
            vals = {getattr(r, key) for r in rs}
            if len(vals) != 1:
                raise InputError(f"{names}: the two runs of pair {pair} of {driver}/{workload} disagree on "
                                 f"'{key}': {sorted(map(str, vals))}")


def _design(man: dict, w: str, run: Run) -> dict:
    """The manifest's "design" (required when the run has a timing pass): how the pairs were laid out."""
    if not run.runs_of("timing"):
        raise InputError(f"{w}: no loadgen run has \"pass\": \"timing\": there is nothing to compare C and "
                         "C++ on without BPF attached")
    raw = _get(man, "design", w, dict, optional=True)
    if raw is None:
        raise InputError(f"{w}: missing field 'design' (boots, pairs_per_boot, order, pass_timing, pass_bpf); "
                         f"{REGENERATE}")
    wd = w + ".design"
    out = dict(raw)
    out["boots"] = _get(raw, "boots", wd, int)
    out["pairs_per_boot"] = _get(raw, "pairs_per_boot", wd, int)
    out["order"] = _get(raw, "order", wd, str)
    out["pass_timing"] = _get(raw, "pass_timing", wd, str)
    out["pass_bpf"] = _get(raw, "pass_bpf", wd, bool)
    ew = _get(raw, "extra_work", wd, dict, optional=True)
    if ew is not None:
        out["extra_work"] = {str(k): _get(ew, k, wd + ".extra_work", int) for k in ew}
    return out


def load_run(run_dir: Path | str) -> Run:
    """Read and validate a whole run directory (manifest.json and every file it names)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    mpath = run_dir / MANIFEST
    if not mpath.exists():
        raise InputError(f"{mpath}: file not found (every run directory needs the manifest scripts/bench.sh writes)")
    man = read_json(mpath)
    w = str(mpath)
    env_raw = _get(man, "env", w, dict)
    env = Env(kernel=_get(env_raw, "kernel", w + ".env", str), accel=_get(env_raw, "accel", w + ".env", str),
              cpus=_get(env_raw, "cpus", w + ".env", int),
              qemu_version=_get(env_raw, "qemu_version", w + ".env", str, optional=True),
              compiler=_get(env_raw, "compiler", w + ".env", str, optional=True),
              host=_get(env_raw, "host", w + ".env", str, optional=True))
    run = Run(dir=run_dir, id=_get(man, "id", w, str), started=_get(man, "started", w, str, optional=True),
              finished=_get(man, "finished", w, str, optional=True),
              quick=bool(_get(man, "quick", w, bool, optional=True)), env=env, loadgen=[])
    run.bench_settings = _get(man, "settings", w, dict, optional=True) or {}
    run.origin = {k: man[k] for k in ("commit", "shard", "machine", "machines", "merged_from") if man.get(k)}
    sel = _get(man, "cells_selected", w, list, optional=True)
    run.selected = [str(c) for c in sel] if sel else None
    seen = set()
    where: dict[int, str] = {}
    for i, entry in enumerate(_get(man, "runs", w, list)):
        we = f"{w}.runs[{i}]"
        kind = _get(entry, "kind", we, str)
        if kind == "loadgen":
            r = load_loadgen(run_dir, entry, we)
            key = (r.driver, r.workload, r.pass_, r.rival, r.variant, r.rep)
            if key in seen:
                raise InputError(f"{we}: duplicate repetition {key}")
            seen.add(key)
            where[id(r)] = we
            run.loadgen.append(r)
        elif kind == "fio":
            run.fio.append(load_fio(run_dir, entry, we))
        elif kind == "gbench":
            samples, unmapped = load_gbench(run_dir, entry, we)
            run.gbench += samples
            for k, v in unmapped.items():
                run.gbench_unmapped.setdefault(k, []).extend(v)
        else:
            raise InputError(f"{we}: unknown kind {kind!r} (loadgen, fio or gbench)")
    if not run.loadgen:
        raise InputError(f"{w}: 'runs' has no kmodlab-load results (kind \"loadgen\")")
    _check_pairs(run, where)
    run.design = _design(man, w, run)
    sides = _get(man, "variant_sides", w, dict, optional=True)
    if sides is not None:
        run.variant_sides = {v: str(_get(sides, v, w + ".variant_sides", str)) for v in VARIANTS}
    mod = _get(man, "modules", w, str, optional=True)
    if mod is not None:
        run.module_report = load_modules(run_dir / mod)
        run.modules = run.module_report.modules
    probe = _get(man, "probe_effect", w, list, optional=True)
    if probe:
        run.probe = _probe(run_dir, probe, w + ".probe_effect", {r.file: r for r in run.loadgen})
    ic = _get(man, "icount", w, str, optional=True)
    if ic is not None:
        run.icount = load_icount(run_dir / ic)
    rel = _get(man, "reliability", w, str, optional=True)
    if rel is not None:
        rdoc = read_json(run_dir / rel)
        wr = str(run_dir / rel)
        run.reliability = {"passed": _get(rdoc, "passed", wr, int), "failed": _get(rdoc, "failed", wr, int),
                           "failures": [str(x) for x in (_get(rdoc, "failures", wr, list, optional=True) or [])]}
        # The long-mode figures (scripts/reliability.sh), shown in the report when present.
        for key, typ in (("calls_fuzzed", dict), ("calls_fuzzed_total", int), ("faults_injected", int),
                         ("cycles", int), ("errors_by_errno", dict), ("lost", int), ("wall_seconds", int)):
            val = _get(rdoc, key, wr, typ, optional=True)
            if val is not None:
                run.reliability[key] = val
    return run


def manifest_finished(run_dir: Path) -> str | None:
    """The manifest's 'finished' stamp, without loading the run (used to pick the newest)."""
    man = read_json(run_dir / MANIFEST)
    return _get(man, "finished", str(run_dir / MANIFEST), str, optional=True)


def newest_run(results: Path, exclude: Path | None = None) -> tuple[Path, list[str]]:
    """The finished run under results/ with the latest manifest 'finished' stamp.

    Returns the directory and notes about directories passed over (no
    manifest, or unfinished), which the caller prints: nothing is skipped
    without saying so.  ISO 8601 UTC stamps sort as strings.
    """
    notes = []
    best = None
    if not results.is_dir():
        raise InputError(f"{results}: no results directory")
    for d in sorted(results.iterdir()):
        if not d.is_dir() or (exclude is not None and d.resolve() == exclude.resolve()):
            continue
        if not (d / MANIFEST).exists():
            notes.append(f"{d}: no {MANIFEST}, not a run")
            continue
        fin = manifest_finished(d)
        if fin is None:
            notes.append(f"{d}: manifest has no 'finished' stamp (run unfinished?), passed over")
            continue
        if best is None or fin > best[0]:
            best = (fin, d)
    if best is None:
        raise InputError(f"{results}: no finished run (a directory with manifest.json and 'finished'); run make bench")
    return best[1], notes
