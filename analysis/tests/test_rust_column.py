"""The Rust column (issue 21): C/Rust pairs beside the C/C++ pairs, on synthetic runs with known truths.

samples.write_run(rust={cell: true Rust/C}) writes what scripts/bench_matrix.py writes on the Rust
kernel: for those counter cells C/Rust pairs in both passes (manifest "pair_variants": ["c", "rust"]),
a counter_rust module without a stack figure and a Rust icount row.  Each test fails when the Rust
column is missing or wrong; Debian-kernel runs (no rust=) must not change.
"""
from __future__ import annotations

import json
import math

import pytest

from analysis import gates
from analysis.compare import compare_run, family_size, lock_rows, probe_rows, rivals
from analysis.crosskernel import series_order
from analysis.errors import InputError
from analysis.load import load_run
from analysis.report import render
from samples import write_run

RUST = {("counter", "incr-t1-mutex"): 1.10, ("counter", "incr-t2-mutex"): 1.0}


@pytest.fixture(scope="module")
def rust_run(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("rust") / "run", 2, "rustrun", rust=RUST)


@pytest.fixture(scope="module")
def rust_baseline(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("rustbase") / "base", 1, "rustbase", rust=RUST)


def _gate(gs, name):
    hits = [g for g in gs if g.gate == name]
    assert len(hits) == 1, [g.gate for g in gs if "Rust" in g.gate]
    return hits[0]


def test_rust_pairs_are_their_own_comparison(rust_run, settings):
    """Rust/C from the C/Rust pairs only: the planted 1.10 found in throughput (and its inverse in the
    latencies), the planted 1.0 not; C++/C still from the C/C++ pairs, over the same 5 cells as before."""
    run = load_run(rust_run)
    assert rivals(run) == ["cxx", "rust"]
    res = {cr.workload: cr for cr in compare_run(run, settings, "rust")}
    assert set(res) == {"incr-t1-mutex", "incr-t2-mutex"}
    t1 = res["incr-t1-mutex"]
    assert t1.rival == "rust" and t1.n_pairs == 12 and all(p.x.variant == "rust" for p in t1.pairs)
    thr = t1.metrics["throughput"].res
    assert thr.ci_low < 1.10 < thr.ci_high and thr.ci_low > 1.0, thr
    assert t1.metrics["throughput"].verdict == "faster"
    assert t1.metrics["p50"].res.ratio < 0.95
    assert res["incr-t2-mutex"].metrics["throughput"].verdict.startswith("no significant")
    cxx = compare_run(run, settings)
    assert len(cxx) == 5 and all(cr.rival == "cxx" and all(p.x.variant == "cxx" for p in cr.pairs) for cr in cxx)


def test_rust_family_is_apart_from_the_cxx_family(rust_run, run_dir, settings):
    """Holm: C++/C keeps its family (5 cells x 3 metrics = 15, as on Debian's kernels), Rust/C has its
    own (2 x 3 = 6); the MDE of each uses its own family's level."""
    run = load_run(rust_run)
    assert family_size(run, settings) == family_size(load_run(run_dir), settings) == 15
    assert family_size(run, settings, "rust") == 6
    r = compare_run(run, settings, "rust")[0].metrics["p5"].res
    assert math.isclose(r.mde_alpha, settings.alpha / 6)
    x = compare_run(run, settings)[0].metrics["p5"].res
    assert math.isclose(x.mde_alpha, settings.alpha / 15)


def test_loader_refuses_a_rust_pair_that_does_not_say_so(rust_run, tmp_path):
    """A rust run without "pair_variants", a pair_variants naming a variant the driver lacks, and a
    C/Rust pair that is two C runs are unusable input, named."""
    import shutil
    for how, want in (("drop", "must say 'pair_variants'"), ("scull", "one other variant of scull"),
                      ("twoc", "exactly one C and one Rust run")):
        d = tmp_path / how
        shutil.copytree(rust_run, d)
        man = json.loads((d / "manifest.json").read_text())
        rust = [e for e in man["runs"] if e.get("pair_variants")]
        if how == "drop":
            del next(e for e in rust if e["variant"] == "rust")["pair_variants"]
        elif how == "scull":
            e = next(e for e in man["runs"] if e.get("driver") == "scull" and e.get("kind") == "loadgen")
            e["pair_variants"] = ["c", "rust"]
        else:
            e = next(e for e in rust if e["variant"] == "rust" and e["pass"] == "timing")
            e["variant"], e["rep"] = "c", 999
            doc = json.loads((d / e["file"]).read_text())
            doc["variant"] = "c"
            (d / e["file"]).write_text(json.dumps(doc))
        (d / "manifest.json").write_text(json.dumps(man))
        with pytest.raises(InputError, match=want):
            load_run(d)


def test_report_shows_c_cxx_and_rust_side_by_side(rust_run, settings):
    """The report: a Rust summary with its own family, the counter side by side (C, C++, Rust, both
    ratios), three-column modules and icount, the exact costs with their differences from C, the
    Rust pairs' sections apart; summary.json carries the Rust comparison."""
    run = load_run(rust_run)
    md_path, _, figs = render(run, settings)
    md = md_path.read_text()
    assert "## Summary: Rust against C (timing pass)" in md
    assert "family of 6 comparisons (every cell x throughput and p50 and p5 of C against Rust" in md
    assert "| driver | workload | bytes/op | metric | C median | Rust median | Rust/C [95% CI] |" in md
    assert "## counter: C, C++ and Rust side by side" in md
    side = md.split("## counter: C, C++ and Rust side by side")[1].split("\n## ")[0]
    assert "| C median (C/C++ pairs) | C++ median | C++/C [95% CI] | C++/C verdict (Holm p) | C median (C/Rust pairs) " \
           "| Rust median | Rust/C [95% CI] | Rust/C verdict (Holm p) |" in side
    assert side.count("| incr-t1-mutex |") == 3 and "**Rust faster**" in side
    assert "| write1: instructions per op, driver's own code | 84 | 101 (+17) | 70 (-14) |" in side
    assert "| largest stack frame (bytes) | 120 | 128 (+8) | n/a |" in side
    assert "| driver | figure (bytes) | C | C++ | C++/C | Rust | Rust/C |" in md
    assert "| counter | text | 3000 | 3200 | 1.07 | 4436 | 1.48 |" in md and "| scull | text | 6000 | 6400 | 1.07 | - | - |" in md
    assert ("| driver | workload | driver insn/op C | C++ | C++/C | Rust | Rust/C | kernel insn/op C | C++ | C++/C "
            "| Rust | Rust/C |") in md
    assert "| counter | write1 | 84.0 | 101.0 | 1.202 | 70.0 | 0.833 | 921.0 | 938.0 | 1.018 | 941.0 | 1.022 |" in md
    for heading in ("Order effect (timing pass)", "Excluded pairs (disturbed runs)", "Latency distributions"):
        assert f"## {heading}: C against Rust (C/Rust pairs)" in md
    assert "| counter | incr-t1-mutex | mutex | 1 | C (C/Rust pairs) |" in md
    assert {f.name for f in figs} >= {"ratios-rust.png", "pairs-rust.png", "latency-counter-incr-t1-mutex-rust.png",
                                      "locks-counter-rust.png"}
    summary = json.loads((rust_run / "summary.json").read_text())
    other = summary["other_comparisons"]["rust"]
    assert other["family"]["size"] == 6 and {c["workload"] for c in other["cells"]} == {"incr-t1-mutex", "incr-t2-mutex"}
    assert "rust_median" in other["cells"][0]["metrics"]["throughput"] and len(summary["cells"]) == 5


def test_debian_report_has_no_rust(run_dir, settings):
    """A run without C/Rust pairs (every Debian-kernel run): not one Rust column, section or key."""
    run = load_run(run_dir)
    md_path, _, _ = render(run, settings)
    assert "Rust" not in md_path.read_text()
    assert "other_comparisons" not in json.loads((run_dir / "summary.json").read_text())


def test_c_runs_of_rust_pairs_stay_apart_in_the_bpf_sections(rust_run, settings):
    """Locks and probe effect: C's runs of the C/Rust pairs are rows of their own (their BPF pass hooks
    at the syscall), never merged into the C/C++ pairs' C row."""
    run = load_run(rust_run)
    c_rows = [r for r in lock_rows(run) if (r.workload, r.variant) == ("incr-t1-mutex", "c")]
    assert sorted(r.rival for r in c_rows) == ["cxx", "rust"] and all(r.n == 3 for r in c_rows)
    probe = [(r.variant, r.rival) for r in probe_rows(run, settings) if r.workload == "incr-t1-mutex"]
    assert sorted(probe) == [("c", "cxx"), ("c", "rust"), ("cxx", "cxx"), ("rust", "rust")]


def test_gate_skips_rust_cells_the_baseline_lacks(rust_run, baseline_dir, settings):
    """A Debian-style baseline without Rust: every Rust/C cell is a visible SKIP "new, not gated", the
    C++/C gates are as before, nothing fails."""
    gs = gates.evaluate(load_run(baseline_dir), load_run(rust_run), settings)
    g = _gate(gs, "ratio counter/incr-t1-mutex Rust/C")
    assert g.status == gates.SKIP and g.detail.startswith("new, not gated") and "C/Rust pairs" in g.detail
    assert _gate(gs, "ratio counter/incr-t1-mutex throughput C++/C").status == gates.PASS
    assert not [g for g in gs if "Rust/C" in g.gate and g.status != gates.SKIP]
    assert not gates.failed(gs), gates.table(gs)


def test_gate_gates_rust_like_cxx_where_the_baseline_has_it(rust_run, rust_baseline, tmp_path, settings):
    """A baseline with C/Rust pairs: Rust/C gates per cell and metric like C++/C, one Holm family over
    both (15 + 6 gated ratios); a Rust regression fails its Rust/C rows only; a run that lost its Rust
    pairs fails; the exact figures gate too (icount Rust/C, counter_rust's size; its stack SKIPs)."""
    base = load_run(rust_baseline)
    gs = gates.evaluate(base, load_run(rust_run), settings)
    assert not gates.failed(gs), gates.table(gs)
    g = _gate(gs, "ratio counter/incr-t1-mutex throughput Rust/C")
    assert g.status == gates.PASS and "over 21 gated ratios" in g.detail and g.detail.startswith("Rust/C")
    assert _gate(gs, "icount counter/write1 driver insn/op Rust/C").status == gates.PASS
    assert _gate(gs, "module counter_rust size (text+data+rodata+bss)").status == gates.PASS
    assert _gate(gs, "module counter_rust max stack frame").status == gates.SKIP
    slow = write_run(tmp_path / "slow", 3, "slow", rust={**RUST, ("counter", "incr-t1-mutex"): 0.85})
    gs = gates.evaluate(base, load_run(slow), settings)
    assert _gate(gs, "ratio counter/incr-t1-mutex throughput Rust/C").status == gates.FAIL
    assert _gate(gs, "ratio counter/incr-t1-mutex throughput C++/C").status == gates.PASS
    lost = write_run(tmp_path / "lost", 3, "lost")
    g = _gate(gates.evaluate(base, load_run(lost), settings), "ratio counter/incr-t1-mutex Rust/C")
    assert g.status == gates.FAIL and "primary cell" in g.detail


def test_the_rust_kernel_is_not_the_cross_kernel_reference():
    """Bench sets with KERNELS="6.1 6.12 rust": 6.1 stays the reference of the cross-kernel rows."""
    assert sorted(["rust", "6.12", "6.1"], key=series_order) == ["6.1", "6.12", "rust"]


def test_set_report_has_rust_against_c_for_the_rust_kernel(tmp_path, capsys):
    """A bench set on 6.1 and the Rust kernel: C++/C per kernel as before, then Rust against C for the
    kernel that ran C/Rust pairs only; cross-kernel rows against 6.1; the set summary carries it."""
    from analysis.__main__ import main
    from analysis.shard import WHOLE
    from shard_samples import write_shard
    d = write_shard(tmp_path / "set", WHOLE, kernels=("6.1", "rust"), per_kernel_rust={"rust": RUST})
    assert main(["report", str(d)]) == 0
    md = (d / "report.md").read_text()
    part = md.split("## Rust against C per kernel (timing pass, paired)")[1].split("\n## ")[0]
    assert "| cell | metric | rust: Rust/C [95% CI], Holm p, verdict |" in part and "6.1:" not in part
    assert "| counter/incr-t1-mutex | throughput |" in part and "**Rust faster**" in part
    assert "| rust/6.1 |" in md and "| 6.1/rust |" not in md
    summ = json.loads((d / "summary.json").read_text())
    assert "other_comparisons" not in summ["kernels"]["6.1"]
    assert set(summ["kernels"]["rust"]["other_comparisons"]["rust"]) == {"counter/incr-t1-mutex",
                                                                         "counter/incr-t2-mutex"}
    assert "## Summary: Rust against C (timing pass)" in (d / "rust" / "report.md").read_text()
