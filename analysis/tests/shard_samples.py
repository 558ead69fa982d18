"""Synthetic shards and bench sets (make bench SHARD=i/N, several kernels) built from samples.write_run.

A shard is a bench set (manifest kind "bench-set") with one run directory
per kernel series, each a samples.write_run run that keeps only the
shard's cells (analysis/shard.py) and records shard, machine, commit,
matrix and cells as scripts/bench_matrix.py does.
"""
from __future__ import annotations

import json
from pathlib import Path

from analysis.shard import Shard, shard_cells

import samples

MATRIX = [f"{d}/{w}" for d, w, *_ in samples.CELLS]
MACHINE_A = {"host": "runner-a", "id": "aaaaaaaaaaaaaaaa", "id_source": "/etc/machine-id"}
MACHINE_B = {"host": "runner-b", "id": "bbbbbbbbbbbbbbbb", "id_source": "/etc/machine-id"}
RELEASES = {"6.1": "6.1.0-57-amd64", "6.12": "6.12.117+deb12-amd64", "rust": "6.12.117-kmodlab-rust"}


def patch(path: Path, fn) -> None:
    """Rewrite a JSON file through fn(doc) (fn edits in place)."""
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc, indent=1))


def write_shard(d: Path, shard: Shard, kernels=("6.1",), machine=None, seed: int = 1, commit: str = "c0ffee",
                ratio_override: dict | None = None, per_kernel_ratio: dict | None = None, cells=None,
                quick: bool = False, finished: str = "2026-11-30T12:00:00Z", per_kernel_rust: dict | None = None,
                **kw) -> Path:
    """One shard's bench set at d.  per_kernel_ratio: {series: ratio_override for that kernel};
    per_kernel_rust: {series: samples.write_run's rust= for that kernel (its C/Rust pairs)}."""
    machine = machine or MACHINE_A
    mine = shard_cells(MATRIX, shard) if cells is None else list(cells)
    drop = tuple(tuple(c.split("/")) for c in MATRIX if c not in mine)
    entries = []
    for i, series in enumerate(kernels):
        kd = d / series
        ro = {**(ratio_override or {}), **(per_kernel_ratio or {}).get(series, {})}
        samples.write_run(kd, seed + 100 * i, f"{d.name}-{series}", ratio_override=ro, drop_cells=drop, quick=quick,
                          finished=finished, rust=(per_kernel_rust or {}).get(series), **kw)

        def fields(m, series=series):
            m["env"] = dict(m["env"], kernel=RELEASES[series], host=machine["host"])
            m.update(kernel=RELEASES[series], commit=commit, shard=shard.as_json(), machine=machine,
                     matrix=MATRIX, cells=mine)
        patch(kd / "manifest.json", fields)
        entries.append({"series": series, "release": RELEASES[series], "dir": series})
    (d / "manifest.json").write_text(json.dumps({
        "kind": "bench-set", "version": 1, "id": d.name, "started": "2026-11-30T11:00:00Z", "quick": quick,
        "commit": commit, "machine": machine, "shard": shard.as_json(), "kernels": entries, "finished": finished},
        indent=1))
    return d
