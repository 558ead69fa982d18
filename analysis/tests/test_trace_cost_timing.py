"""scripts/trace_cost_timing.py on synthetic trace-cost runs: the on/off
comparison finds a planted slowdown of the "on" build and none in an A/A run."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "scripts/trace_cost_timing.py"


def loadgen_doc(ns, rng):
    """A kmodlab-load JSON whose ops take about ns nanoseconds."""
    lat = rng.normal(ns, ns * 0.01, 2000).clip(ns * 0.5)
    counts, edges = np.histogram(lat, bins=64)
    hist = [[int(lo), int(hi), int(c)] for lo, hi, c in zip(edges[:-1], edges[1:], counts) if c]
    return {"ops_per_s": 1e9 / float(lat.mean()), "latency_ns": {"p50": float(np.median(lat))}, "histogram": hist}


def make_run(tmp, on_factor, pairs=10, seed=1):
    rng = np.random.default_rng(seed)
    (tmp / "raw").mkdir(parents=True)
    runs = []
    for module in ("counter_c", "counter_cxx"):
        for p in range(pairs):
            drift = 1 + 0.02 * np.sin(p)  # the host's slow changes, shared by both sides of a pair
            for side, f in (("c", 1.0), ("cxx", on_factor)):
                rel = f"raw/{module}-p{p}-{side}.json"
                (tmp / rel).write_text(json.dumps(loadgen_doc(1000 * drift * f, rng)))
                runs.append({"file": rel, "module": module, "pair": p, "boot": 0, "variant": side,
                             "driver": "counter", "workload": "incr-t1-mutex"})
    (tmp / "manifest.json").write_text(json.dumps({"id": tmp.name, "kind": "trace-cost", "runs": runs}))
    return tmp


def summarize(run):
    res = subprocess.run([sys.executable, str(TOOL), str(run)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    return json.loads((run / "trace-cost.json").read_text())


def test_a_planted_slowdown_of_the_on_build_is_found(tmp_path):
    doc = summarize(make_run(tmp_path / "planted", 1.10))
    p50 = [r for r in doc["rows"] if r["metric"] == "p50"]
    assert len(p50) == 2 and len(doc["rows"]) == 6
    for r in p50:
        assert r["p_holm"] < doc["alpha"] and r["ci_low"] <= 1.10 <= r["ci_high"] * 1.01, r
    assert "| counter/incr-t1-mutex | counter_c | p50 | 1.1" in (tmp_path / "planted/trace-cost.md").read_text()


def test_equal_builds_show_no_difference(tmp_path):
    doc = summarize(make_run(tmp_path / "aa", 1.0))
    assert all(r["p_holm"] >= doc["alpha"] for r in doc["rows"]), doc["rows"]
    assert all(r["ci_low"] <= 1.0 <= r["ci_high"] for r in doc["rows"] if r["metric"] != "p5")


def test_not_a_trace_cost_run_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"id": "x", "kind": "calibration", "runs": []}))
    res = subprocess.run([sys.executable, str(TOOL), str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "not \"trace-cost\"" in res.stderr
