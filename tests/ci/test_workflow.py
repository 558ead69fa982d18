"""The CI workflow .github/workflows/bench.yml cannot run here: check that it is valid YAML of the
GitHub Actions shape we rely on, and that every command it calls exists in this checkout."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / ".github/workflows/bench.yml"
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def wf():
    doc = yaml.safe_load(WF.read_text())
    # YAML 1.1 reads the bare key `on` as True
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def runs(job) -> list[str]:
    return [s["run"] for s in job["steps"] if "run" in s]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*)\s*:(?!=)", text, flags=re.M))


def test_shape(wf):
    assert "workflow_dispatch" in wf["on"]
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert {"shards", "quick", "kernels_per_job"} <= set(inputs)
    jobs = wf["jobs"]
    assert set(jobs) == {"plan", "shard", "merge"}
    assert jobs["shard"]["needs"] == "plan" and jobs["merge"]["needs"] == "shard"
    m = jobs["shard"]["strategy"]["matrix"]
    assert set(m) == {"shard", "kernel"}  # the matrix is shard x kernel
    assert "needs.plan.outputs.shards" in m["shard"] and "needs.plan.outputs.kernels" in m["kernel"]
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    for name, job in jobs.items():
        assert job["container"] == "debian:12", name  # the lab's platform


def test_artifacts_flow_from_shards_to_merge(wf):
    up = [s for s in wf["jobs"]["shard"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    down = [s for s in wf["jobs"]["merge"]["steps"] if s.get("uses", "").startswith("actions/download-artifact")]
    assert len(up) == 1 and len(down) == 1
    assert up[0]["with"]["name"].startswith("shard-") and down[0]["with"]["pattern"] == "shard-*"
    assert up[0]["with"]["path"] == "${{ env.BENCH_OUT }}" and "BENCH_OUT" in wf["jobs"]["shard"]["env"]
    assert "BENCH_OUT" in (ROOT / "scripts/bench.sh").read_text()  # bench.sh honours it
    merge = " ".join(runs(wf["jobs"]["merge"]))
    assert down[0]["with"]["path"] == "results/shards" and "merge results/shards/*/" in merge


def test_make_commands_exist(wf):
    targets = make_targets()
    mk = (ROOT / "Makefile").read_text()
    seen = set()
    for job in wf["jobs"].values():
        for cmd in runs(job):
            for line in cmd.splitlines():
                words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", line)) if line.strip() else []
                if words[:1] == ["make"]:
                    tgt = [w for w in words[1:] if "=" not in w]
                    assert tgt and set(tgt) <= targets, f"{line}: unknown make target(s) among {tgt}"
                    seen |= set(tgt)
                    for var in (w.split("=")[0] for w in words[1:] if "=" in w):
                        assert f"$({var})" in mk, f"{line}: make variable {var} is not used by the Makefile"
    assert {"bench", "report", "regress"} <= seen


def test_bench_passes_shard_and_kernel():
    mk = (ROOT / "Makefile").read_text()
    recipe = mk[mk.index("\nbench:"):].split("\n\n")[0]
    assert "SHARD=$(SHARD)" in recipe and "KERNEL=$(KERNEL)" in recipe and "scripts/bench.sh" in recipe


def test_analysis_merge_command_exists():
    from analysis.__main__ import parser
    args = parser().parse_args(["merge", "a", "b", "--out", "c"])
    assert args.cmd == "merge" and args.runs == ["a", "b"] and args.out == "c"


def test_scripts_it_calls_exist_and_answer(wf):
    text = WF.read_text()
    for rel in set(re.findall(r"\b(scripts/[\w./-]+)", text)):
        p = ROOT / rel
        assert p.exists(), rel
    out = subprocess.run([str(ROOT / "scripts/conf.sh"), "kernels"], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out, "scripts/conf.sh kernels printed no kernel"
    pk = [ln for ln in (ROOT / "scripts/packages.txt").read_text().splitlines() if ln.startswith("python3-")]
    assert {"python3-numpy", "python3-scipy", "python3-matplotlib"} <= set(pk)
