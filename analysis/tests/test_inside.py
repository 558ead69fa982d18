"""Inside the driver (analysis/inside.py): the drivers' tracepoints in BPF-pass runs,
their parsing (load.py), the per-phase rows C beside C++, the event rates, the
cross-check summary and the report section."""
import math

import pytest

from analysis import inside, report
from analysis.conf import Settings
from analysis.errors import InputError
from analysis.load import Bpf, BpfTrace, Env, LoadgenRun, Run, SetupTrace, _bpf, _setup

LKP_EVENTS = ("lkp_enc_seed_write", "lkp_enc_string_write", "lkp_enc_string_read")


def _hist(ns, n=100):
    """A BPF-like histogram with all n values in one 3.1%-wide bucket starting at ns."""
    return [(float(ns), float(ns) * 33 / 32, n)]


def _lkp(variant, w2r_ns, s2w_ns=800, ops=100, pair=None, boot=0, first="c", check=None):
    m = BpfTrace(module=f"lkp_enc_{variant}", driver="lkp_enc", variant=variant,
                 events={e: ops for e in LKP_EVENTS},
                 phases={"seed_to_write": _hist(s2w_ns, ops), "write_to_read": _hist(w2r_ns, ops)},
                 sequence={"encrypts": ops, "out_of_order": 0, "no_slot": 0})
    return _run("lkp_enc", "encrypt", variant, m, ops, pair, boot, first, check)


def _run(driver, workload, variant, trace, ops, pair=None, boot=0, first="c", check=None):
    return LoadgenRun(file=f"{driver}-{workload}-{variant}-{pair}", driver=driver, workload=workload,
                      variant=variant, rep=pair or 1, params={}, expect_errors=[], device=None, op=workload,
                      threads=1, sync=None, ops=ops, ops_per_s=1.0, bytes_per_s=None, latency={}, histogram=[],
                      errors={}, check_enabled=check is not None, check_ok=True, check_detail="",
                      bpf=Bpf(opslat=[], lockstat=[], dropped=0, prog_stats=[],
                              trace_events=[] if trace is None else [trace]),
                      pass_="bpf", pair=pair, first=first, boot=boot, trace_check=check)


def _run_of(*runs):
    return Run(dir=None, id="t", started=None, finished=None, quick=True, env=Env("k", "tcg", 2), loadgen=list(runs))


def test_phase_p50_paired_gives_the_ratio_with_ci():
    runs = []
    for k, (c, x) in enumerate([(10000, 11000), (12000, 13200), (9000, 9900), (11000, 12100)], start=1):
        runs += [_lkp("c", c, pair=k, boot=k % 2), _lkp("cxx", x, pair=k, boot=k % 2, first="cxx" if k % 2 else "c")]
    rows = {r.phase: r for r in inside.phase_rows(_run_of(*runs), Settings.defaults())}
    w = rows["write_to_read"]
    assert w.n == {"c": 4, "cxx": 4}
    assert w.p50 == {"c": 10500.0, "cxx": 11550.0}
    assert w.paired is not None and w.paired.n_pairs == 4
    assert w.paired.ratio == pytest.approx(1.1, rel=1e-9)  # every pair 10% slower in C++
    assert w.paired.ci_low <= 1.1 <= w.paired.ci_high
    s = rows["seed_to_write"]
    assert s.paired.ratio == pytest.approx(1.0)


def test_phase_without_pairs_is_descriptive():
    run = _run_of(_lkp("c", 10000), _lkp("c", 12000), _lkp("cxx", 11000))
    w = {r.phase: r for r in inside.phase_rows(run, Settings.defaults())}["write_to_read"]
    assert w.paired is None and "descriptive" in w.note
    assert w.p50 == {"c": 11000.0, "cxx": 11000.0}


def test_event_rates_per_thousand_ops():
    scull = BpfTrace(module="scull_c", driver="scull", variant="c",
                     events={"scull_read": 500, "scull_write": 500, "scull_qset_alloc": 2}, phases={},
                     sequence={"alloc_then_write": 2, "alloc_no_write": 0})
    rows = {(r.event): r for r in inside.event_rows(_run_of(_run("scull", "mix", "c", scull, 1000)))}
    assert rows["scull_read"].per_kop["c"] == 500.0
    assert rows["scull_qset_alloc"].per_kop["c"] == 2.0
    assert rows["alloc_then_write"].per_kop["c"] == 2.0
    assert math.isnan(rows["scull_read"].per_kop["cxx"]) and rows["scull_read"].n["cxx"] == 0


def test_crosscheck_counts_checked_passed_and_failures():
    run = _run_of(_lkp("c", 1000, check={"checked": True, "ok": True, "detail": "8 figures"}),
                  _lkp("c", 1000, pair=2, check={"checked": True, "ok": False, "detail": "out_of_order = 1"}),
                  _lkp("c", 1000, pair=3, check={"checked": False, "ok": None, "detail": "interrupted: not checked"}),
                  _lkp("c", 1000, pair=4))
    (row,) = inside.crosscheck_rows(run)
    assert (row.runs, row.checked, row.passed) == (4, 2, 1)
    assert row.failures == ["lkp_enc-encrypt-c-2: out_of_order = 1"]
    assert row.not_checked == ["interrupted: not checked", "run without --check"]


def test_load_reads_trace_events_and_refuses_a_bad_count():
    raw = {"opslat": [], "dropped": 0, "trace_events": [
        {"module": "lkp_enc_c", "driver": "lkp_enc", "variant": "c",
         "events": {"lkp_enc_seed_write": 3}, "sequence": {"encrypts": 3},
         "phases": {"write_to_read": {"count": 3, "histogram": [[1000, 1032, 3]], "percentiles": {}}}}]}
    (t,) = _bpf(raw, "f.bpf").trace_events
    assert t.events == {"lkp_enc_seed_write": 3} and t.phases["write_to_read"] == [(1000.0, 1032.0, 3)]
    assert _bpf({"opslat": [], "dropped": 0}, "f.bpf").trace_events == []
    raw["trace_events"][0]["events"]["lkp_enc_seed_write"] = -1
    with pytest.raises(InputError, match="events.lkp_enc_seed_write"):
        _bpf(raw, "f.bpf")


def _texts(blocks):
    out = []
    for b in blocks:
        out.append(getattr(b, "text", ""))
        for row in getattr(b, "rows", []):
            out.append(" | ".join(row))
    return "\n".join(out)


def test_report_section_shows_phases_events_and_checks():
    runs = []
    for k in range(1, 4):
        runs += [_lkp("c", 10000, pair=k, check={"checked": True, "ok": True, "detail": "ok"}),
                 _lkp("cxx", 11000, pair=k, check={"checked": True, "ok": True, "detail": "ok"})]
    text = _texts(report._inside(_run_of(*runs), Settings.defaults()))
    assert "Inside the driver" in text
    assert "lkp_enc | encrypt | write_to_read | 3 / 3 | 10,000 ns | 11,000 ns | 1.100 [" in text
    assert "the whole MMIO exchange" in text
    assert "lkp_enc | encrypt | encrypts | 3 / 3 | 1,000 | 1,000" in text
    assert "lkp_enc | C | 3 | 3 | 3 | 0 | 0 | - | -" in text


def test_report_section_says_when_no_run_traced():
    text = _texts(report._inside(_run_of(_run("scull", "read", "c", None, 10)), Settings.defaults()))
    assert "No run carried the drivers' tracepoint data" in text


def _scull(variant, alloc, expected_alloc, writes=16, pair=1, setup_check=None):
    """A scull BPF-pass run whose set-up allocated `alloc` quantum sets where its plan expected `expected_alloc`."""
    m = BpfTrace(module=f"scull_{variant}", driver="scull", variant=variant,
                 events={"scull_read": 100, "scull_write": 0, "scull_qset_alloc": 0, "scull_qset_free": 0,
                         "scull_trim": 0}, phases={}, sequence={"alloc_then_write": 0, "alloc_no_write": 0})
    r = _run("scull", "pread4096", variant, m, 100, pair=pair,
             check={"checked": True, "ok": True, "detail": "7 figures"})
    r.setup = SetupTrace(emptied=True, prefill_bytes=1 << 20, prefill_writes=writes,
                         events={"scull_trim": 1, "scull_qset_alloc": alloc, "scull_qset_free": 3,
                                 "scull_write": writes, "scull_read": 0, "alloc_then_write": alloc,
                                 "alloc_no_write": 0, "no_slot": 0},
                         expected={"scull_trim": (1, 1), "scull_qset_alloc": (expected_alloc, expected_alloc),
                                   "alloc_then_write": (expected_alloc, expected_alloc), "alloc_no_write": (0, 0),
                                   "scull_write": (writes, writes), "scull_read": (0, 0), "no_slot": (0, 0)})
    r.setup_check = setup_check
    return r


def test_setup_rows_put_counted_beside_expected_c_beside_cxx():
    run = _run_of(_scull("c", 1, 1), _scull("c", 1, 1, pair=2), _scull("cxx", 2, 1), _scull("cxx", 1, 1, pair=2))
    rows = {r.figure: r for r in inside.setup_rows(run)}
    a = rows["scull_qset_alloc"]
    assert (a.driver, a.workload, a.n) == ("scull", "pread4096", {"c": 2, "cxx": 2})
    assert a.counted == {"c": "1", "cxx": "1-2"} and a.expected == {"c": "1", "cxx": "1"}
    assert rows["scull_qset_free"].expected == {"c": "-", "cxx": "-"}  # not predicted
    assert rows["scull_qset_free"].counted["c"] == "3"
    assert "scull_read" not in rows and "alloc_no_write" not in rows  # zero everywhere, expected zero


def test_setup_check_is_tallied_apart():
    ok = {"checked": True, "ok": True, "detail": "7 figures exactly"}
    bad = {"checked": True, "ok": False, "detail": "1 finding(s); first: scull_qset_alloc = 2, expected [1, 1]"}
    run = _run_of(_scull("c", 1, 1, setup_check=ok), _scull("c", 2, 1, pair=2, setup_check=bad),
                  _scull("c", 1, 1, pair=3))
    (row,) = inside.crosscheck_rows(run)
    assert (row.runs, row.checked, row.passed, row.setup_checked, row.setup_passed) == (3, 3, 3, 2, 1)
    assert row.failures == ["scull-pread4096-c-2: set-up: " + bad["detail"]]
    assert row.not_checked == []  # the run without a set-up record predates it: not a reason


def test_load_reads_the_setup_and_refuses_a_bad_range():
    raw = {"emptied": True, "prefill_bytes": 1048576, "prefill_writes": 16, "geometry": {"quantum": 4000,
           "qset": 1000}, "trace_events": {"scull_qset_alloc": 1},
           "expected": [{"figure": "scull_qset_alloc", "lo": 1, "hi": 1, "why": "one per set"}], "not_modelled": None}
    st = _setup(raw, "f.setup")
    assert st.events == {"scull_qset_alloc": 1} and st.expected == {"scull_qset_alloc": (1, 1)}
    assert _setup(None, "f.setup") is None
    raw["expected"][0]["hi"] = 0
    with pytest.raises(InputError, match="f.setup.expected"):
        _setup(raw, "f.setup")


def test_report_section_shows_the_setup():
    ok = {"checked": True, "ok": True, "detail": "7 figures exactly"}
    run = _run_of(_scull("c", 1, 1, setup_check=ok), _scull("cxx", 1, 1, setup_check=ok))
    text = _texts(report._inside(run, Settings.defaults()))
    assert "scull | pread4096 | scull_qset_alloc | 1 / 1 | 1 | 1 | 1 | 1" in text
    assert "scull | C | 1 | 1 | 1 | 1 | 1 | - | -" in text
