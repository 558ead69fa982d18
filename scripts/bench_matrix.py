#!/usr/bin/python3
"""bench_matrix.py - the guest half of `make bench`: one boot's share of the C-versus-C++ matrix.

scripts/bench.sh boots the guest BENCH_BOOTS times and runs this script once
per boot (--boot K --boots B); every boot loads the modules afresh (new load
addresses, new TCG translations), runs its share of the pairs and appends
its runs to one manifest.json.  Per driver x workload cell and boot:

  1. timing pass: BENCH_PAIRS_PER_BOOT pairs of kmodlab-load runs WITHOUT
     --bpf, with no BPF program loaded and kernel.bpf_stats_enabled = 0
     (checked before the block; the C++/C ratios come only from this pass);
  2. BPF pass: BENCH_BPF_PAIRS_PER_BOOT pairs with --bpf and --check (latency
     distributions, lock contention, BPF counts, data checks, probe effect).

A pair is one C and one C++ run back to back; the order alternates
(ABBA: C,C++ | C++,C | ...), starting side alternating by boot, and every
entry records "pass", "pair", "first" and "boot" (analysis/README.md).
On a kernel where a driver's partial variant is built (the Rust kernel:
counter_rust.ko) each of that driver's cells also runs C/Rust pairs, the
same way (ABBA, timing pass topped up, BPF pass), after its C/C++ pairs;
their entries say "pair_variants": ["c", "rust"] and their BPF pass hooks
both sides at the syscall (pair_sides).  On Debian's kernels nothing of
this appears: same cells, same pairs, same manifest.  With
BENCH_DISCARD_FIRST = 1 each cell's first pair of a boot is run but not
recorded (warm-up of the TCG translations and caches).  Counter cells are
grouped by `sync=` mode (reloading the counter modules with that parameter).
The last boot (--extras) also runs Google Benchmark and fio.

Sharding (make bench SHARD=i/N, analysis/shard.py): --shard i/N runs a
deterministic 1/N of the cells (C and C++ of a cell always together) and
records the shard, the whole matrix, this shard's cells and the machine
(--machine, measured by scripts/bench.sh on the host) in the manifest; the
extras (Google Benchmark, fio) then cover only this shard's cells, so their
comparison with kmodlab-load stays on one machine.  --list prints the cells
a shard would run and exits (no guest needed).

Usage: bench_matrix.py --out DIR --boot K --boots B [--quick] [--extras]
                       [--shard i/N] [--cells DRIVER/WORKLOAD,...] [--pairs N] [--bpf-pairs N]
       bench_matrix.py --list [--quick] [--shard i/N] [--json]
Settings (kmodlab.conf, *_QUICK for --quick): BENCH_PAIRS_PER_BOOT,
BENCH_BPF_PAIRS_PER_BOOT, BENCH_DURATION_S, BENCH_BPF_DURATION_S, BENCH_BPF_TRACE, BENCH_WARMUP_S, BENCH_THREADS,
BENCH_SYNC_MODES, BENCH_DISCARD_FIRST, BENCH_PIN_GUEST_CPU, BENCH_RUN_TIMEOUT_S.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import Settings, read_conf  # noqa: E402  (the one config reader)
from analysis.devnames import dev_path, module_name, variants, variants_of  # noqa: E402  (the node rule)
from analysis.errors import InputError  # noqa: E402
from analysis.compare import has_floor  # noqa: E402  (which workloads have a latency floor)
from analysis.stats import disturbed_pairs, histogram_percentile  # noqa: E402  (the disturbed-run rule)
from analysis.shard import WHOLE, parse_shard, shard_cells  # noqa: E402  (the one partition rule)

LOAD = ROOT / "build/cmake/loadgen/kmodlab-load"
GBENCH = ROOT / "build/cmake/loadgen/kmodlab-gbench"
FIO_JOBS = ROOT / "loadgen/fio/scull-matrix.fio"
VARIANTS = variants()  # ("c", "cxx"): every driver has both; a cell's C/C++ pairs compare them
BPF_STATS_SYSCTL = Path("/proc/sys/kernel/bpf_stats_enabled")
TRACEFS_EVENTS = Path("/sys/kernel/tracing/events")
# The BPF hook of pairs with a partial variant (pair_sides says why).
PARTIAL_BPF_ATTACH = "tp_btf"


def uapi(name):
    """A string macro of kmod/include/uapi/ (one source of truth for names)."""
    out = subprocess.run([str(ROOT / "scripts/uapi-value.sh"), "--raw", name],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def sync_modes_of_uapi():
    """The counter's sync modes, from COUNTER_SYNC_MODES ({ "mutex", ... })."""
    out = subprocess.run([str(ROOT / "scripts/uapi-value.sh"), "--raw", "COUNTER_SYNC_MODES"],
                         check=True, capture_output=True, text=True).stdout
    return tuple(re.findall(r'"([^"]+)"', out))


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cell:
    """One matrix cell: a driver, a workload name and kmodlab-load's arguments."""

    def __init__(self, base, driver, workload, args, threads=1, sync=None, node_suffix="", checkable=True,
                 traced=True):
        self.base, self.driver, self.workload, self.args = base, driver, workload, args
        self.threads, self.sync, self.node_suffix = threads, sync, node_suffix
        # kmodlab-load --check refuses an op it cannot verify (lkp_enc's data
        # check verifies encrypt cycles; a seed read has none): such a cell's
        # BPF pass runs without --check, and its entries say so.
        self.checkable = checkable
        # The driver has tracepoints of its own (--bpf-trace with
        # BENCH_BPF_TRACE; every lab driver has: scullpipe's are its waits).
        self.traced = traced

    @property
    def name(self):
        return f"{self.driver}/{self.workload}"

    @property
    def has_floor(self):
        """Whether the disturbed-run rule may judge this cell's runs by their latency floor."""
        return has_floor(self.args[self.args.index("--op") + 1] if "--op" in self.args else None)

    def device(self, variant):
        return dev_path(self.base, variant, int(self.node_suffix) if self.node_suffix else None)

    def module(self, variant):
        return module_name(self.base, variant)


def build_cells(quick, threads_list, sync_modes):
    """The matrix.  Workload names give the request, and scull moves all of
    it (across quanta: "pread4096" moves 4096 bytes per op); every entry
    records the measured bytes_per_op."""
    scull, counter, lkp = uapi("SCULL_NAME"), uapi("COUNTER_NAME"), uapi("LKP_ENC_NAME")
    cells = []
    sizes = (4096,) if quick else (64, 4096)
    for size in sizes:
        cells.append(Cell(scull, "scull", f"pread{size}", ["--op", "pread", "--size", str(size)], node_suffix="0"))
        cells.append(Cell(scull, "scull", f"pwrite{size}", ["--op", "pwrite", "--size", str(size)], node_suffix="0"))
    if not quick:
        cells.append(Cell(scull, "scull", "pread4096-t2", ["--op", "pread", "--size", "4096"], threads=2,
                          node_suffix="0"))
        cells.append(Cell(scull, "scull", "ioctl-qquantum", ["--op", "ioctl:SCULL_IOCQQUANTUM"], node_suffix="0"))
    for sync in sync_modes:
        for t in threads_list:
            cells.append(Cell(counter, "counter", f"incr-t{t}-{sync}", ["--op", "incr"], threads=t, sync=sync))
    cells.append(Cell(counter, "counter", "ioctl-get", ["--op", "ioctl:COUNTER_IOC_GET"], sync=sync_modes[0]))
    if not quick:
        cells.append(Cell(counter, "counter", "read", ["--op", "read"], sync=sync_modes[0]))
        cells.append(Cell(lkp, "lkp_enc", "ioctl-read-seed", ["--op", "ioctl:LKP_ENC_IOC_READ_SEED"],
                          checkable=False))
    cells.append(Cell(lkp, "lkp_enc", "encrypt", ["--op", "encrypt"]))
    cells += scullpipe_cells()
    return cells


def scullpipe_cells():
    """scullpipe's paired workloads (loadgen/README.md), 1 writer : 1 reader: pipe
    throughput (the reads are the measured op) and the pingpong round trip
    through minors 0 and 1.  Their BPF pass (--bpf-trace --check) adds the
    wakeup latency of the threads asleep in the driver, the driver's own
    sleep -> wake times (read_blocked, write_blocked) and each pair's byte
    stream checked (kmodlab-load --check)."""
    pipe, size = uapi("SCULLPIPE_NAME"), uapi("SCULLPIPE_ATOMIC_WRITE")
    return [Cell(pipe, "scullpipe", f"pipe{size}", ["--op", "pipe", "--size", size], threads=2,
                 node_suffix="0"),
            Cell(pipe, "scullpipe", f"pingpong{size}", ["--op", "pingpong", "--size", size], threads=2,
                 node_suffix="0")]


def select_cells(cells, wanted):
    """--cells DRIVER/WORKLOAD,...: a subset of the matrix (unknown names are an error)."""
    if not wanted:
        return cells
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    known = {c.name: c for c in cells}
    missing = [n for n in names if n not in known]
    if missing:
        sys.exit(f"bench: --cells: unknown cell(s) {', '.join(missing)}; known: {', '.join(known)}")
    return [known[n] for n in names]


class Progress:
    """One line per step on stderr: where the boot is, and the time left."""

    def __init__(self, total, boot, boots):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.tag = f"boot {boot + 1}/{boots}"

    def step(self, what):
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * max(self.total - self.done, 0)
        print(f"bench: {self.tag} [{self.done}/{self.total}] {what}  elapsed {elapsed:.0f} s, ~{left:.0f} s left",
              file=sys.stderr, flush=True)


def run(cmd, log, env=None, timeout=None, retries=0):
    """Run a tool; its output goes to the run's log.  Failure stops the bench.

    timeout (seconds): a run still going after it is a hang, not a slow run;
    its threads' kernel stacks and the kernel's blocked tasks go to the log
    and it is killed, then run again up to `retries` times (the same command
    rewrites the same output); after that the bench stops with the evidence
    instead of sitting until vm/run's timeout kills the whole guest."""
    line = shlex.join(map(str, cmd))
    for attempt in range(retries + 1):
        log.write(f"$ {line}\n")
        log.flush()
        proc = subprocess.Popen(list(map(str, cmd)), stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        try:
            rc = proc.wait(timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            log_hang(proc.pid, log)
            proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                sys.exit(f"bench: '{line}' hung and survives SIGKILL (stuck in the kernel); see {log.name}")
            print(f"bench: '{line}' still running after {timeout:g} s (BENCH_RUN_TIMEOUT_S): killed "
                  f"(attempt {attempt + 1} of {retries + 1}); kernel stacks in {log.name}", file=sys.stderr)
    else:
        sys.exit(f"bench: '{line}' hung {retries + 1} time(s) (BENCH_RUN_TIMEOUT_S = {timeout:g} s); "
                 f"its kernel stacks are in {log.name}")
    if rc != 0:
        sys.exit(f"bench: '{line}' exited {rc}; see {log.name}")


def log_hang(pid, log):
    """Where a hung process sits: name, wchan and kernel stack of each of its
    threads, then the kernel's blocked tasks (sysrq w) from its log."""
    log.write(f"\n=== bench: pid {pid} hung; its threads:\n")
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        for name in ("comm", "wchan", "stack"):
            try:
                text = (task / name).read_text().strip()
            except OSError as err:
                text = f"({err.strerror})"
            log.write(f"--- {task.name} {name}: {text}\n")
    try:
        Path("/proc/sysrq-trigger").write_text("w")
        time.sleep(1)
        dmesg = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        log.write("=== kernel log, last 150 lines after sysrq w:\n" + "\n".join(dmesg.splitlines()[-150:]) + "\n")
    except OSError as err:
        log.write(f"=== no sysrq: {err}\n")
    log.flush()


def reload_modules(mods, params, log):
    """Unload and load modules, MODPARAMS_<module> overridden by params (a fresh load)."""
    run([ROOT / "scripts/modules.sh", "unload", *mods], log)
    env = {f"MODPARAMS_{m}": params[m] for m in mods if m in params}
    log.write(f"# load {' '.join(mods)} {env}\n")
    run([ROOT / "scripts/modules.sh", "load", *mods], log, env=env)


def module_param(module, name):
    path = Path("/sys/module") / module / "parameters" / name
    return path.read_text().strip() if path.exists() else None


def ensure_sync(mods, sync, log):
    """The counter modules at sync=<mode>: reload unless already loaded so
    (a reload costs 10-40 s of guest time under TCG on a busy host)."""
    if all(module_param(m, "sync") == sync for m in mods):
        log.write(f"# {' '.join(mods)} already at sync={sync}\n")
        return
    reload_modules(mods, {m: f"sync={sync}" for m in mods}, log)


def loaded_bpf_programs():
    """Programs loaded in the guest kernel (bpftool): the timing pass wants none."""
    res = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"bench: 'bpftool -j prog show' failed ({res.stderr.strip()}); the timing pass "
                 "cannot verify that no BPF program is attached")
    return json.loads(res.stdout or "[]")


def assert_uninstrumented():
    """Timing pass precondition: bpf_stats off and no BPF program loaded.

    kmodlab-load --bpf frees its programs at exit, asynchronously (RCU), so
    wait up to 5 s for them to go before calling it a failure."""
    deadline = time.monotonic() + 5
    while True:
        stats = BPF_STATS_SYSCTL.read_text().strip() if BPF_STATS_SYSCTL.exists() else "0"
        progs = loaded_bpf_programs()
        if stats == "0" and not progs:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{p.get('type')}:{p.get('name', '?')}" for p in progs)
            sys.exit(f"bench: timing pass needs an uninstrumented kernel, but kernel.bpf_stats_enabled={stats} "
                     f"and {len(progs)} BPF program(s) are loaded ({names}); stop whatever attached them")
        time.sleep(0.2)


class Side:
    """What one side of a pair runs: a device node, its module, and (calibration
    only) the extra_work value written to /sys/module/<module>/parameters first;
    (trace-cost timing only) kmod_dir, the module build to load the module
    from (reloaded when the module last loaded came from another build).
    The BPF pass's hook, the same on both sides of a pair so that their
    kernel-side figures measure the same thing: bpf_attach (kmodlab-load
    --bpf-attach; None: its default, fentry on the driver's functions) and
    traced (False: plain --bpf, no --bpf-trace, even in a traced cell)."""

    def __init__(self, device, module, extra_work=None, kmod_dir=None, bpf_attach=None, traced=True):
        self.device, self.module, self.extra_work = device, module, extra_work
        self.kmod_dir = kmod_dir
        self.bpf_attach, self.traced = bpf_attach, traced


def load_from(module, kmod_dir, log):
    """The module as built in kmod_dir (scripts/modules.sh, KMODLAB_KMOD_DIR):
    unloaded first, loaded with its kmodlab.conf parameters."""
    run([ROOT / "scripts/modules.sh", "unload", module], log)
    log.write(f"# load {module} from {kmod_dir}\n")
    run([ROOT / "scripts/modules.sh", "load", module], log, env={"KMODLAB_KMOD_DIR": str(kmod_dir)})


def set_extra_work(module, n):
    """The planted cost, runtime-writable (kmod/include/uapi/kmodlab.h KMODLAB_EXTRA_WORK_PARAM)."""
    path = Path("/sys/module") / module / "parameters" / uapi("KMODLAB_EXTRA_WORK_PARAM")
    if not path.exists():
        sys.exit(f"bench: {path} missing: the module has no extra_work parameter (rebuild with 'make build')")
    path.write_text(f"{n}\n")
    if int(path.read_text()) != n:
        sys.exit(f"bench: writing {n} to {path} did not stick")


def pair_order(index, boot, sides=VARIANTS):
    """ABBA: pairs alternate which side runs first; boots alternate the start.
    sides: the pair's two variants, C first (C/C++, or C/Rust)."""
    first = sides[(index + boot) % 2]
    return first, [first, sides[1 - sides.index(first)]]


def pair_variants_field(sides):
    """The manifest's record of what a pair compared: nothing for C/C++ (the
    format's default, so Debian kernels' manifests are unchanged), else
    "pair_variants": ["c", "rust"] (analysis/README.md)."""
    return {} if tuple(sides) == VARIANTS else {"pair_variants": list(sides)}


class Runner:
    """Runs pairs of kmodlab-load and records them as manifest entries."""

    def __init__(self, out, log, settings, boot):
        self.out, self.log, self.s, self.boot = out, log, settings, boot
        self.entries = []
        self.loaded_from = {}  # module -> the kmod_dir it was last loaded from

    def load_from(self, module, kmod_dir):
        """The module (re)loaded from kmod_dir, and remembered as loaded from there."""
        load_from(module, kmod_dir, self.log)
        self.loaded_from[module] = kmod_dir

    def command(self, cell, side, pass_, json_path):
        s = self.s
        duration = s["bpf_duration_s"] if pass_ == "bpf" else s["duration_s"]
        cmd = [LOAD, "--device", side.device, *cell.args, "--threads", cell.threads,
               "--duration", f"{duration}s", "--warmup", f"{s['warmup_s']}s", "--quiet",
               "--json", json_path]
        if pass_ == "bpf":
            cmd += ["--bpf-trace" if s["bpf_trace"] and cell.traced and side.traced else "--bpf",
                    *(["--check"] if cell.checkable else []),
                    *(["--bpf-attach", side.bpf_attach] if side.bpf_attach else [])]
        pin = s.get("pin_guest_cpu")
        if pin not in (None, "", "none") and cell.threads == 1:
            cmd = ["taskset", "-c", pin, *cmd]
        return cmd

    def one(self, cell, side, variant, pass_, tag, meta, record):
        name = f"{cell.driver}-{cell.workload}-{tag}-{variant}"
        rel = f"raw/{name}.json" if record else f"raw/discarded/{name}.json"
        (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
        if side.extra_work is not None:
            set_extra_work(side.module, side.extra_work)
        if side.kmod_dir is not None and self.loaded_from.get(side.module) != side.kmod_dir:
            self.load_from(side.module, side.kmod_dir)
        run(self.command(cell, side, pass_, self.out / rel), self.log, timeout=self.s["run_timeout_s"], retries=1)
        if not record:
            return None
        doc = json.loads((self.out / rel).read_text())
        ops = doc.get("ops") or 0
        entry = {"file": rel, "kind": "loadgen", "driver": cell.driver, "workload": cell.workload,
                 "variant": variant, "pass": pass_, "boot": self.boot, **meta, "kernel": platform.release(),
                 "check": pass_ == "bpf" and cell.checkable,
                 "bytes_per_op": round(doc.get("bytes", 0) / ops, 1) if ops else None,
                 "params": {"threads": cell.threads, **({"sync": cell.sync} if cell.sync else {})}}
        if side.extra_work is not None:
            entry["extra_work"] = side.extra_work
        if side.kmod_dir is not None:
            entry["kmod_dir"] = str(side.kmod_dir)
        self.entries.append(entry)
        return entry

    def run_floor(self, entry, floor_percentile):
        """(ops/s, latency floor) of a recorded run: what the disturbed-run rule
        reads; floor None when floor_percentile is (a waiting op: no floor)."""
        doc = json.loads((self.out / entry["file"]).read_text())
        if floor_percentile is None:
            return doc["ops_per_s"], None
        return doc["ops_per_s"], histogram_percentile(doc["histogram"], floor_percentile)

    def timing_pairs(self, cell, sides, want, most, stats, first_index=0, label="", step=None):
        """This boot's timing pairs of one cell: `want` of them, then more while
        fewer than `want` survive the disturbed-run rule (analysis/stats.py, the
        analysis's own rule on this boot's pairs so far), up to `most`: a host in
        its slow phases half of the time (kmodlab-hostspeed) otherwise leaves a
        cell with fewer pairs than STATS_MIN_PAIRS.  Whether to go on depends on
        each run's floor against its own side's runs, never on the C++/C ratio.
        Pair ids are boot * most + i (unique over boots).  Returns the entries."""
        start, seen, most = len(self.entries), [], max(most, want)
        pct = stats.floor_percentile if cell.has_floor else None
        for i in range(most):
            before = len(self.entries)
            self.pair(cell, sides, "timing", first_index + i, self.boot * most + i, label=label)
            seen.append({e["variant"]: self.run_floor(e, pct) for e in self.entries[before:]})
            if step:
                step(f"{cell.name}{label} timing pair {i + 1}/{want}" + (" (top-up)" if i >= want else ""))
            if i + 1 >= want and clean_pairs(seen, stats) >= want:
                break
        return self.entries[start:]

    def pair(self, cell, sides, pass_, index, pair_id, record=True, label=""):
        """One pair: both sides back to back in ABBA order.  pair_id is unique
        within (cell, pass) over all boots; rep = pair_id + 1."""
        first, order = pair_order(index, self.boot, tuple(sides))
        tag = f"{pass_}{label}-b{self.boot}-p{pair_id}" if record else f"{pass_}{label}-b{self.boot}-warm{index}"
        # a warm-up pair (record False) has no pair id and no entries
        meta = {"pair": pair_id, "rep": pair_id + 1, "first": first, **pair_variants_field(sides)} if record else {}
        for variant in order:
            self.one(cell, sides[variant], variant, pass_, tag, meta, record)


def clean_pairs(seen, stats):
    """How many of these pairs ([{variant: (ops/s, floor)}]: C and its rival,
    C++ or Rust) the disturbed-run rule keeps."""
    col = lambda v, k: [x[v][k] for x in seen]  # noqa: E731
    ref = VARIANTS[0]
    other = next(v for v in seen[0] if v != ref)
    floors = seen[0][ref][1] is not None
    gone = disturbed_pairs(col(ref, 0), col(other, 0), True, stats.disturbed_factor,
                           col(ref, 1) if floors else None, col(other, 1) if floors else None,
                           None, stats.disturbed_floor_factor, stats.floor_reference)
    return len(seen) - len(gone)


def group_by_sync(cells):
    """Counter cells that share a sync mode run together: one reload per mode."""
    return sorted(cells, key=lambda c: (c.sync is not None, c.sync or ""))


def built_modules():
    """Names of the modules built for the running kernel (scripts/modules.sh
    list: the one owner of where a kernel's modules are)."""
    out = subprocess.run([str(ROOT / "scripts/modules.sh"), "list"], check=True, capture_output=True,
                         text=True).stdout
    return {Path(ko).name.split(".", 1)[0] for ko in out.split()}


def rivals(cell, built):
    """The variants a cell's C runs are paired with: C++ always (every driver
    has it), then each partial variant of the driver (KMODLAB_PARTIAL_VARIANTS:
    counter's "rust") whose module is built for this kernel (the Rust kernel
    only): on Debian's kernels the cells and their pairs stay as they were."""
    return [VARIANTS[1]] + [v for v in variants_of(cell.base) if v not in VARIANTS and cell.module(v) in built]


def has_tracepoints(module):
    """Whether the loaded module defines tracepoints of its own (its events/ folder in tracefs)."""
    return (TRACEFS_EVENTS / module).is_dir()


def pair_sides(cell, rival, log):
    """The two sides of a cell's pairs of C against `rival`, C first.

    C/C++ pairs: kmodlab-load's defaults.  A pair with a partial variant
    (Rust) runs its BPF pass in tp_btf mode on BOTH sides: the default hook,
    fentry on the driver's file operations, finds them by name and needs
    their BTF, and Rust's have neither (v0-mangled symbols; Kbuild's pahole
    --lang_exclude=rust leaves Rust out of the module's BTF, vm/rust-kernel/
    README.md), so C would be hooked at its file operations and Rust at its
    whole syscall.  tp_btf (raw_syscalls with BTF) hooks both the same way:
    whole-syscall latency, and lock contention inside it.  --bpf-trace only
    when both modules define tracepoints (counter_rust has none: its pairs'
    BPF pass is plain --bpf on both sides, said in the log)."""
    if rival == VARIANTS[1]:
        return {v: Side(cell.device(v), cell.module(v)) for v in VARIANTS}
    pair = (VARIANTS[0], rival)
    untraced = [cell.module(v) for v in pair if not has_tracepoints(cell.module(v))]
    if untraced and cell.traced:
        log.write(f"# {cell.name} {'/'.join(pair)} pairs: no tracepoints in {', '.join(untraced)}: "
                  "their BPF pass runs --bpf without --bpf-trace on both sides\n")
    return {v: Side(cell.device(v), cell.module(v), bpf_attach=PARTIAL_BPF_ATTACH, traced=not untraced)
            for v in pair}


def pair_label(sides):
    """File-name tag of a pair's runs: none for C/C++, "-rust" for C/Rust (its C runs are other files)."""
    return "" if tuple(sides) == VARIANTS else f"-{'-'.join(v for v in sides if v != VARIANTS[0])}"


def cell_block(cell, sides, runner, s, pass_, n, progress):
    """One pass of one cell against one rival: the warm-up pairs, then n pairs
    (the timing pass topped up by Runner.timing_pairs)."""
    label = pair_label(sides)
    what = f"{cell.name}{label} {pass_}"  # "counter/incr-t1-mutex-rust bpf": the C/Rust pairs
    for w in range(s["discard_first"]):
        runner.pair(cell, sides, pass_, w, None, record=False, label=label)
        progress.step(f"{what} warm-up pair (not recorded)")
    if pass_ == "timing":
        runner.timing_pairs(cell, sides, n, s["max_pairs_per_boot"], s["stats"], s["discard_first"],
                            label=label, step=progress.step)
        return
    for i in range(n):
        runner.pair(cell, sides, pass_, i + s["discard_first"], runner.boot * n + i, label=label)
        progress.step(f"{what} pair {i + 1}/{n}")


def run_matrix(cells, runner, s, progress, built):
    """This boot's pairs: per cell a timing block then a BPF block, each with
    the C/C++ pairs first and then the pairs of C against every other
    variant built for this kernel (rivals: counter's Rust on the Rust kernel)."""
    current_sync = None
    counter = uapi("COUNTER_NAME")
    counter_mods = [module_name(counter, v) for v in variants_of(counter) if module_name(counter, v) in built]
    for cell in group_by_sync(cells):
        if cell.sync and cell.sync != current_sync:
            ensure_sync(counter_mods, cell.sync, runner.log)
            current_sync = cell.sync
        comparisons = [pair_sides(cell, r, runner.log) for r in rivals(cell, built)]
        for pass_, n in (("timing", s["pairs_per_boot"]), ("bpf", s["bpf_pairs_per_boot"])):
            if n == 0:
                continue
            for sides in comparisons:
                if pass_ == "timing":
                    assert_uninstrumented()
                cell_block(cell, sides, runner, s, pass_, n, progress)
    return current_sync, counter_mods


def gbench_map(sync0):
    """Google Benchmark run name -> (driver, workload, variant) of the bench matrix."""
    gb_map = {}
    for v in VARIANTS:
        gb_map[f"scull/pread:4096/{v}"] = ("scull", "pread4096", v)
        gb_map[f"scull/pwrite:4096/{v}"] = ("scull", "pwrite4096", v)
        gb_map[f"scull/pread:64/{v}"] = ("scull", "pread64", v)
        gb_map[f"scull/pwrite:64/{v}"] = ("scull", "pwrite64", v)
        gb_map[f"counter/incr/{v}"] = ("counter", f"incr-t1-{sync0}", v)
        gb_map[f"counter/ioctl:COUNTER_IOC_GET/{v}"] = ("counter", "ioctl-get", v)
        gb_map[f"counter/read/{v}"] = ("counter", "read", v)
        gb_map[f"scull/ioctl:SCULL_IOCQQUANTUM/{v}"] = ("scull", "ioctl-qquantum", v)
        gb_map[f"lkp_enc/encrypt/{v}"] = ("lkp_enc", "encrypt", v)
        gb_map[f"lkp_enc/ioctl:LKP_ENC_IOC_READ_SEED/{v}"] = ("lkp_enc", "ioctl-read-seed", v)
    return gb_map


def run_gbench(out, log, quick, reps, sync0, only=None):
    """Google Benchmark over the same cells (the counter modules at sync0).

    only: the shard's cell names (None: unsharded, the whole filter); a
    shard benchmarks only its own cells, so that tool rows never compare
    numbers from two machines."""
    gb_filter = "scull/p(read|write):4096|counter/incr|COUNTER_IOC_GET|lkp_enc/encrypt" if quick \
        else "^(scull|counter|lkp_enc)/"
    gb_map = gbench_map(sync0)
    if only is not None:
        gb_map = {k: dwv for k, dwv in gb_map.items() if f"{dwv[0]}/{dwv[1]}" in only}
        if not gb_map:
            log.write("# Google Benchmark: no cell of this shard has a benchmark\n")
            return []
        gb_filter = "^(" + "|".join(re.escape(k) for k in sorted(gb_map)) + ")"
    run([GBENCH, f"--benchmark_filter={gb_filter}", f"--benchmark_repetitions={max(3, reps)}",
         f"--benchmark_min_time={0.05 if quick else 0.2}", "--benchmark_enable_random_interleaving=true",
         "--benchmark_out_format=json", f"--benchmark_out={out / 'gbench.json'}"], log)
    return [{"file": "gbench.json", "kind": "gbench", "benchmarks": {
        k: {"driver": d, "workload": w, "variant": v} for k, (d, w, v) in gb_map.items()}}]


def run_fio(out, log, quick, only=None):
    """fio: the whole job file, or (quick, or a shard) the prefills and the
    4 KiB 1-job jobs (a shard: of its own cells only).  One fio JSON per
    compared job, as analysis/ sums a file's jobs."""
    fio_cells = {"read": "pread4096", "write": "pwrite4096"}
    if only is not None:
        fio_cells = {rw: w for rw, w in fio_cells.items() if f"scull/{w}" in only}
        if not fio_cells:
            log.write("# fio: no cell of this shard has a fio job\n")
            return []
    (out / "fio").mkdir(exist_ok=True)
    fio_all = out / "fio" / "scull-all.json"
    sections = []
    if quick or only is not None:
        sections = [f"--section={s}" for v in VARIANTS
                    for s in (f"prefill-{v}", *(f"scull-{rw}-4k-j1-{v}" for rw in fio_cells))]
    run(["fio", "--eta=never", "--output-format=json", f"--output={fio_all}", *sections, FIO_JOBS], log)
    fio_doc = json.loads(fio_all.read_text())
    entries = []
    for job in fio_doc["jobs"]:
        for rw, workload in fio_cells.items():
            for v in VARIANTS:
                if job["jobname"] != f"scull-{rw}-4k-j1-{v}":
                    continue
                rel = f"fio/{job['jobname']}.json"
                (out / rel).write_text(json.dumps({**fio_doc, "jobs": [job]}, indent=1))
                entries.append({"file": rel, "kind": "fio", "driver": "scull",
                                "workload": workload, "variant": v, "rep": 1})
    return entries


def run_timeout_s(conf):
    """BENCH_RUN_TIMEOUT_S (the bench's and the calibration's runners)."""
    t = conf.typed("BENCH_RUN_TIMEOUT_S", float)
    if t < 30:
        sys.exit(f"bench: BENCH_RUN_TIMEOUT_S must be at least 30 (a BPF run's start alone takes seconds "
                 f"under TCG), not {t:g}")
    return t


def settings_from_conf(quick, args=None):
    """The BENCH_* settings (kmodlab.conf, the environment wins); a bad value
    stops the bench naming key, value and origin."""
    conf = read_conf()
    q = "_QUICK" if quick else ""
    try:
        s = {
            "pairs_per_boot": conf.typed(f"BENCH_PAIRS_PER_BOOT{q}", int),
            "max_pairs_per_boot": conf.typed(f"BENCH_MAX_PAIRS_PER_BOOT{q}", int),
            "bpf_pairs_per_boot": conf.typed(f"BENCH_BPF_PAIRS_PER_BOOT{q}", int),
            "duration_s": conf.typed(f"BENCH_DURATION_S{q}", float),
            "bpf_duration_s": conf.typed("BENCH_BPF_DURATION_S", float),
            "bpf_trace": conf.typed("BENCH_BPF_TRACE", int) == 1,
            "warmup_s": conf.typed(f"BENCH_WARMUP_S{q}", float),
            "threads": [int(t) for t in conf.words(f"BENCH_THREADS{q}", allowed=[str(n) for n in range(1, 65)])],
            "sync_modes": conf.words(f"BENCH_SYNC_MODES{q}", allowed=sync_modes_of_uapi()),
            "discard_first": conf.typed("BENCH_DISCARD_FIRST", int),
            "pin_guest_cpu": conf.get("BENCH_PIN_GUEST_CPU"),
            "boots": conf.typed(f"BENCH_BOOTS{q}", int),
            "run_timeout_s": run_timeout_s(conf),
        }
        stats = Settings.from_conf(conf)
    except InputError as e:
        sys.exit(f"bench: {e}")
    if s["pairs_per_boot"] < 1 or s["bpf_pairs_per_boot"] < 0 or s["boots"] < 1:
        sys.exit(f"bench: BENCH_PAIRS_PER_BOOT{q} and BENCH_BOOTS{q} must be at least 1, "
                 f"BENCH_BPF_PAIRS_PER_BOOT{q} at least 0")
    # Experiments (scripts/bench_levers.sh) override single settings.
    for key in ("pairs_per_boot", "bpf_pairs_per_boot", "duration_s", "warmup_s", "discard_first",
                "pin_guest_cpu"):
        val = getattr(args, key, None)
        if val is not None:
            s[key] = val
    s["max_pairs_per_boot"] = max(s["max_pairs_per_boot"], s["pairs_per_boot"])
    s["stats"] = stats  # the disturbed-run rule's settings, for the top-up
    return s


def env_record():
    host_env = json.loads((ROOT / "build/env.json").read_text())
    return {"kernel": platform.release(), "accel": os.environ.get("KMODLAB_ACCEL", "unknown"),
            "cpus": os.cpu_count(), "qemu_version": host_env.get("qemu_version", ""),
            "compiler": host_env.get("compiler", ""), "host": os.environ.get("KMODLAB_HOST", "")}


def machine_record(raw):
    """Who runs this shard: scripts/bench.sh measures it on the host (the guest's
    hostname is the initramfs's) and passes it as --machine JSON."""
    if not raw:
        sys.exit("bench: no --machine (scripts/bench.sh passes it: python3 -m analysis.shard machine); "
                 "run the bench through make bench")
    try:
        m = json.loads(raw)
    except json.JSONDecodeError as e:
        sys.exit(f"bench: --machine is not JSON ({e}): {raw!r}")
    if not isinstance(m, dict) or not m.get("id"):
        sys.exit(f"bench: --machine needs an object with an 'id': {raw!r}")
    return m


def new_manifest(out, opt, s, matrix, mine, built):
    design = {"boots": opt.boots, "pairs_per_boot": s["pairs_per_boot"],
              "max_pairs_per_boot": s["max_pairs_per_boot"],
              "bpf_pairs_per_boot": s["bpf_pairs_per_boot"], "order": "ABBA",
              "pass_timing": "no BPF attached, bpf_stats off",
              "pass_bpf": s["bpf_pairs_per_boot"] > 0, "check": "bpf pass (--check)",
              "duration_s": {"timing": s["duration_s"], "bpf": s["bpf_duration_s"]},
              "bpf_trace": s["bpf_trace"],
              "discard_first": s["discard_first"], "pin_guest_cpu": s["pin_guest_cpu"] or "none",
              "pin_host_vcpus": os.environ.get("KMODLAB_PIN", "") or "none",
              "module_loads": "fresh in every boot; counter modules reloaded per sync mode"}
    # Pairs beyond C/C++ (the Rust kernel's counter_rust): which, and how their
    # BPF pass differs; absent on Debian's kernels, whose manifests stay as they were.
    extra = sorted({f"{c.driver}: c/{r}" for c in mine for r in rivals(c, built) if r != VARIANTS[1]})
    if extra:
        design["other_pairs"] = {"pairs": extra, "bpf_attach": PARTIAL_BPF_ATTACH,
                                 "why": "the partial variant's functions have no BTF (fentry) and mangled "
                                        "names (kprobe): both sides hooked at the syscall"}
    return {"id": opt.run_id or out.name, "started": now_iso(), "quick": opt.quick, "env": env_record(),
            "kernel": platform.release(), "kernel_name": opt.kernel_name or "",
            "commit": opt.commit or "unknown",
            "shard": opt.shard.as_json(), "machine": machine_record(opt.machine),
            "matrix": [c.name for c in matrix], "cells": [c.name for c in mine],
            **({"cells_selected": [c.name for c in matrix]} if opt.cells else {}),
            "settings": {"duration_s": s["duration_s"], "warmup_s": s["warmup_s"],
                         "threads": s["threads"], "sync_modes": s["sync_modes"],
                         "reps": opt.boots * s["pairs_per_boot"]},
            "design": design, "runs": [], "probe_effect": []}


def probe_effect(runs):
    """Per cell, variant and comparison: the timing-pass runs (BPF off) against
    the BPF-pass runs (on).  C's runs of C/C++ and of C/Rust pairs are apart:
    their BPF passes hook the calls differently (pair_sides)."""
    groups = {}
    for r in runs:
        if r.get("kind") != "loadgen":
            continue
        pv = r.get("pair_variants")
        g = groups.setdefault((r["driver"], r["workload"], r["variant"], str(pv)),
                              {"driver": r["driver"], "workload": r["workload"], "variant": r["variant"],
                               **({"pair_variants": pv} if pv else {}), "bpf_off": [], "bpf_on": []})
        g["bpf_on" if r["pass"] == "bpf" else "bpf_off"].append(r["file"])
    return [g for g in groups.values() if g["bpf_on"] and g["bpf_off"]]


def save_manifest(out, manifest):
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    tmp.replace(out / "manifest.json")


def parse_shard_arg(text):
    try:
        return parse_shard(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e))


def list_cells(opt, matrix, mine):
    """--list: the shard's cells, one a line (or JSON), for checks without a guest."""
    if opt.json:
        print(json.dumps({"shard": opt.shard.as_json(), "quick": opt.quick, "matrix": [c.name for c in matrix],
                          "cells": [c.name for c in mine]}, indent=1))
    else:
        for c in mine:
            print(c.name)
        print(f"bench: shard {opt.shard}: {len(mine)} of {len(matrix)} cells", file=sys.stderr)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="run directory (results/<date>-<id>); required unless --list")
    ap.add_argument("--boot", type=int, default=0, help="this boot's index (0..B-1)")
    ap.add_argument("--boots", type=int, default=1, help="boots of the whole run (B)")
    ap.add_argument("--quick", action="store_true", help="the small matrix (make bench QUICK=1)")
    ap.add_argument("--extras", action="store_true", help="also run Google Benchmark and fio (the last boot)")
    ap.add_argument("--cells", help="only these cells, DRIVER/WORKLOAD,... (experiments)")
    ap.add_argument("--shard", type=parse_shard_arg, default=WHOLE,
                    help="i/N: run shard i of N (a deterministic 1/N of the cells, C and C++ together)")
    ap.add_argument("--machine", help="JSON record of the host running the guest (scripts/bench.sh)")
    ap.add_argument("--commit", help="git commit of the checkout (scripts/bench.sh; merge compares it)")
    ap.add_argument("--kernel-name", dest="kernel_name", help="the kernel's name in kmodlab.conf KERNELS")
    ap.add_argument("--run-id", dest="run_id", help="the run's id (scripts/bench.sh: <set id>/<kernel>)")
    ap.add_argument("--list", action="store_true", help="print the cells this shard would run and exit (no guest)")
    ap.add_argument("--json", action="store_true", help="with --list: JSON instead of one cell a line")
    ap.add_argument("--pairs", dest="pairs_per_boot", type=int, help="timing pairs per cell (overrides the conf)")
    ap.add_argument("--bpf-pairs", dest="bpf_pairs_per_boot", type=int, help="BPF-pass pairs per cell")
    ap.add_argument("--duration", dest="duration_s", type=float, help="seconds per run")
    ap.add_argument("--warmup", dest="warmup_s", type=float, help="warm-up seconds per run")
    ap.add_argument("--discard-first", dest="discard_first", type=int, help="unrecorded warm-up pairs per cell")
    ap.add_argument("--pin-guest-cpu", dest="pin_guest_cpu", help="taskset -c CPU for 1-thread runs ('' none)")
    ap.add_argument("--check-config", action="store_true",
                    help="check the BENCH_* settings and exit (bench.sh does it on the host before booting)")
    opt = ap.parse_args()
    if opt.out is None and not (opt.list or opt.check_config):
        ap.error("--out is required (unless --list or --check-config)")
    if not 0 <= opt.boot < opt.boots:
        ap.error(f"--boot {opt.boot} is outside 0..{opt.boots - 1}")
    return opt


def main():
    opt = parse_args()
    s = settings_from_conf(opt.quick, opt)
    if opt.check_config:
        print(f"bench: settings ok: {s['boots']} boots x {s['pairs_per_boot']} pairs (+{s['bpf_pairs_per_boot']} "
              f"BPF), {s['duration_s']} s runs, threads {s['threads']}, sync {s['sync_modes']}", file=sys.stderr)
        return
    matrix = select_cells(build_cells(opt.quick, s["threads"], s["sync_modes"]), opt.cells)
    try:
        names = shard_cells([c.name for c in matrix], opt.shard)
    except InputError as e:
        sys.exit(f"bench: {e}")
    cells = [c for c in matrix if c.name in names]
    if opt.list:
        list_cells(opt, matrix, cells)
        return
    out = opt.out
    (out / "raw").mkdir(parents=True, exist_ok=True)
    log = open(out / "bench.log", "a")
    for tool in (LOAD, GBENCH):
        if not tool.exists():
            sys.exit(f"bench: {tool} missing: run 'make build' first")
    built = built_modules()  # counter_rust.ko on the Rust kernel: its cells get C/Rust pairs too
    if opt.boot == 0:
        manifest = new_manifest(out, opt, s, matrix, cells, built)
    else:
        manifest = json.loads((out / "manifest.json").read_text())
    log.write(f"# boot {opt.boot}/{opt.boots} {now_iso()} kernel {platform.release()}\n")
    run([ROOT / "scripts/modules.sh", "load"], log)

    per_cell = (s["pairs_per_boot"] + s["bpf_pairs_per_boot"]) + s["discard_first"] * 2
    blocks = sum(len(rivals(c, built)) for c in cells)  # a cell's C/C++ pairs, and C/Rust where built
    progress = Progress(blocks * per_cell + (2 if opt.extras else 0), opt.boot, opt.boots)
    runner = Runner(out, log, s, opt.boot)
    current_sync, counter_mods = run_matrix(cells, runner, s, progress, built)
    manifest["runs"].extend(runner.entries)
    manifest.setdefault("boots_done", []).append({"boot": opt.boot, "finished": now_iso(),
                                                  "kernel": platform.release(),
                                                  "host_loadavg_at_boot": os.environ.get("KMODLAB_HOST_LOAD", "")})

    if opt.extras:
        sync0 = s["sync_modes"][0]
        if current_sync not in (None, sync0):
            ensure_sync(counter_mods, sync0, log)
        only = set(names) if opt.shard.count > 1 or opt.cells else None
        manifest["runs"].extend(run_gbench(out, log, opt.quick, opt.boots * s["pairs_per_boot"], sync0, only))
        progress.step("Google Benchmark")
        manifest["runs"].extend(run_fio(out, log, opt.quick, only))
        progress.step("fio")
    manifest["probe_effect"] = probe_effect(manifest["runs"])
    run([ROOT / "scripts/modules.sh", "unload"], log)
    save_manifest(out, manifest)
    print(f"bench: boot {opt.boot + 1}/{opt.boots} done: {len(runner.entries)} runs, "
          f"{len(manifest['runs'])} result files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
