"""The exact BPF count gate: 0 <= BPF - kmodlab-load ops <= threads x calls per op, nothing lost."""
import json

from analysis import gates
from analysis.load import load_run

GATE = "BPF counts agree (opslat vs kmodlab-load, no drops)"


def _edit(run_dir, name, fn):
    p = run_dir / "raw" / name
    doc = json.loads(p.read_text())
    fn(doc)
    p.write_text(json.dumps(doc))
    return doc


def _gate(baseline_dir, run_dir, settings):
    gs = gates.evaluate(load_run(baseline_dir), load_run(run_dir), settings)
    hits = [g for g in gs if g.gate == GATE]
    assert len(hits) == 1
    return hits[0]


def test_exact_counts_pass(run_dir, baseline_dir, settings):
    assert _gate(baseline_dir, run_dir, settings).status == gates.PASS


def test_one_event_lost_fails(run_dir, baseline_dir, settings):
    # BPF never counts fewer than kmodlab-load issued: one missing call is a lost event.
    def undercount(doc):
        doc["bpf"]["opslat"][0]["count"] = doc["ops"] - 1
    _edit(run_dir, "scull-pwrite4096-bpf-p1-c.json", undercount)
    g = _gate(baseline_dir, run_dir, settings)
    assert g.status == gates.FAIL
    assert "scull-pwrite4096-bpf-p1-c" in g.detail and "difference -1 outside [0, 1]" in g.detail


def test_in_flight_excess_passes(run_dir, baseline_dir, settings):
    # counter incr at 2 threads: up to 2 warm-up writes still in the kernel at the clear.
    def excess(doc):
        assert doc["threads"] == 2
        doc["bpf"]["opslat"][0]["count"] = doc["ops"] + 2
    _edit(run_dir, "counter-incr-t2-mutex-bpf-p1-c.json", excess)
    assert _gate(baseline_dir, run_dir, settings).status == gates.PASS


def test_excess_beyond_in_flight_bound_fails(run_dir, baseline_dir, settings):
    def excess(doc):
        doc["bpf"]["opslat"][0]["count"] = doc["ops"] + 3
    _edit(run_dir, "counter-incr-t2-mutex-bpf-p1-c.json", excess)
    g = _gate(baseline_dir, run_dir, settings)
    assert g.status == gates.FAIL and "difference +3 outside [0, 2]" in g.detail


def test_recursion_misses_are_drops(run_dir, baseline_dir, settings):
    def missed(doc):
        doc["bpf"]["prog_stats"][0]["recursion_misses"] = 2
    _edit(run_dir, "scull-pwrite4096-bpf-p1-cxx.json", missed)
    g = _gate(baseline_dir, run_dir, settings)
    assert g.status == gates.FAIL and "missed 2 runs (recursion_misses)" in g.detail


def test_encrypt_bound_is_three_ioctls_per_thread():
    from analysis.compare import syscalls_per_op
    from analysis.load import LoadgenRun
    r = LoadgenRun(file="x", driver="lkp_enc", workload="w", variant="c", rep=1, params={}, expect_errors=[],
                   device=None, op="mix", threads=2, sync=None, ops=10, ops_per_s=1.0, bytes_per_s=None,
                   latency={}, histogram=[], errors={}, check_enabled=False, check_ok=True, check_detail="",
                   bpf=None, per_op={"encrypt": 5, "ioctl:LKP_ENC_IOC_READ_SEED": 2})
    assert syscalls_per_op(r) == {"ioctl": 3}
