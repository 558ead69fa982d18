"""Synthetic run directories for the tests, with known truths.

make_samples.py writes the committed ones (data/run-small, data/baseline-small)
with this code; tests also call write_run() into a temporary directory to get
variants (a moved ratio, a grown module, a failed check).

Every figure is drawn from a known distribution: throughput is lognormal
around a cell's C mean times the cell's true C++/C ratio, latency is its
inverse, so a test can assert what the statistics must find.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

ENV = {"kernel": "6.1.0-56-amd64", "accel": "tcg", "cpus": 2, "qemu_version": "7.2.0+kmodlab",
       "compiler": "gcc 12.2.0", "host": "test-host"}

# (driver, workload, op, threads, sync, C ops/s, true C++/C throughput ratio, bytes per op)
# pread4096's 2057 is what it moved before scull's full transfers (issue 18, reads then
# stopped at the end of a 4000-byte quantum; it moves 4096 now): kept in the committed
# samples so that the report's bytes per op is seen to come from the runs, not the name.
CELLS = [
    ("scull", "pread4096", "pread", 1, None, 200_000.0, 1.00, 2057),
    ("scull", "pwrite4096", "pwrite", 1, None, 150_000.0, 0.80, 4096),
    ("counter", "incr-t1-mutex", "incr", 1, "mutex", 300_000.0, 1.00, 2),
    ("counter", "incr-t2-mutex", "incr", 2, "mutex", 380_000.0, 1.00, 2),
    ("lkp_enc", "encrypt", "encrypt", 1, None, 50_000.0, 1.00, 0),
]
# kmodlab-load op -> (syscall BPF sees, syscalls per op): loadgen/src/main.cpp, analysis/compare.py
SYSCALL = {"pread": ("pread64", 1), "pwrite": ("pwrite64", 1), "incr": ("write", 1), "encrypt": ("ioctl", 3)}

MODULES = {"scull_c": (6000, 400, 900, 64, 184), "scull_cxx": (6400, 400, 1000, 64, 200),
           "counter_c": (3000, 300, 500, 16, 120), "counter_cxx": (3200, 300, 560, 16, 128),
           "lkp_enc_c": (4000, 350, 700, 8, 152), "lkp_enc_cxx": (4300, 350, 760, 8, 160)}


# (driver, workload) -> C driver insn/op, C++ driver insn/op, C kernel insn/op, C++ kernel insn/op
ICOUNT = {("scull", "read4k"): (210.0, 226.0, 1650.0, 1666.0), ("counter", "write1"): (84.0, 101.0, 921.0, 938.0)}
# The Rust column (a run with rust=...: the Rust kernel's counter): counter_rust's sizes (max_stack
# None: kmod-report has no .su files for Rust), and its counts (driver insn/op, kernel insn/op).
RUST_MODULE = ("counter_rust", (4436, 200, 600, 16, None))
RUST_ICOUNT = {("counter", "write1"): (70.0, 941.0)}


def log_hist(lat_ns: np.ndarray) -> list[list[int]]:
    """Coarse log-linear buckets (4 per power of two): few buckets keep the samples small."""
    out: dict[tuple[int, int], int] = {}
    for v in lat_ns.astype(np.int64):
        k = int(v).bit_length() - 1
        step = max(1, (1 << k) // 4)
        lo = (int(v) // step) * step
        out[(lo, lo + step)] = out.get((lo, lo + step), 0) + 1
    return [[lo, hi, n] for (lo, hi), n in sorted(out.items())]


def loadgen_doc(rng, driver, workload, op, threads, sync, variant, ops_per_s, check_ok=True, errors=None,
                bpf=True, dropped=0, bpf_count_delta=0, bytes_per_op=4096):
    """One kmodlab-load result; latency follows throughput (a slow run is slow in every operation)."""
    ops = int(ops_per_s)  # one-second runs: ops == ops/s
    mean_lat = 1e9 * threads / ops_per_s
    lat = rng.lognormal(math.log(mean_lat), 0.25, 150)
    p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    dev = f"/dev/{driver}-{variant}" + ("0" if driver == "scull" else "")
    doc = {"tool": "kmodlab-load", "version": 1, "env": {"kernel": ENV["kernel"], "accel": "tcg", "cpus": 2},
           "device": dev, "driver": driver, "variant": variant,
           "module_params": {"sync": sync} if sync else {}, "op": op, "mix": [[op, 1]], "threads": threads,
           "mode": "closed", "rate": 0, "duration_s": 1.0, "warmup_s": 0.2, "ops": ops,
           "errors": errors or {}, "bytes": ops * bytes_per_op, "ops_per_s": ops_per_s,
           "bytes_per_s": ops_per_s * bytes_per_op,
           "latency_ns": {"min": float(lat.min()), "mean": float(lat.mean()), "p50": p50, "p90": float(np.percentile(lat, 90)),
                          "p99": p99, "max": float(lat.max())},
           "histogram": log_hist(lat),
           "per_op": {op: {"weight": 1, "ops": ops, "bytes": ops * bytes_per_op, "errors": errors or {}}},
           "check": {"enabled": True, "ok": check_ok, "detail": "" if check_ok else "byte 17 differs"}}
    if bpf:
        klat = lat * 0.6
        locks = []
        if sync:
            wait = 40.0 * (threads - 1) * ops
            locks = [{"lock": f"counter_{variant}_lock+0x0 [counter_{variant}]", "kind": sync,
                      "count": int(0.1 * (threads - 1) * ops), "total_ns": wait, "max_ns": 9000.0,
                      "histogram": [[1024, 2048, max(1, int(0.1 * (threads - 1) * ops))]]}]
        sc, per = SYSCALL[op]
        doc["bpf"] = {"opslat": [{"device": dev, "op": sc, "count": per * ops + bpf_count_delta,
                                  "sum_ns": float(klat.sum()), "min_ns": float(klat.min()), "max_ns": float(klat.max()),
                                  "histogram": log_hist(klat), "errors": {}},
                                 {"device": dev, "op": "openat", "count": threads, "sum_ns": 5000.0 * threads,
                                  "min_ns": 4000.0, "max_ns": 6000.0, "histogram": [[4096, 8192, threads]], "errors": {}}],
                      "lockstat": locks, "dropped": dropped,
                      "prog_stats": [{"name": "opslat_exit", "run_cnt": ops, "run_time_ns": ops * 90, "ns_per_event": 90.0}]}
    return doc


def fio_doc(ops_per_s, p50, p99):
    return {"fio version": "fio-3.33", "jobs": [{"jobname": "w", "error": 0,
            "read": {"io_bytes": int(ops_per_s * 4096), "bw_bytes": int(ops_per_s * 4096), "bw": ops_per_s * 4,
                     "iops": ops_per_s, "clat_ns": {"percentile": {"50.000000": p50, "99.000000": p99}}},
            "write": {"io_bytes": 0, "bw_bytes": 0, "bw": 0, "iops": 0.0}}]}


def _timing_value(rng, base, ratio, variant, boot_ratio, drift, cv, second, order_gain):
    """One run's throughput: the pair's shared drift, the boot's ratio shift, own noise, order effect
    (ratio: the other side's true ratio to C, C++'s or Rust's)."""
    mean = base * drift * ((ratio * boot_ratio) if variant != "c" else 1.0)
    return float(mean * rng.lognormal(0, cv) * ((1 + order_gain) if second else 1.0))


def write_run(d: Path, seed: int, run_id: str, ratio_override: dict | None = None, module_growth: dict | None = None,
              cv: float = 0.02, failed_check: str | None = None, bad_errors: str | None = None,
              finished: str = "2026-11-23T12:30:00Z", icount_cxx: dict | None = None,
              icount_ok: bool = True, boots: int = 2, pairs_per_boot: int = 6, bpf_pairs: int = 3,
              boot_sd: float = 0.005, order_gain: float = 0.0, disturbed: dict | None = None,
              quick: bool = False, drop_cells=(), variant_sides: dict | None = None,
              rust: dict | None = None) -> Path:
    """A whole run directory of the paired design: manifest, timing and BPF passes, fio, gbench, modules, ...

    ratio_override: {(driver, workload): true C++/C ratio} replaces the cell's default.
    module_growth:  {module: factor} multiplies that module's text size.
    icount_cxx:     {(driver, workload): C++ driver instructions per op} replaces the default.
    failed_check / bad_errors: the workload whose C++ run of timing pair 0 fails its data check / returns EIO.
    boot_sd:        SD of a per-boot multiplicative shift of the C++/C ratio (layout effects).
    order_gain:     the second run of every pair is this fraction faster.
    disturbed:      {(driver, workload): [(pair, variant), ...]}: those timing runs are 10x slower throughout.
    drop_cells:     (driver, workload) cells left out of the run.
    rust:           {(driver, workload): true Rust/C ratio}: those cells also get C/Rust pairs in both passes
                    (manifest "pair_variants", files tagged "-rust", after the cell's C/C++ pairs), and the
                    run a counter_rust module and Rust icount row (the Rust kernel's bench).
    """
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    (d / "raw").mkdir(exist_ok=True)
    (d / "fio").mkdir(exist_ok=True)
    runs = []

    def put(rel, doc):
        (d / rel).write_text(json.dumps(doc, separators=(",", ":")))

    boot_ratio = rng.lognormal(0, boot_sd, boots) if boot_sd else np.ones(boots)
    for driver, wl, op, threads, sync, base, ratio, bpo in CELLS:
        if (driver, wl) in drop_cells:
            continue
        ratio = (ratio_override or {}).get((driver, wl), ratio)
        slow = set((disturbed or {}).get((driver, wl), []))
        sides = [("cxx", ratio)] + ([("rust", rust[(driver, wl)])] if (driver, wl) in (rust or {}) else [])
        for pass_, npairs in (("timing", boots * pairs_per_boot), ("bpf", bpf_pairs)):
            for other, true_ratio in sides:
                for k in range(npairs):
                    boot = k // pairs_per_boot if pass_ == "timing" else 0
                    first = "c" if k % 2 == 0 else other  # ABBA: C first, then the other side first, ...
                    drift = rng.lognormal(0, 0.03)
                    order = ("c", other) if first == "c" else (other, "c")
                    for variant in order:
                        ops_s = _timing_value(rng, base, true_ratio, variant, boot_ratio[boot], drift, cv,
                                              variant != first, order_gain)
                        if pass_ == "timing" and (k, variant) in slow and other == "cxx":
                            ops_s /= 10.0
                        tag = "" if other == "cxx" else f"-{other}"
                        rel = f"raw/{driver}-{wl}-{pass_}{tag}-p{k}-{variant}.json"
                        fail = variant == "cxx" and k == 0 and pass_ == "timing"
                        put(rel, loadgen_doc(rng, driver, wl, op, threads, sync, variant, ops_s,
                                             check_ok=not (fail and failed_check == wl),
                                             errors={"EIO": 3} if fail and bad_errors == wl else None,
                                             bpf=pass_ == "bpf", bytes_per_op=bpo))
                        runs.append({"file": rel, "kind": "loadgen", "driver": driver, "workload": wl,
                                     "variant": variant, "rep": k + 1, "pass": pass_, "pair": k, "first": first,
                                     "boot": boot, "params": {"threads": threads, **({"sync": sync} if sync else {})},
                                     **({} if other == "cxx" else {"pair_variants": ["c", other]})})
    _write_tools(d, rng, cv, runs, put)
    _write_static(d, put, module_growth, icount_cxx, icount_ok, rust=bool(rust))
    manifest = {"id": run_id, "started": "2026-11-23T12:00:00Z", "finished": finished, "quick": quick, "env": ENV,
                "design": {"boots": boots, "pairs_per_boot": pairs_per_boot, "order": "ABBA",
                           "pass_timing": "no BPF attached, bpf_stats off", "pass_bpf": True},
                "runs": runs, "modules": "modules.json", "reliability": "reliability.json", "icount": "icount.json"}
    # As scripts/bench_matrix.py writes it: the two passes' files per cell and variant.
    groups = {}
    for e in runs:
        if e["kind"] == "loadgen":
            pv = e.get("pair_variants")
            g = groups.setdefault((e["driver"], e["workload"], e["variant"], str(pv)), {
                "driver": e["driver"], "workload": e["workload"], "variant": e["variant"],
                **({"pair_variants": pv} if pv else {}), "bpf_off": [], "bpf_on": []})
            g["bpf_on" if e["pass"] == "bpf" else "bpf_off"].append(e["file"])
    manifest["probe_effect"] = list(groups.values())
    if variant_sides:
        manifest["variant_sides"] = variant_sides
    if finished is None:
        del manifest["finished"]
    (d / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return d


def _write_tools(d, rng, cv, runs, put):
    """fio and gbench for scull/pread4096 (fio 2% below kmodlab-load: within the 5% tolerance)."""
    gb = []
    for rep in range(1, 4):
        for variant in ("c", "cxx"):
            ops_s = float(200_000 * 0.98 * rng.lognormal(0, cv))
            rel = f"fio/scull-pread4096-{variant}-r{rep}.json"
            put(rel, fio_doc(ops_s, 4800.0, 9000.0))
            runs.append({"file": rel, "kind": "fio", "driver": "scull", "workload": "pread4096", "variant": variant,
                         "rep": rep})
            rt = 1e9 / (200_000 * 1.01 * rng.lognormal(0, cv))
            gb.append({"name": f"scull/pread:4096/{variant}/repeats:3", "run_name": f"scull/pread:4096/{variant}",
                       "run_type": "iteration", "repetitions": 3, "repetition_index": rep - 1, "iterations": 1000,
                       "real_time": rt / 1e3, "cpu_time": rt / 1e3, "time_unit": "us"})
        gb.append({"name": "baseline/pread:4096/zero/repeats:3", "run_name": "baseline/pread:4096/zero",
                   "run_type": "iteration", "repetitions": 3, "repetition_index": rep - 1, "iterations": 10000,
                   "real_time": 900.0 * rng.lognormal(0, cv), "cpu_time": 900.0, "time_unit": "ns"})
    gb.append({"name": "scull/pread:4096/c/repeats:3_mean", "run_name": "scull/pread:4096/c", "run_type": "aggregate",
               "aggregate_name": "mean", "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ns"})
    put("gbench.json", {"context": {"num_cpus": 2}, "benchmarks": gb})
    runs.append({"file": "gbench.json", "kind": "gbench", "benchmarks": {
        f"scull/pread:4096/{v}": {"driver": "scull", "workload": "pread4096", "variant": v} for v in ("c", "cxx")}})


def _write_static(d, put, module_growth, icount_cxx, icount_ok, rust=False):
    """modules.json (scripts/kmod-report.sh --json, trimmed), reliability.json, icount.json."""
    mods = {}
    for name, (text, data, rodata, bss, stack) in list(MODULES.items()) + ([RUST_MODULE] if rust else []):
        text = int(text * (module_growth or {}).get(name, 1.0))
        mods[name] = {"ko": f"kmod/x/{name}.ko", "sizes": {"text": text, "rodata": rodata, "data": data, "bss": bss},
                      "max_stack": None if stack is None else {"function": f"{name}_write", "bytes": stack,
                                                               "kind": "static"}}
    op = {"c_entry": "scull_c_read", "cxx_entry": "scull_cxx_read", "c_indirect": 0, "cxx_indirect": 0,
          "extra_indirect": 0, "cxx_helper_calls": 2, "cxx_helpers": ["kcxx_copy_to_user"], "c_direct_calls": 3,
          "cxx_direct_calls": 4, "c_instructions": 60, "cxx_instructions": 64}
    put("modules.json", {"modules": mods, "comparison": {"scull": {"ops": {"read": [dict(op, table="fops")]}}},
                         "parity_ok": True, "problems": []})
    put("reliability.json", {"passed": 12, "failed": 0, "failures": []})
    comps = []
    for (drv, wl), (c, x, kc, kx) in ICOUNT.items():
        x = (icount_cxx or {}).get((drv, wl), x)
        comps.append({"driver": drv, "workload": wl, "driver_insn_per_op": {"c": c, "cxx": x}, "driver_ratio": x / c,
                      "kernel_insn_per_op": {"c": kc, "cxx": kc - c + x}, "kernel_ratio": (kc - c + x) / kc})
        if rust and (drv, wl) in RUST_ICOUNT:
            r, kr = RUST_ICOUNT[(drv, wl)]
            comps.append({"driver": drv, "workload": wl, "pair_variants": ["c", "rust"],
                          "driver_insn_per_op": {"c": c, "rust": r}, "driver_ratio": r / c,
                          "kernel_insn_per_op": {"c": kc, "rust": kr}, "kernel_ratio": kr / kc})
    put("icount.json", {"schema": "kmodlab-icount/1", "kernel": ENV["kernel"], "vcpus": 1, "ok": icount_ok,
                        "problems": [] if icount_ok else ["window 7 (scull read4k cxx): 3 ops failed"],
                        "comparisons": comps, "windows": []})
