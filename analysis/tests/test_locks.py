"""Lock rows: grouped by workload, C beside C++ per lock, no mangled C++ symbol in the report."""
import json

from analysis.compare import lock_label, lock_pairs, lock_rows, readable_symbol
from analysis.load import Bpf, BpfLock, Env, LoadgenRun, Run, load_run


def _run(workload, variant, locks, ops=1000, rep=1):
    return LoadgenRun(file=f"{workload}-{variant}-{rep}", driver="scull", workload=workload, variant=variant,
                      rep=rep, params={}, expect_errors=[], device=None, op="pread", threads=2, sync=None, ops=ops,
                      ops_per_s=1.0, bytes_per_s=None, latency={}, histogram=[], errors={}, check_enabled=False,
                      check_ok=True, check_detail="", bpf=Bpf(opslat=[], lockstat=locks, dropped=0, prog_stats=[]))


def _lock(name, count, total, kind="semaphore", context="task"):
    return BpfLock(lock=name, kind=kind, count=count, total_ns=total, max_ns=total, context=context)


def test_same_op_different_workloads_do_not_merge():
    run = Run(dir=None, id="t", started=None, finished=None, quick=True, env=Env("k", "tcg", 2), loadgen=[
        _run("pread64", "c", [_lock("<heap>#00000001", 10, 1000.0)]),
        _run("pread4096", "c", [_lock("<heap>#00000002", 300, 90000.0)])])
    rows = {r.workload: r for r in lock_rows(run)}
    assert set(rows) == {"pread64", "pread4096"}
    assert rows["pread64"].contentions_per_kop == 10.0 and rows["pread4096"].contentions_per_kop == 300.0
    assert rows["pread4096"].wait_ns_per_op == 90.0


def test_c_and_cxx_twin_locks_share_a_row_and_irq_waits_are_apart():
    run = Run(dir=None, id="t", started=None, finished=None, quick=True, env=Env("k", "tcg", 2), loadgen=[
        _run("inc", "c", [_lock("counter_c_spinlock [counter_c]", 4, 400.0, "spinlock"),
                          _lock("counter_c_spinlock [counter_c]", 1, 50.0, "spinlock", "irq")]),
        _run("inc", "cxx", [_lock("counter_cxx_spinlock [counter_cxx]", 6, 1200.0, "spinlock")])])
    pairs = {p.lock: p for p in lock_pairs(run)}
    assert set(pairs) == {"counter_<v>_spinlock", "counter_<v>_spinlock (in interrupts)"}
    p = pairs["counter_<v>_spinlock"]
    assert p.per_kop == {"c": 4.0, "cxx": 6.0} and p.wait_ns_per_op == {"c": 0.4, "cxx": 1.2}
    irq = pairs["counter_<v>_spinlock (in interrupts)"]
    assert irq.per_kop == {"c": 1.0, "cxx": 0.0}  # C++ had none in interrupts: 0, not missing


def test_mangled_names_never_shown():
    assert readable_symbol("_ZL19kcxx_module_storage+0x40 [counter_cxx]") == "kcxx_module_storage+0x40 [counter_cxx]"
    assert readable_symbol("_ZN12_GLOBAL__N_15stateE") == "_GLOBAL__N_1::state"
    assert lock_label(_lock("_ZL19kcxx_module_storage [counter_cxx]", 1, 1.0, "mutex")) == "kcxx_module_storage"


def test_report_has_no_mangled_symbol(run_dir):
    from analysis.__main__ import main
    p = run_dir / "raw" / "counter-incr-t2-mutex-bpf-p1-cxx.json"
    doc = json.loads(p.read_text())
    doc["bpf"]["lockstat"][0]["lock"] = "_ZL19kcxx_module_storage [counter_cxx]"
    p.write_text(json.dumps(doc))
    assert main(["report", str(run_dir)]) == 0
    text = (run_dir / "report.md").read_text()
    assert "kcxx_module_storage" in text and "_ZL" not in text
    assert "contentions / 1000 ops C" in text
