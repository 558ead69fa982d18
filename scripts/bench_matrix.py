#!/usr/bin/python3
"""bench_matrix.py - the guest half of `make bench`: run the C-versus-C++ matrix.

Runs inside the guest (scripts/bench.sh boots it once), with every module
built.  For each driver x workload cell it runs kmodlab-load with BPF for the
C and the C++ variant, interleaved (C, C++, C, C++, ...) for N repetitions,
so that drift hits both alike; counter cells are grouped by `sync=` mode
(the counter modules are reloaded with that parameter).  Then Google
Benchmark and the fio jobs run, and manifest.json describes everything for
analysis/ (format: analysis/README.md).

Usage: bench_matrix.py --out DIR [--quick]
Settings (kmodlab.conf): BENCH_REPS, BENCH_DURATION_S, BENCH_WARMUP_S,
BENCH_THREADS (and the *_QUICK variants for --quick).
"""
import argparse
import datetime
import json
import os
import re
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import read_conf  # noqa: E402  (the one config reader)
from analysis.errors import InputError  # noqa: E402

LOAD = ROOT / "build/cmake/loadgen/kmodlab-load"
GBENCH = ROOT / "build/cmake/loadgen/kmodlab-gbench"
FIO_JOBS = ROOT / "loadgen/fio/scull-matrix.fio"
VARIANTS = ("c", "cxx")


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

    def __init__(self, driver, workload, args, threads=1, sync=None, node_suffix="", probe=False):
        self.driver, self.workload, self.args = driver, workload, args
        self.threads, self.sync, self.node_suffix, self.probe = threads, sync, node_suffix, probe

    def device(self, variant):
        return f"/dev/{self.base}{SEP}{variant}{self.node_suffix}"


def build_cells(quick, threads_list, sync_modes):
    scull, counter, lkp = uapi("SCULL_NAME"), uapi("COUNTER_NAME"), uapi("LKP_ENC_NAME")
    cells = []

    def add(base, *a, **kw):
        c = Cell(*a, **kw)
        c.base = base
        cells.append(c)

    sizes = (4096,) if quick else (64, 4096)
    for size in sizes:
        add(scull, "scull", f"pread{size}", ["--op", "pread", "--size", str(size)],
            node_suffix="0", probe=(size == 4096))
        add(scull, "scull", f"pwrite{size}", ["--op", "pwrite", "--size", str(size)], node_suffix="0")
    if not quick:
        add(scull, "scull", "pread4096-t2", ["--op", "pread", "--size", "4096"], threads=2, node_suffix="0")
        add(scull, "scull", "ioctl-qquantum", ["--op", "ioctl:SCULL_IOCQQUANTUM"], node_suffix="0")
    for sync in sync_modes:
        for t in threads_list:
            add(counter, "counter", f"incr-t{t}-{sync}", ["--op", "incr"], threads=t, sync=sync)
    add(counter, "counter", "ioctl-get", ["--op", "ioctl:COUNTER_IOC_GET"], sync=sync_modes[0])
    if not quick:
        add(counter, "counter", "read", ["--op", "read"], sync=sync_modes[0])
        add(lkp, "lkp_enc", "ioctl-read-seed", ["--op", "ioctl:LKP_ENC_IOC_READ_SEED"])
    add(lkp, "lkp_enc", "encrypt", ["--op", "encrypt"])
    return cells


class Progress:
    """One line per run on stderr: where the matrix is, and the time left."""

    def __init__(self, total):
        self.total, self.done, self.start = total, 0, time.monotonic()

    def step(self, what):
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        print(f"bench: [{self.done}/{self.total}] {what}  elapsed {elapsed:.0f} s, ~{left:.0f} s left",
              file=sys.stderr, flush=True)


def run(cmd, log):
    """Run a tool; its output goes to the run's log.  Failure stops the bench."""
    log.write(f"$ {shlex.join(map(str, cmd))}\n")
    log.flush()
    res = subprocess.run(list(map(str, cmd)), stdout=log, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        sys.exit(f"bench: '{shlex.join(map(str, cmd))}' exited {res.returncode}; see {log.name}")


def reload_counters(sync, log):
    """Reload both counter modules with sync=<mode> (a load-time choice)."""
    mods = [f"{uapi('COUNTER_NAME')}_{v}" for v in VARIANTS]
    run([ROOT / "scripts/modules.sh", "unload", *mods], log)
    env_param = {f"MODPARAMS_{m}": f"sync={sync}" for m in mods}
    log.write(f"# sync={sync}\n")
    res = subprocess.run([str(ROOT / "scripts/modules.sh"), "load", *mods], stdout=log,
                         stderr=subprocess.STDOUT, env={**os.environ, **env_param})
    if res.returncode != 0:
        sys.exit(f"bench: reloading the counter modules with sync={sync} failed; see {log.name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="run directory (results/<date>-<id>)")
    ap.add_argument("--quick", action="store_true", help="the small matrix (make bench QUICK=1)")
    ap.add_argument("--check-config", action="store_true",
                    help="check the BENCH_* settings and exit (bench.sh does it on the host before booting)")
    opt = ap.parse_args()

    try:
        conf = read_conf()
        q = "_QUICK" if opt.quick else ""
        reps = conf.typed(f"BENCH_REPS{q}", int)
        duration = conf.typed(f"BENCH_DURATION_S{q}", float)
        warmup = conf.typed(f"BENCH_WARMUP_S{q}", float)
        threads_list = [int(t) for t in conf.words(f"BENCH_THREADS{q}",
                                                   allowed=[str(n) for n in range(1, 65)])]
        sync_modes = conf.words(f"BENCH_SYNC_MODES{q}", allowed=sync_modes_of_uapi())
    except InputError as e:
        sys.exit(f"bench: {e}")
    if opt.check_config:
        print(f"bench: settings ok: {reps} reps, {duration} s runs, threads {threads_list}, sync {sync_modes}",
              file=sys.stderr)
        return
    global SEP
    SEP = uapi("KMODLAB_DEV_SEP")

    out = opt.out
    (out / "raw").mkdir(parents=True, exist_ok=True)
    (out / "fio").mkdir(exist_ok=True)
    log = open(out / "bench.log", "a")
    for tool in (LOAD, GBENCH):
        if not tool.exists():
            sys.exit(f"bench: {tool} missing: run 'make build' first")

    host_env = json.loads((ROOT / "build/env.json").read_text())
    manifest = {
        "id": out.name, "started": now_iso(), "quick": opt.quick,
        "env": {"kernel": platform.release(), "accel": os.environ.get("KMODLAB_ACCEL", "unknown"),
                "cpus": os.cpu_count(), "qemu_version": host_env.get("qemu_version", ""),
                "compiler": host_env.get("compiler", ""), "host": os.environ.get("KMODLAB_HOST", "")},
        "settings": {"reps": reps, "duration_s": duration, "warmup_s": warmup,
                     "threads": threads_list, "sync_modes": sync_modes},
        "runs": [], "probe_effect": [],
    }
    run([ROOT / "scripts/modules.sh", "load"], log)

    cells = build_cells(opt.quick, threads_list, sync_modes)
    total = sum(reps * len(VARIANTS) * (2 if c.probe else 1) for c in cells) + 2
    progress = Progress(total)
    probes = {}
    current_sync = None
    # Counter cells that share a sync mode run together: one reload per mode.
    cells.sort(key=lambda c: (c.sync is not None, c.sync or ""))
    for cell in cells:
        if cell.sync and cell.sync != current_sync:
            reload_counters(cell.sync, log)
            current_sync = cell.sync
        for rep in range(1, reps + 1):
            for variant in VARIANTS:
                name = f"{cell.driver}-{cell.workload}-{variant}-r{rep}"
                common = [LOAD, "--device", cell.device(variant), *cell.args, "--threads", cell.threads,
                          "--duration", f"{duration}s", "--warmup", f"{warmup}s", "--quiet"]
                run([*common, "--bpf", "--json", out / "raw" / f"{name}.json"], log)
                entry = {"file": f"raw/{name}.json", "kind": "loadgen", "driver": cell.driver,
                         "workload": cell.workload, "variant": variant, "rep": rep,
                         "params": {"threads": cell.threads, **({"sync": cell.sync} if cell.sync else {})}}
                manifest["runs"].append(entry)
                progress.step(f"{cell.driver} {cell.workload} {variant} rep {rep}/{reps}")
                if cell.probe:
                    off = f"probe-{name}-off.json"
                    run([*common, "--json", out / "raw" / off], log)
                    p = probes.setdefault((cell.driver, cell.workload, variant),
                                          {"driver": cell.driver, "workload": cell.workload,
                                           "variant": variant, "bpf_off": [], "bpf_on": []})
                    p["bpf_on"].append(entry["file"])
                    p["bpf_off"].append(f"raw/{off}")
                    progress.step(f"{cell.driver} {cell.workload} {variant} rep {rep}/{reps} without BPF")
    manifest["probe_effect"] = list(probes.values())

    # Google Benchmark: the counter modules are back at the first sync mode.
    if current_sync != sync_modes[0]:
        reload_counters(sync_modes[0], log)
    gb_filter = "scull/p(read|write):4096|counter/incr|COUNTER_IOC_GET|lkp_enc/encrypt" if opt.quick else "^(scull|counter|lkp_enc)/"
    gb_reps = max(3, reps)
    run([GBENCH, f"--benchmark_filter={gb_filter}", f"--benchmark_repetitions={gb_reps}",
         f"--benchmark_min_time={0.05 if opt.quick else 0.2}", "--benchmark_enable_random_interleaving=true",
         "--benchmark_out_format=json", f"--benchmark_out={out / 'gbench.json'}"], log)
    gb_map = {}
    for v in VARIANTS:
        gb_map[f"scull/pread:4096/{v}"] = ("scull", "pread4096", v)
        gb_map[f"scull/pwrite:4096/{v}"] = ("scull", "pwrite4096", v)
        gb_map[f"scull/pread:64/{v}"] = ("scull", "pread64", v)
        gb_map[f"scull/pwrite:64/{v}"] = ("scull", "pwrite64", v)
        gb_map[f"counter/incr/{v}"] = ("counter", f"incr-t1-{sync_modes[0]}", v)
        gb_map[f"counter/ioctl:COUNTER_IOC_GET/{v}"] = ("counter", "ioctl-get", v)
        gb_map[f"counter/read/{v}"] = ("counter", "read", v)
        gb_map[f"scull/ioctl:SCULL_IOCQQUANTUM/{v}"] = ("scull", "ioctl-qquantum", v)
        gb_map[f"lkp_enc/encrypt/{v}"] = ("lkp_enc", "encrypt", v)
        gb_map[f"lkp_enc/ioctl:LKP_ENC_IOC_READ_SEED/{v}"] = ("lkp_enc", "ioctl-read-seed", v)
    manifest["runs"].append({"file": "gbench.json", "kind": "gbench", "benchmarks": {
        k: {"driver": d, "workload": w, "variant": v} for k, (d, w, v) in gb_map.items()}})
    progress.step("Google Benchmark")

    # fio: the whole job file, or (quick) the prefills and the 4 KiB 1-job
    # jobs.  One fio JSON per compared job, as analysis/ sums a file's jobs.
    fio_all = out / "fio" / "scull-all.json"
    fio_cells = {"read": "pread4096", "write": "pwrite4096"}
    sections = []
    if opt.quick:
        sections = [f"--section={s}" for v in VARIANTS
                    for s in (f"prefill-{v}", *(f"scull-{rw}-4k-j1-{v}" for rw in fio_cells))]
    run(["fio", "--eta=never", "--output-format=json", f"--output={fio_all}", *sections, FIO_JOBS], log)
    fio_doc = json.loads(fio_all.read_text())
    for job in fio_doc["jobs"]:
        for rw, workload in fio_cells.items():
            for v in VARIANTS:
                if job["jobname"] != f"scull-{rw}-4k-j1-{v}":
                    continue
                rel = f"fio/{job['jobname']}.json"
                (out / rel).write_text(json.dumps({**fio_doc, "jobs": [job]}, indent=1))
                manifest["runs"].append({"file": rel, "kind": "fio", "driver": "scull",
                                         "workload": workload, "variant": v, "rep": 1})
    progress.step("fio")

    run([ROOT / "scripts/modules.sh", "unload"], log)
    # scripts/bench.sh adds the module report and "finished" on the host.
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"bench: matrix done: {len(manifest['runs'])} result files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
