"""Gating decisions on synthetic runs with known truths."""
import json

import pytest

from analysis import gates
from analysis.__main__ import main
from analysis.errors import InputError
from analysis.load import load_run
from samples import CELLS as SAMPLE_CELLS
from samples import write_run


def _status(gs, name):
    hits = [g for g in gs if g.gate == name]
    assert len(hits) == 1, [g.gate for g in gs]
    return hits[0].status


def test_noise_within_threshold_passes(run_dir, baseline_dir, settings):
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert not gates.failed(gs), gates.table(gs)
    assert _status(gs, "ratio scull/pread4096 throughput C++/C") == gates.PASS
    assert any(g.status == gates.INFO and g.gate.startswith("absolute") for g in gs)


def test_moved_ratio_fails(tmp_path, baseline_dir, settings):
    # C++ loses 25% on scull/pread4096: the whole CI moves below 0.9 x baseline.
    new = write_run(tmp_path / "moved", 2, "moved", ratio_override={("scull", "pread4096"): 0.75})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "ratio scull/pread4096 throughput C++/C") == gates.FAIL
    assert _status(gs, "ratio scull/pread4096 p50 C++/C") == gates.FAIL  # latency rose with it
    assert _status(gs, "ratio scull/pwrite4096 throughput C++/C") == gates.PASS
    assert gates.failed(gs)


def test_small_move_inside_threshold_passes(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "small", 2, "small", ratio_override={("scull", "pread4096"): 0.99})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "ratio scull/pread4096 throughput C++/C") == gates.PASS


def test_improvement_does_not_fail(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "better", 2, "better", ratio_override={("scull", "pwrite4096"): 1.0})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate == "ratio scull/pwrite4096 throughput C++/C"][0]
    assert g.status == gates.PASS and "improved" in g.detail


def test_absolute_slowdown_never_gates(tmp_path, baseline_dir, settings):
    # A machine twice as slow: every absolute figure halves, ratios stay: must pass.
    from samples import CELLS
    import samples
    saved = list(CELLS)
    try:
        samples.CELLS[:] = [c[:5] + (c[5] / 2,) + c[6:] for c in saved]
        new = write_run(tmp_path / "slowbox", 2, "slowbox")
    finally:
        samples.CELLS[:] = saved
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert not gates.failed(gs), gates.table(gs)


def test_module_growth_beyond_tolerance_fails(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "fat", 2, "fat", module_growth={"scull_cxx": 1.2, "counter_cxx": 1.01})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "module scull_cxx size (text+data+rodata+bss)") == gates.FAIL
    assert _status(gs, "module counter_cxx size (text+data+rodata+bss)") == gates.PASS
    assert gates.failed(gs)


def test_stack_growth_fails(run_dir, baseline_dir, settings):
    p = run_dir / "modules.json"
    doc = json.loads(p.read_text())
    doc["modules"]["counter_cxx"]["max_stack"]["bytes"] += 400
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "module counter_cxx max stack frame") == gates.FAIL
    assert _status(gs, "module counter_c max stack frame") == gates.PASS


def test_dispatch_parity_failure_fails(run_dir, baseline_dir, settings):
    p = run_dir / "modules.json"
    doc = json.loads(p.read_text())
    doc["parity_ok"] = False
    doc["problems"] = ["scull_cxx: fops.read -> scull_read_helper is C-compiled"]
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    g = [g for g in gs if g.gate == "module dispatch parity (kmod-report)"][0]
    assert g.status == gates.FAIL and "C-compiled" in g.detail


def test_flat_module_format_still_read(run_dir):
    p = run_dir / "modules.json"
    p.write_text(json.dumps({"modules": [{"name": "scull_c", "text": 1, "data": 2, "rodata": 3, "bss": 4,
                                          "max_stack": 5}]}))
    mods = load_run(run_dir).modules
    assert len(mods) == 1 and mods[0].total == 10 and mods[0].max_stack == 5 and mods[0].driver == "scull"


def test_missing_module_fails(run_dir, baseline_dir, settings):
    p = run_dir / "modules.json"
    doc = json.loads(p.read_text())
    del doc["modules"]["lkp_enc_cxx"]
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "module lkp_enc_cxx present") == gates.FAIL


def test_a_module_the_baseline_lacks_is_new_not_gated(run_dir, baseline_dir, settings):
    # scullpipe_c in the run's size report, not in the baseline's: a visible SKIP row, not a silent pass
    p = run_dir / "modules.json"
    doc = json.loads(p.read_text())
    doc["modules"]["scullpipe_c"] = doc["modules"]["scull_c"]
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    g = [g for g in gs if g.gate == "module scullpipe_c size (text+data+rodata+bss)"]
    assert len(g) == 1 and g[0].status == gates.SKIP and g[0].detail.startswith("new, not gated")


def test_icount_rise_fails_and_tiny_change_passes(tmp_path, baseline_dir, settings):
    # scull read4k: 226 -> 240 C++ instructions (+6%): fails; counter write1: 101 -> 101.2 (+0.2%): passes.
    new = write_run(tmp_path / "insn", 2, "insn", icount_cxx={("scull", "read4k"): 240.0, ("counter", "write1"): 101.2})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "icount scull/read4k driver insn/op C++/C") == gates.FAIL
    assert _status(gs, "icount counter/write1 driver insn/op C++/C") == gates.PASS
    assert _status(gs, "icount counter/write1 kernel insn/op C++/C") == gates.PASS


def test_icount_workload_new_to_the_baseline_is_a_visible_skip(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "insnnew", 2, "insnnew")
    p = new / "icount.json"
    doc = json.loads(p.read_text())
    doc["comparisons"].append({"driver": "scullpipe", "workload": "rw64", "driver_insn_per_op": {"c": 174, "cxx": 200},
                               "driver_ratio": 200 / 174, "kernel_insn_per_op": {"c": 900, "cxx": 926},
                               "kernel_ratio": 926 / 900})
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate == "icount scullpipe/rw64"]
    assert len(g) == 1 and g[0].status == gates.SKIP and "no baseline" in g[0].detail and g[0].now == "174 / 200"


def test_icount_problems_fail(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "insnbad", 2, "insnbad", icount_ok=False)
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "icount run usable") == gates.FAIL


def test_failed_check_fails(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "bad", 2, "bad", failed_check="pread4096")
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate.startswith("correctness: data checks")][0]
    assert g.status == gates.FAIL and "scull-pread4096-timing-p0-cxx" in g.detail


def test_unexpected_errors_fail_expected_ones_pass(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "eio", 2, "eio", bad_errors="pwrite4096")
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "correctness: no unexpected errors") == gates.FAIL
    man = json.loads((new / "manifest.json").read_text())
    for e in man["runs"]:
        if e.get("workload") == "pwrite4096":
            e["expect_errors"] = ["EIO"]
    (new / "manifest.json").write_text(json.dumps(man))
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert _status(gs, "correctness: no unexpected errors") == gates.PASS


def test_bpf_count_mismatch_and_drops_fail(run_dir, baseline_dir, settings):
    p = run_dir / "raw" / "scull-pwrite4096-bpf-p1-c.json"
    doc = json.loads(p.read_text())
    doc["bpf"]["opslat"][0]["count"] = int(doc["ops"] * 0.9)  # 10% lost
    p.write_text(json.dumps(doc))
    q = run_dir / "raw" / "scull-pwrite4096-bpf-p2-c.json"
    doc = json.loads(q.read_text())
    doc["bpf"]["dropped"] = 5
    q.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    g = [g for g in gs if g.gate.startswith("BPF counts agree")][0]
    assert g.status == gates.FAIL
    assert "scull-pwrite4096-bpf-p1-c" in g.detail and "dropped 5" in g.detail
    assert "pwrite64 calls" in g.detail


def test_bpf_counts_ignore_other_syscalls(run_dir, baseline_dir, settings):
    # Another process reading the same node adds "read" entries: not this run's workload (write).
    p = run_dir / "raw" / "scull-pwrite4096-bpf-p1-c.json"
    doc = json.loads(p.read_text())
    extra = dict(doc["bpf"]["opslat"][0], op="read", count=12345)
    doc["bpf"]["opslat"].append(extra)
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "BPF counts agree (opslat vs kmodlab-load, no drops)") == gates.PASS


def test_counter_read_is_pread(tmp_path):
    from analysis.compare import expected_syscalls
    from analysis.load import LoadgenRun
    r = LoadgenRun(file="x", driver="counter", workload="w", variant="c", rep=1, params={}, expect_errors=[],
                   device=None, op="mix", threads=1, sync=None, ops=10, ops_per_s=1.0, bytes_per_s=None,
                   latency={}, histogram=[], errors={}, check_enabled=False, check_ok=True, check_detail="",
                   bpf=None, per_op={"read": 6, "incr": 4})
    assert expected_syscalls(r) == {"pread64": 6, "write": 4}
    r.driver, r.per_op = "lkp_enc", {"encrypt": 5, "ioctl:LKP_ENC_IOC_READ_SEED": 2}
    assert expected_syscalls(r) == {"ioctl": 17}
    r.per_op = {"frobnicate": 1}
    assert expected_syscalls(r) is None


def test_interrupted_run_fails(run_dir, baseline_dir, settings):
    p = run_dir / "raw" / "counter-incr-t1-mutex-timing-p1-cxx.json"
    doc = json.loads(p.read_text())
    doc["interrupted"] = True
    p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "correctness: no interrupted runs") == gates.FAIL


def test_check_disabled_null_ok_is_not_a_failure(run_dir, baseline_dir, settings):
    for p in (run_dir / "raw").glob("scull-*.json"):
        doc = json.loads(p.read_text())
        doc["check"] = {"enabled": False, "ok": None, "detail": ""}
        p.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    g = [g for g in gs if g.gate.startswith("correctness: data checks")][0]
    n = sum(1 for r in load_run(run_dir).loadgen if not r.driver == "scull")
    assert g.status == gates.PASS and g.now == f"{n}/{n} ok"


def test_reliability_failure_fails(run_dir, baseline_dir, settings):
    (run_dir / "reliability.json").write_text(json.dumps({"passed": 3, "failed": 1, "failures": ["unload under load"]}))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "reliability suite") == gates.FAIL


def test_too_few_pairs_fails_not_passes(run_dir, baseline_dir, settings):
    # Keep 3 timing pairs of scull/pread4096 (STATS_MIN_PAIRS is 5): the gate cannot decide, so it FAILS.
    man = json.loads((run_dir / "manifest.json").read_text())
    man["runs"] = [e for e in man["runs"] if not (e.get("workload") == "pread4096" and e.get("pass") == "timing"
                                                    and e["pair"] > 2)]
    (run_dir / "manifest.json").write_text(json.dumps(man))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    g = [g for g in gs if g.gate == "ratio scull/pread4096 throughput C++/C"][0]
    assert g.status == gates.FAIL and "3 usable pairs" in g.detail and "need 5" in g.detail


def test_planted_ten_percent_regression_fails_and_aa_passes(tmp_path, baseline_dir, settings):
    """The issue's acceptance test: +10% cost on one side fails; an unchanged (A/A) run passes.

    12 pairs per cell at about 3% per-pair noise; the gate is Holm-adjusted over every gated ratio.
    """
    slow = write_run(tmp_path / "slow", 2, "slow", ratio_override={("counter", "incr-t1-mutex"): 1 / 1.10})
    gs = gates.evaluate(load_run(baseline_dir), load_run(slow), settings)
    assert _status(gs, "ratio counter/incr-t1-mutex throughput C++/C") == gates.FAIL
    # Nothing else fails (p50 of the same cell may: its latency moved too, but a median of 150
    # synthetic samples per run is noisier than throughput).
    assert {g.gate for g in gs if g.status == gates.FAIL} <= {
        "ratio counter/incr-t1-mutex throughput C++/C", "ratio counter/incr-t1-mutex p50 C++/C"}
    for seed in (3, 4, 5):  # A/A: same truths, new draws
        aa = write_run(tmp_path / f"aa{seed}", seed, "aa")
        gs = gates.evaluate(load_run(baseline_dir), load_run(aa), settings)
        assert not [g for g in gs if g.status == gates.FAIL], gates.table(gs)


def test_missing_cells_never_pass_silently(tmp_path, baseline_dir, settings):
    # A full run without a baseline cell: FAIL.
    full = write_run(tmp_path / "full", 2, "full", drop_cells={("counter", "incr-t2-mutex")})
    gs = gates.evaluate(load_run(baseline_dir), load_run(full), settings)
    g = [g for g in gs if g.gate == "ratio counter/incr-t2-mutex"][0]
    assert g.status == gates.FAIL and "never passes" in g.detail
    # A QUICK run without a non-primary cell: a visible SKIP with the reason.
    quick = write_run(tmp_path / "quick", 2, "quick", quick=True, drop_cells={("counter", "incr-t2-mutex")})
    gs = gates.evaluate(load_run(baseline_dir), load_run(quick), settings)
    g = [g for g in gs if g.gate == "ratio counter/incr-t2-mutex"][0]
    assert g.status == gates.SKIP and "QUICK matrix" in g.detail
    # A QUICK run without a primary cell: FAIL.
    quick = write_run(tmp_path / "quick2", 2, "quick2", quick=True, drop_cells={("lkp_enc", "encrypt")})
    gs = gates.evaluate(load_run(baseline_dir), load_run(quick), settings)
    g = [g for g in gs if g.gate == "ratio lkp_enc/encrypt"][0]
    assert g.status == gates.FAIL and "primary" in g.detail


def test_disturbed_pair_excluded_and_gate_still_decides(tmp_path, baseline_dir, settings):
    new = write_run(tmp_path / "dist", 2, "dist", disturbed={("scull", "pread4096"): [(3, "c"), (8, "cxx")]})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate == "ratio scull/pread4096 throughput C++/C"][0]
    assert g.status == gates.PASS and "n=10" in g.now


def test_no_common_cell_is_unusable(run_dir, baseline_dir, settings):
    man = json.loads((run_dir / "manifest.json").read_text())
    for e in man["runs"]:
        if "workload" in e:
            e["workload"] = "other-" + e["workload"]
        if "benchmarks" in e:
            for m in e["benchmarks"].values():
                m["workload"] = "other-" + m["workload"]
    (run_dir / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(InputError, match="no matrix cell"):
        gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)


def test_cli_regress_exit_codes_and_verdict_file(tmp_path, baseline_dir, capsys):
    good = write_run(tmp_path / "good", 2, "good")
    assert main(["regress", "--run", str(good), "--baseline", str(baseline_dir)]) == 0
    v = json.loads((good / "regress.json").read_text())
    assert v["result"] == "pass" and v["counts"]["FAIL"] == 0 and v["gates"]
    out = capsys.readouterr().out
    assert "ratio scull/pread4096 throughput C++/C" in out and "verdict: PASS" in out

    bad = write_run(tmp_path / "bad", 2, "bad", ratio_override={("scull", "pwrite4096"): 0.5})
    assert main(["regress", "--run", str(bad), "--baseline", str(baseline_dir)]) == 1
    v = json.loads((bad / "regress.json").read_text())
    assert v["result"] == "fail"
    assert any(g["status"] == "FAIL" and "pwrite4096 throughput" in g["gate"] for g in v["gates"])

    assert main(["regress", "--run", str(tmp_path / "nope"), "--baseline", str(baseline_dir)]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["regress", "--run", str(good), "--baseline", str(tmp_path / "nobase")]) == 2
    assert "no baseline run" in capsys.readouterr().err


def test_newest_run_by_finished(tmp_path, monkeypatch, baseline_dir):
    from analysis.load import newest_run
    res = tmp_path / "results"
    write_run(res / "20261120-aaaa", 3, "old", finished="2026-11-20T10:00:00Z")
    write_run(res / "20261121-bbbb", 4, "new", finished="2026-11-21T10:00:00Z")
    write_run(res / "20261122-cccc", 5, "unfinished", finished=None)
    (res / "stray").mkdir()
    d, notes = newest_run(res)
    assert d.name == "20261121-bbbb"
    assert any("unfinished" in n or "finished" in n for n in notes) and any("stray" in n for n in notes)


def test_promote_copies_manifest_files_only(run_dir, tmp_path, baseline_dir):
    dst = tmp_path / "baseline"
    dst.mkdir()
    (dst / "README.md").write_text("kept")
    (dst / "stale.json").write_text("{}")
    (run_dir / "report.md").write_text("rendered, not raw")
    assert main(["promote", str(run_dir), "--to", str(dst)]) == 0
    assert (dst / "README.md").read_text() == "kept" and not (dst / "stale.json").exists()
    assert not (dst / "report.md").exists() and (dst / "raw" / "scull-pread4096-timing-p0-c.json").exists()
    assert load_run(dst).id == load_run(run_dir).id
    # A QUICK run is refused unless asked for.
    man = json.loads((run_dir / "manifest.json").read_text())
    man["quick"] = True
    (run_dir / "manifest.json").write_text(json.dumps(man))
    assert main(["promote", str(run_dir), "--to", str(dst)]) == 2
    assert main(["promote", str(run_dir), "--to", str(dst), "--allow-quick"]) == 0


def test_promote_exact_only_moves_sizes_and_counts_not_timing(run_dir, baseline_dir, capsys):
    """--exact-only: the baseline's modules.json and icount.json become the run's (a QUICK run will do),
    its timing files and id stay, and the manifest says where the exact figures came from."""
    man = json.loads((run_dir / "manifest.json").read_text())
    man["quick"], man["commit"] = True, "feedc0de" * 5
    (run_dir / "manifest.json").write_text(json.dumps(man))
    ic = json.loads((run_dir / "icount.json").read_text())
    ic["comparisons"][0]["driver_insn_per_op"]["c"] += 1  # the change the new baseline is meant to absorb
    (run_dir / "icount.json").write_text(json.dumps(ic))
    raw = sorted((baseline_dir / "raw").iterdir())[0]
    timing_before, base_id = raw.read_bytes(), load_run(baseline_dir).id
    assert main(["promote", str(run_dir), "--to", str(baseline_dir), "--exact-only"]) == 0
    assert json.loads((baseline_dir / "icount.json").read_text()) == ic
    assert (baseline_dir / "modules.json").read_bytes() == (run_dir / "modules.json").read_bytes()
    assert raw.read_bytes() == timing_before and load_run(baseline_dir).id == base_id
    src = json.loads((baseline_dir / "manifest.json").read_text())["exact_from"]
    assert src["run"] == man["id"] and src["commit"] == man["commit"] and src["quick"] is True
    capsys.readouterr()
    main(["regress", "--run", str(run_dir), "--baseline", str(baseline_dir)])
    assert f"instruction counts from run {man['id']} (commit feedc0defeed" in capsys.readouterr().out


@pytest.mark.parametrize("spoil, says", [
    (lambda m, ic: m["env"].update(kernel="6.12.117+deb12-amd64"), "depend on the kernel release"),
    (lambda m, ic: m.pop("icount"), "has no icount"),
    (lambda m, ic: ic.update(ok=False, problems=["window 3 truncated"]), "window 3 truncated"),
])
def test_promote_exact_only_refuses(run_dir, baseline_dir, capsys, spoil, says):
    man = json.loads((run_dir / "manifest.json").read_text())
    ic = json.loads((run_dir / "icount.json").read_text())
    spoil(man, ic)
    (run_dir / "manifest.json").write_text(json.dumps(man))
    (run_dir / "icount.json").write_text(json.dumps(ic))
    before = {p.name: p.read_bytes() for p in baseline_dir.iterdir() if p.is_file()}
    assert main(["promote", str(run_dir), "--to", str(baseline_dir), "--exact-only"]) == 2
    assert says in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in baseline_dir.iterdir() if p.is_file()} == before


def test_p99_ratio_is_shown_not_gated_unless_configured(tmp_path, baseline_dir, settings):
    # The moved cell's p99 rises with its throughput loss; by default
    # (REGRESS_RATIO_METRICS = throughput p50 p5) p99 is INFO, never FAIL.
    import dataclasses
    new = write_run(tmp_path / "moved", 2, "moved", ratio_override={("scull", "pread4096"): 0.75})
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    assert settings.ratio_metrics == ("throughput", "p50", "p5")
    assert _status(gs, "ratio scull/pread4096 p99 C++/C") == gates.INFO
    with_p99 = dataclasses.replace(settings, ratio_metrics=("throughput", "p50", "p5", "p99"))
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), with_p99)
    assert _status(gs, "ratio scull/pread4096 p99 C++/C") == gates.FAIL


def test_reliability_figures_loss_fails_and_report_shows_them(run_dir, baseline_dir, settings):
    from analysis import report
    rel = run_dir / "reliability.json"
    doc = json.loads(rel.read_text())
    doc.update({"calls_fuzzed_total": 6000, "faults_injected": 17, "cycles": 3, "lost": 2,
                "calls_fuzzed": {"c/scull": 3000, "cxx/scull": 3000}, "errors_by_errno": {"EFAULT": 9}})
    rel.write_text(json.dumps(doc))
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    assert _status(gs, "reliability: nothing lost") == gates.FAIL
    assert gates.failed(gs)
    report.render(load_run(run_dir), settings)
    md = (run_dir / "report.md").read_text()
    assert "| calls fuzzed | 6,000 |" in md and "| anything lost | 2 |" in md


def test_ratio_regression_by_hand(settings):
    """t = (bad - tau) / sqrt(se_b^2 + se_r^2) with Welch df, one-sided; tau = -ln(1 - 0.03) for throughput."""
    import dataclasses
    import math
    from scipy import stats as sps
    from analysis.stats import PairedResult
    base = PairedResult(20, 1.0, 0.98, 1.02, 0.5, 0.03, 0.045, None, None, mean_log=0.0, se_log=0.01, n_eff=20)
    run = dataclasses.replace(base, mean_log=-0.1, ratio=math.exp(-0.1))
    p, detail = gates.ratio_regression(base, run, settings)
    t = (0.1 + math.log(0.97)) / math.sqrt(2e-4)
    assert p == pytest.approx(sps.t.sf(t, 38))  # df = (2e-4)^2 / (2 * 1e-8 / 19) = 38
    assert "-9.5% against the baseline" in detail
    # The same loss in a latency metric is a gain: no regression; equal ratios: t = -tau / SE = -2.15.
    lat = dataclasses.replace(run, higher_is_better=False)
    assert gates.ratio_regression(dataclasses.replace(base, higher_is_better=False), lat, settings)[0] > 0.999
    assert gates.ratio_regression(base, base, settings)[0] == pytest.approx(sps.t.sf(math.log(0.97) / math.sqrt(2e-4), 38))
    few = dataclasses.replace(run, n_pairs=3)
    p, detail = gates.ratio_regression(base, few, settings)
    assert math.isnan(p) and "run has 3 usable pairs" in detail


def test_power_simulation_runs_the_real_gate(settings):
    """analysis/power.py: a 15% regression over 30 pairs is caught, an A/A run is not (few trials: a smoke check)."""
    import dataclasses
    from analysis.power import gate_fail_rate
    s = dataclasses.replace(settings, resamples=2000)
    assert gate_fail_rate(s, 30, 3, 0.04, 0.0, 0.15, 20, 1, 38) >= 0.9
    assert gate_fail_rate(s, 30, 3, 0.04, 0.0, 0.0, 20, 1, 38) == 0.0


def _rename_cell(run_dir, driver, old, new, selected=None):
    """Rename one cell of a written run (a cell the baseline lacks); selected: the manifest's
    cells_selected (make bench CELLS=)."""
    man = json.loads((run_dir / "manifest.json").read_text())
    for e in man["runs"]:
        if e.get("driver") == driver and e.get("workload") == old:
            e["workload"] = new
        for m in e.get("benchmarks", {}).values():
            if m["driver"] == driver and m["workload"] == old:
                m["workload"] = new
    if selected is not None:
        man["cells_selected"] = selected
    (run_dir / "manifest.json").write_text(json.dumps(man))


def test_a_cell_the_baseline_lacks_is_new_not_gated(tmp_path, baseline_dir, settings):
    # A full run with one cell the baseline does not have: a SKIP row "new, not gated", and the
    # rest of the run gates as before (no error, no pass or fail from the new cell).
    new = write_run(tmp_path / "new", 2, "new")
    _rename_cell(new, "scull", "pwrite4096", "pipe512")
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate == "ratio scull/pipe512"]
    assert len(g) == 1 and g[0].status == gates.SKIP and g[0].detail.startswith("new, not gated"), g
    assert not [g for g in gs if g.gate.startswith("ratio scull/pipe512 ")]  # no metric row gates it
    # the baseline's cell is missing from a full run: that fails, by its own row
    assert [g.gate for g in gs if g.status == gates.FAIL] == ["ratio scull/pwrite4096"]


def test_a_cells_run_of_new_cells_only_is_usable_and_fails_only_on_primary_cells(tmp_path, baseline_dir,
                                                                                   settings, capsys):
    # make bench CELLS=<new cells>: no cell in common with the baseline, yet not unusable input:
    # its cells are "new, not gated", the baseline's non-primary cells "not selected" (SKIP),
    # and the primary cells it did not measure FAIL (a CELLS run never passes the gate).
    new = write_run(tmp_path / "sel", 2, "sel", drop_cells={
        (d, w) for d, w, *_ in SAMPLE_CELLS if (d, w) != ("scull", "pwrite4096")})
    _rename_cell(new, "scull", "pwrite4096", "pipe512", selected=["scull/pipe512"])
    gs = gates.evaluate(load_run(baseline_dir), load_run(new), settings)
    g = [g for g in gs if g.gate == "ratio scull/pipe512"][0]
    assert g.status == gates.SKIP and g.detail.startswith("new, not gated")
    failed = {g.gate for g in gs if g.status == gates.FAIL}
    assert failed == {f"ratio {c}" for c in settings.primary_cells}, gates.table(gs)
    assert all("not selected by CELLS" in g.detail for g in gs if g.status == gates.FAIL)
    skipped = [g for g in gs if g.gate == "ratio counter/incr-t2-mutex"]
    assert skipped and skipped[0].status == gates.SKIP and "CELLS=scull/pipe512" in skipped[0].detail
    assert main(["regress", "--run", str(new), "--baseline", str(baseline_dir)]) == 1
    # without cells_selected the same run is unusable input (exit 2), as before
    man = json.loads((new / "manifest.json").read_text())
    del man["cells_selected"]
    (new / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(InputError, match="no matrix cell"):
        gates.evaluate(load_run(baseline_dir), load_run(new), settings)


def test_a_run_without_operations_leaves_bytes_per_op_to_the_others(run_dir, settings):
    # a stalled run (0 ops: a pingpong whose 0.3 s saw no round trip) has no bytes/op; the cell's
    # median is the other runs', not NaN
    from analysis.compare import compare_run
    man = json.loads((run_dir / "manifest.json").read_text())
    e = next(e for e in man["runs"] if e.get("workload") == "pwrite4096" and e.get("variant") == "cxx"
             and e.get("pass") == "timing")
    doc = json.loads((run_dir / e["file"]).read_text())
    doc["ops"], doc["bytes"], doc["ops_per_s"] = 0, 0, 0.0
    (run_dir / e["file"]).write_text(json.dumps(doc))
    cr = next(c for c in compare_run(load_run(run_dir), settings) if c.workload == "pwrite4096")
    assert cr.bytes_per_op["cxx"] == 4096
