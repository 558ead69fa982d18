"""Files captured from the real tools in the guest (scull_c, kmodlab-load --bpf --check, fio 3.33).

The synthetic samples follow analysis/README.md; these pin the formats the
tools actually write, so a schema change in loadgen/ or bpf/ shows up here
as a clear failure rather than in a broken report after a 30-minute bench.
"""
import shutil

from analysis.compare import bpf_count_mismatches, expected_syscalls, kernel_ops
from analysis.load import Env, Run, load_fio, load_loadgen
from conftest import DATA

REAL = DATA / "real"


def test_real_kmodlab_load_file(tmp_path):
    shutil.copy(REAL / "kmodlab-load-scull-read.json", tmp_path / "x.json")
    entry = {"file": "x.json", "driver": "scull", "workload": "read4096", "variant": "c", "rep": 1, "pass": "bpf"}
    r = load_loadgen(tmp_path, entry, "manifest.runs[0]")
    assert r.ops > 0 and r.ops_per_s > 0 and r.threads == 1
    assert 0 < r.latency["p50"] <= r.latency["p99"]
    assert sum(n for _, _, n in r.histogram) == r.ops
    assert r.check_enabled and r.check_ok and r.per_op == {"read": r.ops}
    # Recorded before scull's full transfers (issue 18), when a read stopped at the end of
    # its 4000-byte quantum: the file's bytes are what moved, not what "4096" asked for.
    assert r.bytes_per_op == 4000
    assert r.bpf is not None and r.bpf.dropped == 0
    # The run's syscall is read; the check's pread64 and the close are not its workload.
    assert expected_syscalls(r) == {"read": r.ops}
    assert [o.op for o in kernel_ops(r)] == ["read"]
    run = Run(dir=tmp_path, id="real", started=None, finished=None, quick=True,
              env=Env("6.1.0-56-amd64", "tcg", 2), loadgen=[r])
    assert bpf_count_mismatches(run) == []


def test_fio_job_selection(tmp_path):
    import json
    import pytest
    from analysis.errors import InputError
    doc = json.loads((REAL / "fio-scull-read.json").read_text())
    one = doc["jobs"][0]
    prefill = dict(one, jobname="prefill-c", read=dict(one["read"], iops=99999.0))
    other = dict(one, jobname="scull-read-4k-j1-cxx", read=dict(one["read"], iops=123.0))
    doc["jobs"] = [prefill, dict(one, jobname="scull-read-4k-j1-c"), other]
    (tmp_path / "scull.json").write_text(json.dumps(doc))
    e = {"file": "scull.json", "driver": "scull", "workload": "pread4096", "variant": "cxx", "rep": 1,
         "job": "scull-read-4k-j1-cxx"}
    assert load_fio(tmp_path, e, "m").ops_per_s == 123.0
    with pytest.raises(InputError, match=r"no job named 'nope'"):
        load_fio(tmp_path, dict(e, job="nope"), "m")


def test_real_fio_file(tmp_path):
    shutil.copy(REAL / "fio-scull-read.json", tmp_path / "f.json")
    f = load_fio(tmp_path, {"file": "f.json", "driver": "scull", "workload": "read4096", "variant": "c", "rep": 1},
                 "manifest.runs[1]")
    # A read moves at most the block size (the file predates full transfers, when scull's
    # reads also stopped at quantum boundaries; now only at the end of the data).
    assert f.ops_per_s > 0 and 0 < f.bytes_per_s <= 4096 * f.ops_per_s * 1.001
    assert f.p50_ns is not None and f.p99_ns is not None and f.p50_ns <= f.p99_ns


def test_real_kmod_report():
    """scripts/kmod-report.sh --json of the six real modules (fops_tables and extra tables trimmed)."""
    from analysis.load import load_modules
    mr = load_modules(REAL / "kmod-report.json")
    names = {m.name for m in mr.modules}
    assert names == {f"{d}_{v}" for d in ("scull", "counter", "lkp_enc") for v in ("c", "cxx")}
    for m in mr.modules:
        assert m.text > 0 and m.max_stack > 0 and m.max_stack_function
    assert mr.parity_ok is True and mr.problems == []
    assert {d["driver"] for d in mr.dispatch} == {"scull", "counter", "lkp_enc"}
