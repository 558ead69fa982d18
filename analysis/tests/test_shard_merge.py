"""Sharding (analysis/shard.py, scripts/bench_matrix.py --shard/--list) and analysis merge."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import benchset, load, merge
from analysis.__main__ import main
from analysis.errors import InputError
from analysis.shard import Shard, kernel_label, parse_shard, shard_cells, shard_of

from shard_samples import MACHINE_A, MACHINE_B, MATRIX, patch, write_shard

ROOT = Path(__file__).resolve().parents[2]
NAMES = [f"drv{i % 3}/w{i}" for i in range(23)]


# --- the partition -----------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 23, 30])
def test_partition_disjoint_complete_balanced(n):
    parts = [shard_cells(NAMES, Shard(i, n)) for i in range(1, n + 1)]
    flat = [c for p in parts for c in p]
    assert sorted(flat) == sorted(NAMES)            # complete, and no cell twice (disjoint)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1             # balanced


def test_partition_deterministic_and_order_free():
    a = shard_of(NAMES, 3)
    assert shard_of(list(reversed(NAMES)), 3) == a  # a function of the cell names, not of their order
    assert shard_of(NAMES, 3) == a
    # each shard lists its cells in the matrix's own order
    assert shard_cells(NAMES, Shard(2, 3)) == [c for c in NAMES if a[c] == 2]


def test_partition_refuses_duplicate_cells():
    with pytest.raises(InputError, match="duplicate"):
        shard_of(["a/b", "a/b"], 2)


@pytest.mark.parametrize("text,want", [("1/2", Shard(1, 2)), (" 2 / 2 ", Shard(2, 2)), ("", Shard(1, 1)),
                                       (None, Shard(1, 1))])
def test_parse_shard(text, want):
    assert parse_shard(text) == want


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "2", "a/b", "1/2/3"])
def test_parse_shard_refuses(text):
    with pytest.raises(InputError, match="SHARD"):
        parse_shard(text)


def test_kernel_label():
    assert kernel_label("6.1.0-57-amd64") == "6.1"
    assert kernel_label("6.12.117+deb12-amd64") == "6.12"
    with pytest.raises(InputError):
        kernel_label("linux")


def _listed(*args) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "scripts/bench_matrix.py"), "--list", "--json", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("quick", [True, False])
def test_bench_matrix_shards_give_the_unsharded_cells(quick):
    """The real matrix (bench_matrix.py --list): shards 1/2 and 2/2 together are exactly the unsharded run's
    cells, disjoint; likewise for 3 shards."""
    q = ["--quick"] if quick else []
    whole = _listed(*q)
    assert whole["cells"] == whole["matrix"] and len(whole["cells"]) >= 5
    for n in (2, 3):
        parts = [_listed(*q, "--shard", f"{i}/{n}")["cells"] for i in range(1, n + 1)]
        assert sorted(c for p in parts for c in p) == sorted(whole["cells"])
        assert all(p for p in parts)  # no empty shard for these N


def test_bench_matrix_refuses_bad_shard():
    res = subprocess.run([sys.executable, str(ROOT / "scripts/bench_matrix.py"), "--list", "--shard", "3/2"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "shard index must be in 1..2" in res.stderr


# --- merge ------------------------------------------------------------------------------
@pytest.fixture
def two_shards(tmp_path):
    a = write_shard(tmp_path / "s1", Shard(1, 2), machine=MACHINE_A, seed=1)
    b = write_shard(tmp_path / "s2", Shard(2, 2), machine=MACHINE_B, seed=2)
    return a, b


def test_merge_two_machines(tmp_path, two_shards, settings):
    out = merge.merge(list(two_shards), tmp_path / "merged")
    bs = benchset.load_set(out)
    assert [k.series for k in bs.kernels] == ["6.1"]
    run = load.load_run(bs.kernels[0].dir)  # the analysis accepts it
    from analysis.compare import cell_pairs, compare_run
    assert sorted(f"{d}/{w}" for d, w in cell_pairs(run)) == sorted(MATRIX)
    man = json.loads((bs.kernels[0].dir / "manifest.json").read_text())
    # every (input, boot) its own block; every cell's runs from one machine
    blocks = {(b["source_id"], b["source_boot"]): b["boot"] for b in man["blocks"]}
    assert len(set(blocks.values())) == len(blocks) == 4
    by_cell = {}
    for e in man["runs"]:
        if e["kind"] == "loadgen":
            by_cell.setdefault(f"{e['driver']}/{e['workload']}", set()).add(e["machine"])
    assert all(len(v) == 1 for v in by_cell.values()) and len(set().union(*by_cell.values())) == 2
    # a boot number (block) of the merged run belongs to one machine: shard 1's boot 0 is not shard 2's
    machine_of_boot = {}
    for e in man["runs"]:
        if e["kind"] == "loadgen":
            machine_of_boot.setdefault(e["boot"], set()).add(e["machine"])
    assert len(machine_of_boot) == 4 and all(len(v) == 1 for v in machine_of_boot.values())
    for cr in compare_run(run, settings):  # no pair spans machines: both runs of a pair carry one machine tag
        for p in cr.pairs:
            assert p.c.file.split("/")[0] == p.x.file.split("/")[0]
    assert {m["host"] for m in man["machines"]} == {"runner-a", "runner-b"}


def test_merged_run_report_and_regress(tmp_path, two_shards, baseline_dir, capsys):
    out = tmp_path / "merged"
    assert main(["merge", *map(str, two_shards), "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").is_file() and (out / "6.1" / "report.md").is_file()
    assert "merged from 2 shard(s)" in (out / "6.1" / "report.md").read_text()
    # baseline-small is a flat 6.1 baseline (kernel 6.1.0-56): it serves as the 6.1 one
    rc = main(["regress", "--run", str(out), "--baseline", str(baseline_dir)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert json.loads((out / "regress.json").read_text())["kernels"][0]["result"] == "pass"


def _refused(tmp_path, inputs, match):
    with pytest.raises(InputError, match=match):
        merge.merge(list(inputs), tmp_path / "merged")
    assert not (tmp_path / "merged").exists()  # nothing half-written


def test_merge_refuses_overlap(tmp_path, two_shards):
    a, _ = two_shards
    c = write_shard(tmp_path / "s1again", Shard(1, 2), machine=MACHINE_B, seed=3)
    _refused(tmp_path, [a, c], "in two inputs")


def test_merge_refuses_missing_shard(tmp_path, two_shards):
    _refused(tmp_path, [two_shards[0]], r"missing shard\(s\) 2/2")


def test_merge_refuses_other_commit(tmp_path, two_shards):
    b = write_shard(tmp_path / "s2x", Shard(2, 2), machine=MACHINE_B, seed=2, commit="badbad")
    _refused(tmp_path, [two_shards[0], b], "differ in 'commit'")


def test_merge_refuses_other_settings(tmp_path, two_shards):
    _, b = two_shards
    patch(b / "6.1" / "manifest.json", lambda m: m["design"].update(pairs_per_boot=7))
    _refused(tmp_path, two_shards, "differ in 'design'")


def test_merge_refuses_other_shard_count(tmp_path, two_shards):
    c = write_shard(tmp_path / "t2", Shard(2, 3), machine=MACHINE_B, seed=2)
    _refused(tmp_path, [two_shards[0], c], "shards of one bench share N")


def test_merge_refuses_other_kernel_release(tmp_path, two_shards):
    _, b = two_shards
    patch(b / "6.1" / "manifest.json", lambda m: m["env"].update(kernel="6.1.0-58-amd64"))
    _refused(tmp_path, two_shards, r"env.kernel")


def test_merge_refuses_cells_outside_the_partition(tmp_path, two_shards):
    _, b = two_shards
    patch(b / "6.1" / "manifest.json", lambda m: m.update(cells=m["cells"][:-1]))
    _refused(tmp_path, two_shards, "not a shard of this bench")


def test_merge_refuses_a_split_pair(tmp_path, two_shards):
    """C and C++ of a cell belong to one shard: a C++ run moved to the other shard is refused."""
    a, b = two_shards
    ma = json.loads((a / "6.1" / "manifest.json").read_text())
    moved = [e for e in ma["runs"] if e["kind"] == "loadgen" and e["variant"] == "cxx"][0]
    patch(a / "6.1" / "manifest.json", lambda m: m["runs"].remove(moved))
    patch(b / "6.1" / "manifest.json", lambda m: m["runs"].append(moved))
    _refused(tmp_path, two_shards, "outside its shard")


def test_merge_refuses_unfinished(tmp_path, two_shards):
    _, b = two_shards
    patch(b / "6.1" / "manifest.json", lambda m: m.pop("finished"))
    _refused(tmp_path, two_shards, "did not finish")


def test_merge_refuses_differing_module_reports(tmp_path, two_shards):
    _, b = two_shards
    patch(b / "6.1" / "modules.json", lambda m: m["modules"]["scull_c"]["sizes"].update(text=1))
    _refused(tmp_path, two_shards, "modules file .* differs")


def test_merge_refuses_existing_out(tmp_path, two_shards):
    (tmp_path / "merged").mkdir()
    with pytest.raises(InputError, match="exists"):
        merge.merge(list(two_shards), tmp_path / "merged")


def test_merge_kernels_as_shard_dimension(tmp_path):
    """CI's matrix shard x kernel: four inputs, each one kernel and one shard, give a set of two kernels."""
    ins = [write_shard(tmp_path / f"k{k}s{i}", Shard(i, 2), kernels=(k,), machine=m, seed=10 * i + j)
           for j, (k, m) in enumerate((("6.1", MACHINE_A), ("6.12", MACHINE_B))) for i in (1, 2)]
    out = merge.merge(ins, tmp_path / "merged")
    assert [k.series for k in benchset.load_set(out).kernels] == ["6.1", "6.12"]


def test_merge_cli_error_is_exit_2(tmp_path, two_shards, capsys):
    assert main(["merge", str(two_shards[0]), "--out", str(tmp_path / "m")]) == 2
    assert "missing shard" in capsys.readouterr().err
