"""Wakeup latency in BPF-pass runs (analysis/wakelat.py): parsing of bpf.wakeup (load.py),
the per-cell rows C beside C++ with the paired ratio, the relations column and the report section."""
import pytest

from analysis import report, wakelat
from analysis.conf import Settings
from analysis.errors import InputError
from analysis.load import Bpf, BpfOp, BpfWake, Env, LoadgenRun, Run, _bpf


def _hist(ns, n):
    """All n values in one 3.1%-wide bucket starting at ns."""
    return [(float(ns), float(ns) * 33 / 32, n)]


def _pingpong(variant, lat_ns, ops=1000, pair=None, boot=0, first="c", back_sleeps=None):
    """A pingpong BPF-pass run: both reads of every round trip sleep and are woken after lat_ns."""
    back = ops if back_sleeps is None else back_sleeps
    out, ret = f"/dev/scullpipe-{variant}0", f"/dev/scullpipe-{variant}1"
    bpf = Bpf(opslat=[BpfOp(out, "read", ops, 0.0, [], {}), BpfOp(ret, "read", ops, 0.0, [], {})],
              lockstat=[], dropped=0, prog_stats=[],
              wakeup=[BpfWake(out, "read", ops, ops, 0, _hist(lat_ns, ops)),
                      BpfWake(ret, "read", back, back, 2, _hist(lat_ns, back) if back else [])])
    return LoadgenRun(file=f"pingpong-{variant}-{pair}", driver="scullpipe", workload="pingpong512",
                      variant=variant, rep=pair or 1, params={}, expect_errors=[], device=out, op="pingpong",
                      threads=2, sync=None, ops=ops, ops_per_s=1.0, bytes_per_s=None, latency={}, histogram=[],
                      errors={}, check_enabled=False, check_ok=True, check_detail="", bpf=bpf,
                      pass_="bpf", pair=pair, first=first, boot=boot)


def _run_of(*runs):
    return Run(dir=None, id="t", started=None, finished=None, quick=True, env=Env("k", "tcg", 2), loadgen=list(runs))


def _pairs(c_ns, cxx_ns, k=4):
    runs = []
    for i in range(1, k + 1):
        runs += [_pingpong("c", c_ns, pair=i, boot=i % 2), _pingpong("cxx", cxx_ns, pair=i, boot=i % 2)]
    return runs


def test_rows_give_wakeups_per_op_percentiles_and_the_paired_ratio():
    rows = wakelat.wake_rows(_run_of(*_pairs(20000, 22000)), Settings.defaults())
    assert len(rows) == 1
    r = rows[0]
    assert (r.driver, r.workload, r.op) == ("scullpipe", "pingpong512", "read")
    assert r.n == {"c": 4, "cxx": 4}
    assert r.per_op == {"c": 2.0, "cxx": 2.0}   # two blocked reads per round trip, both pipes merged
    assert r.p50 == {"c": 20000.0, "cxx": 22000.0}
    assert r.paired is not None and r.paired.n_pairs == 4
    assert r.paired.ratio == pytest.approx(1.1, rel=1e-9)
    assert r.kept == 8 and r.failures == []


def test_a_run_breaking_the_relations_is_named():
    runs = _pairs(20000, 20000, k=2) + [_pingpong("cxx", 20000, pair=9, back_sleeps=1004)]
    r = wakelat.wake_rows(_run_of(*runs), Settings.defaults())[0]
    assert r.kept == 4
    assert "pingpong-cxx-9" in r.failures[0] and "more than one per read" in r.failures[0]


def test_unpaired_runs_are_descriptive():
    r = wakelat.wake_rows(_run_of(_pingpong("c", 20000), _pingpong("cxx", 21000)), Settings.defaults())[0]
    assert r.paired is None


def test_runs_without_wakeup_figures_give_no_section():
    run = _pingpong("c", 20000)
    run.bpf.wakeup = None
    assert wakelat.wake_rows(_run_of(run), Settings.defaults()) == []
    assert report._wakeups(_run_of(run), Settings.defaults()) == []


def test_report_section_shows_c_beside_cxx():
    blocks = report._wakeups(_run_of(*_pairs(20000, 22000)), Settings.defaults())
    text = report.to_markdown(blocks, None)
    assert "Wakeup latency (blocking calls)" in text
    assert "| scullpipe | pingpong512 | read | 4 / 4 | 2 | 2 | 20,000 ns | 22,000 ns |" in text
    assert "1.100 [" in text and "| 8 of 8 | - |" in text


def test_load_reads_wakeup_and_refuses_a_bad_count():
    raw = {"opslat": [], "dropped": 0,
           "wakeup": [{"device": "/dev/scullpipe-c0", "op": "read", "count": 3, "sleeps": 3, "woke_running": 0,
                       "histogram": [[1000, 1031, 3]]}]}
    b = _bpf(raw, "x.json")
    w = b.wakeup[0]
    assert (w.device, w.op, w.count, w.sleeps, w.woke_running) == ("/dev/scullpipe-c0", "read", 3, 3, 0)
    assert [tuple(x) for x in w.histogram] == [(1000, 1031, 3)]
    assert _bpf({"opslat": [], "dropped": 0}, "x.json").wakeup is None
    raw["wakeup"][0]["sleeps"] = "3"
    with pytest.raises(InputError, match=r"wakeup\[0\].*sleeps"):
        _bpf(raw, "x.json")


@pytest.mark.parametrize("op,own_sc", [("pingpong", "write"), ("pipe", "read")])
def test_bpf_counts_are_checked_on_the_runs_own_node(op, own_sc):
    """kmodlab-load --bpf on a paired run traces the other pipe too (pingpong's return pipe: the echoer's
    write and the pinger's read): the exact-count check counts the measured syscall on the run's own
    node only; counted over both nodes it would see every call twice."""
    from analysis.compare import bpf_count_mismatches
    r = _pingpong("c", 20000, ops=1000)
    r.op, r.per_op = op, {op: 1000}
    out, ret = "/dev/scullpipe-c0", "/dev/scullpipe-c1"
    r.bpf.opslat = [BpfOp(out, "read", 1001, 0.0, [], {}), BpfOp(out, "write", 1001, 0.0, [], {}),
                    BpfOp(ret, "read", 1000, 0.0, [], {}), BpfOp(ret, "write", 1000, 0.0, [], {})]
    assert bpf_count_mismatches(_run_of(r)) == []
    r.bpf.opslat[0 if own_sc == "read" else 1] = BpfOp(out, own_sc, 990, 0.0, [], {})  # 10 calls lost
    assert any(f"BPF counted 990 {own_sc} calls" in x for x in bpf_count_mismatches(_run_of(r)))
