#!/usr/bin/python3
"""bench_levers.py - the table of scripts/bench_levers.sh: what each noise lever buys.

Usage: bench_levers.py DIR [--json]

DIR holds one bench run per config and round (<config>-r<k>/manifest.json).
Per config, cell and metric (throughput, p50), the pairs of all its rounds
go through analysis.stats.paired_compare (one "boot" per round): pairs,
per-pair SD of the log ratio, MDE, and the same without each round's first
pair (the "discard the first pair" lever).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from analysis.conf import load_settings  # noqa: E402
from analysis.stats import paired_compare  # noqa: E402

METRICS = {"throughput": True, "p50": False}


def pairs_of(run_dir, boot):
    """{(cell, pair): {"c": {metric: v}, "cxx": ..., "boot": boot}} of one run's timing pass."""
    man = json.loads((run_dir / "manifest.json").read_text())
    out = {}
    for r in man["runs"]:
        if r.get("kind") != "loadgen" or r.get("pass") != "timing":
            continue
        doc = json.loads((run_dir / r["file"]).read_text())
        key = (f"{r['driver']}/{r['workload']}", (boot, r["pair"]))
        out.setdefault(key, {"boot": boot})[r["variant"]] = {"throughput": doc["ops_per_s"],
                                                            "p50": doc["latency_ns"]["p50"]}
    return out, man.get("settings", {})


def compare(pairs, metric, settings, drop_first):
    ids = sorted(k for k, v in pairs.items() if "c" in v and "cxx" in v)
    if drop_first:
        firsts = {}
        for boot, pid in ids:
            firsts[boot] = min(firsts.get(boot, pid), pid)
        ids = [(b, p) for b, p in ids if p != firsts[b]]
    boots = [b for b, _ in ids]
    return paired_compare([pairs[i]["c"][metric] for i in ids], [pairs[i]["cxx"][metric] for i in ids],
                          boots=boots if len(set(boots)) > 1 else None, higher_is_better=METRICS[metric],
                          settings=settings)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--json", action="store_true")
    opt = ap.parse_args()
    settings = load_settings()
    configs = {}
    for d in sorted(opt.dir.glob("*-r*/manifest.json")):
        cfg, _, rnd = d.parent.name.rpartition("-r")
        pairs, st = pairs_of(d.parent, int(rnd))
        c = configs.setdefault(cfg, {"pairs": {}, "settings": st})
        for (cell, pid), v in pairs.items():
            c["pairs"].setdefault(cell, {})[pid] = v
    if not configs:
        sys.exit(f"bench_levers: no <config>-r<k>/manifest.json under {opt.dir}")
    rows = []
    for cfg, c in configs.items():
        for cell, pairs in sorted(c["pairs"].items()):
            for metric in METRICS:
                full, cut = (compare(pairs, metric, settings, d) for d in (False, True))
                rows.append({"config": cfg, "cell": cell, "metric": metric, "n_pairs": full.n_pairs,
                             "duration_s": c["settings"].get("duration_s"), "ratio": full.ratio,
                             "sd_log": full.sd_log, "mde": full.mde, "excluded": len(full.excluded or []),
                             "sd_log_without_first": cut.sd_log, "mde_without_first": cut.mde})
    if opt.json:
        print(json.dumps(rows, indent=1))
        return
    print("| config | cell | metric | run s | pairs | excluded | C++/C | SD log-ratio | MDE | SD w/o first | MDE w/o first |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['config']} | {r['cell']} | {r['metric']} | {r['duration_s']} | {r['n_pairs']} | {r['excluded']} | "
              f"{r['ratio']:.3f} | {r['sd_log']:.3f} | {r['mde']:.3f} | {r['sd_log_without_first']:.3f} | "
              f"{r['mde_without_first']:.3f} |")


if __name__ == "__main__":
    main()
