"""Several kernels in one bench: the cross-kernel comparison, the set report, baselines per kernel."""
from __future__ import annotations

import json
import shutil

import pytest

from analysis import benchset, merge
from analysis.__main__ import main
from analysis.crosskernel import compare_kernels
from analysis.load import load_run
from analysis.shard import Shard

from shard_samples import MACHINE_A, MACHINE_B, write_shard

WHOLE = Shard(1, 1)
PLANT = {"6.12": {("scull", "pwrite4096"): 1.0}}  # 6.1 keeps the sample's 0.80: C++ 1.25x faster on 6.12


def _rows(d, settings):
    bs = benchset.load_set(d)
    return compare_kernels({k.series: load_run(k.dir) for k in bs.kernels}, settings)


def test_cross_kernel_finds_a_planted_variant_change(tmp_path, settings):
    d = write_shard(tmp_path / "set", WHOLE, kernels=("6.1", "6.12"), per_kernel_ratio=PLANT)
    rows, notes = _rows(d, settings)
    assert not notes
    by = {(r.cell, r.metric, r.side): r for r in rows}
    cxx = by[("scull/pwrite4096", "throughput", "cxx")]
    assert cxx.ref == "6.1" and cxx.other == "6.12"
    assert 1.15 < cxx.ratio < 1.35 and cxx.ci_low > 1.0 and cxx.verdict == "6.12 faster"
    assert by[("scull/pwrite4096", "throughput", "ratio")].verdict == "C++/C better on 6.12"
    assert by[("scull/pwrite4096", "throughput", "c")].verdict == "no significant difference"
    # every unplanted row stays quiet (Holm over the whole family)
    quiet = [r for r in rows if r.cell != "scull/pwrite4096" or r.side == "c"]
    assert all(r.verdict == "no significant difference" for r in quiet), [
        (r.cell, r.metric, r.side, r.p_holm) for r in quiet if r.verdict != "no significant difference"]
    # the family: 5 cells x {C, C++, C++/C} x 3 gated metrics
    assert sum(1 for r in rows) == 5 * 3 * 3


def test_cross_kernel_never_divides_two_machines(tmp_path, settings):
    """Kernels sharded apart (6.1 on one machine, 6.12 on another): no row, a note per cell."""
    ins = [write_shard(tmp_path / f"k{k}", WHOLE, kernels=(k,), machine=m, seed=s)
           for k, m, s in (("6.1", MACHINE_A, 1), ("6.12", MACHINE_B, 2))]
    out = merge.merge(ins, tmp_path / "merged")
    rows, notes = _rows(out, settings)
    assert rows == [] and len(notes) == 5 and all("different machines" in n for n in notes)


def test_cross_kernel_within_machines_after_merge(tmp_path, settings):
    """Both kernels of a cell on one machine (shards split cells, not kernels): compared."""
    ins = [write_shard(tmp_path / f"s{i}", Shard(i, 2), kernels=("6.1", "6.12"), machine=m, seed=i,
                       per_kernel_ratio=PLANT) for i, m in ((1, MACHINE_A), (2, MACHINE_B))]
    out = merge.merge(ins, tmp_path / "merged")
    rows, notes = _rows(out, settings)
    assert not notes and len(rows) == 45
    assert any(r.cell == "scull/pwrite4096" and r.side == "cxx" and r.verdict == "6.12 faster" for r in rows)


def test_set_report(tmp_path, capsys):
    d = write_shard(tmp_path / "set", WHOLE, kernels=("6.1", "6.12"), per_kernel_ratio=PLANT)
    assert main(["report", str(d)]) == 0
    md = (d / "report.md").read_text()
    assert "C++ against C per kernel" in md and "Each variant across kernels" in md
    assert "6.12/6.1" in md and "Holm family: 45 cross-kernel tests" in md and "two-level" in md
    assert (d / "6.1" / "report.md").is_file() and (d / "6.12" / "report.html").is_file()
    summ = json.loads((d / "summary.json").read_text())
    assert summ["schema"] == "kmodlab-set-summary/1" and set(summ["kernels"]) == {"6.1", "6.12"}
    assert summ["cross_kernel"]["family"]["size"] == 45


# --- baselines per kernel ---------------------------------------------------------------------
@pytest.fixture
def base_root(tmp_path, baseline_dir):
    """A baseline root as the repository has it before kernels: one flat run (kernel 6.1.0-56), a README."""
    root = tmp_path / "baseline"
    shutil.copytree(baseline_dir, root)
    (root / "README.md").write_text("kept")
    return root


def test_flat_baseline_serves_its_own_series_only(base_root):
    assert benchset.baseline_for(base_root, "6.1") == base_root
    assert benchset.baseline_for(base_root, "6.12") is None
    assert benchset.baseline_series(base_root) == ["6.1"]


def test_regress_per_kernel_and_promote(tmp_path, base_root, capsys):
    two = write_shard(tmp_path / "two", WHOLE, kernels=("6.1", "6.12"), seed=5)
    # 6.12 has no baseline yet: a visible FAIL, never a silent pass
    assert main(["regress", "--run", str(two), "--baseline", str(base_root)]) == 1
    out = capsys.readouterr().out
    assert "kernel 6.12" in out and "no baseline for this kernel" in out
    v = json.loads((two / "regress.json").read_text())
    assert [(k["series"], k["result"]) for k in v["kernels"]] == [("6.1", "pass"), ("6.12", "fail")]

    # promote the set: one baseline per series; the flat 6.1 baseline is replaced, README kept
    assert main(["promote", str(two), "--to", str(base_root)]) == 0
    assert (base_root / "6.1" / "manifest.json").is_file() and (base_root / "6.12" / "manifest.json").is_file()
    assert not (base_root / "manifest.json").exists() and not (base_root / "raw").exists()
    assert (base_root / "README.md").read_text() == "kept"
    assert benchset.baseline_series(base_root) == ["6.1", "6.12"]

    again = write_shard(tmp_path / "again", WHOLE, kernels=("6.1", "6.12"), seed=6)
    assert main(["regress", "--run", str(again), "--baseline", str(base_root)]) == 0

    # a regression on one kernel fails that kernel only
    bad = write_shard(tmp_path / "bad", WHOLE, kernels=("6.1", "6.12"), seed=7,
                      per_kernel_ratio={"6.12": {("scull", "pwrite4096"): 0.5}})
    assert main(["regress", "--run", str(bad), "--baseline", str(base_root)]) == 1
    v = json.loads((bad / "regress.json").read_text())
    assert [(k["series"], k["result"]) for k in v["kernels"]] == [("6.1", "pass"), ("6.12", "fail")]

    # KERNEL=6.1: the 6.12 baseline is not gated, and the output says so
    capsys.readouterr()
    one = write_shard(tmp_path / "one", WHOLE, kernels=("6.1",), seed=8)
    assert main(["regress", "--run", str(one), "--baseline", str(base_root)]) == 0
    assert "kernel 6.12: SKIP" in capsys.readouterr().out


def test_promote_refuses_quick_set(tmp_path, base_root, capsys):
    q = write_shard(tmp_path / "q", WHOLE, kernels=("6.1", "6.12"), quick=True)
    assert main(["promote", str(q), "--to", str(base_root)]) == 2
    assert "QUICK" in capsys.readouterr().err
    assert (base_root / "manifest.json").is_file()  # nothing replaced


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}



def _spoil(kdir, **icount):
    """Take away a set's kernel run's instruction counts (no icount: a run made with ICOUNT=0), or spoil them."""
    man = json.loads((kdir / "manifest.json").read_text())
    if not icount:
        man.pop("icount")
    else:
        ic = json.loads((kdir / man["icount"]).read_text())
        (kdir / man["icount"]).write_text(json.dumps(ic | icount))
    (kdir / "manifest.json").write_text(json.dumps(man))


def test_promote_exact_only_checks_every_kernel_of_a_set_first(tmp_path, base_root, capsys):
    """A set whose second kernel is refused changes no baseline, not even the first kernel's;
    once both kernels qualify, both baselines take the set's exact figures and keep their timing."""
    assert main(["promote", str(write_shard(tmp_path / "full", WHOLE, kernels=("6.1", "6.12"), seed=5)),
                 "--to", str(base_root)]) == 0
    before = _tree(base_root)
    for i, spoil in enumerate(({}, {"ok": False, "problems": ["window 3 truncated"]})):
        ex = write_shard(tmp_path / f"ex{i}", WHOLE, kernels=("6.1", "6.12"), seed=6, quick=True)
        kernels = benchset.load_set(ex).kernels
        assert [k.series for k in kernels] == ["6.1", "6.12"]  # 6.1 is checked first
        dirs = {k.series: k.dir for k in kernels}
        _spoil(dirs["6.12"], **spoil)
        capsys.readouterr()
        assert main(["promote", str(ex), "--to", str(base_root), "--exact-only"]) == 2
        assert ("has no icount" if not spoil else "window 3 truncated") in capsys.readouterr().err
        assert _tree(base_root) == before
    ok = write_shard(tmp_path / "ok", WHOLE, kernels=("6.1", "6.12"), seed=6, quick=True)
    assert main(["promote", str(ok), "--to", str(base_root), "--exact-only"]) == 0
    for k in benchset.load_set(ok).kernels:
        man = json.loads((base_root / k.series / "manifest.json").read_text())
        assert man["exact_from"]["run"] == load_run(k.dir).id and man["exact_from"]["quick"] is True
        raws = [p for p in before if p.parts[0] == k.series and p.parts[1] == "raw"]
        assert raws and all((base_root / p).read_bytes() == before[p] for p in raws)  # timing kept
