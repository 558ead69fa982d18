"""python3 -m analysis merge RUN... --out DIR: shards of one bench joined into one run.

Each input is a bench set (or a plain run directory) made by
`make bench SHARD=i/N` (optionally KERNEL=...).  The merge refuses, naming
the inputs and what differs:

* a mismatch of what was measured: commit, QUICK, settings, design, the
  whole matrix, the shard count, and per kernel the release, accel, guest
  CPUs, compiler and QEMU (a ratio from one and a ratio from the other would
  not be the same experiment);
* overlapping cells (a cell of one kernel in two inputs), missing cells
  (the union of a kernel's shards is not the matrix), and a shard whose
  cells are not the ones the partition rule (analysis/shard.py) gives it;
* differing deterministic figures (module report, icount) of one kernel;
* an unfinished input.

The output is a bench set with one run directory per kernel: every input's
files under part<k>/, every entry re-rooted and tagged with its machine and
shard, and the boots renumbered so that each (input, boot) is a block of its
own: the two-level statistics (analysis/stats.py) then treat every machine,
and every boot on it, as its own block.  C and C++ of a pair, and all pairs
of a cell, come from one input by the partition rule, so no ratio divides
numbers from two machines.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .benchset import SET_KIND, KernelRun, load_set
from .errors import InputError
from .load import MANIFEST, read_json
from .shard import Shard, machine_key, shard_cells

# Manifest keys every input of a merge must agree on (per kernel run).
SAME = ("commit", "quick", "settings", "design", "matrix")
SAME_ENV = ("kernel", "accel", "cpus", "compiler", "qemu_version")
SHARD_FIELDS = ("shard", "machine", "commit", "matrix", "cells")


class Part:
    """One input's run of one kernel."""

    def __init__(self, k: int, source: Path, kr: KernelRun):
        self.k, self.source, self.kr = k, source, kr
        self.man = read_json(kr.dir / MANIFEST)
        w = f"{kr.dir / MANIFEST}"
        missing = [f for f in SHARD_FIELDS if f not in self.man]
        if missing:
            raise InputError(f"{w}: no {', '.join(missing)}: made before sharding (or by hand); "
                             "re-run it with make bench SHARD=i/N")
        if not self.man.get("finished"):
            raise InputError(f"{w}: no 'finished' stamp: the shard did not finish; re-run it")
        sh = self.man["shard"]
        self.shard = Shard(int(sh["index"]), int(sh["count"]))
        self.cells = list(self.man["cells"])

    @property
    def name(self) -> str:
        return f"{self.source} (kernel {self.kr.series}, shard {self.shard}, machine {self.machine_label})"

    @property
    def machine_label(self) -> str:
        m = self.man.get("machine") or {}
        return f"{m.get('host', '?')}/{machine_key(m)}"


def _parts(inputs: list[Path]) -> dict[str, list[Part]]:
    """series -> the inputs' runs of that kernel, in input order."""
    if len(inputs) < 1:
        raise InputError("merge: give at least one run")
    if len({p.resolve() for p in inputs}) != len(inputs):
        raise InputError("merge: the same run is given twice")
    by: dict[str, list[Part]] = {}
    k = 0
    for src in inputs:
        bs = load_set(src)
        if bs.is_set and not bs.finished:
            raise InputError(f"{src}/{MANIFEST}: no 'finished' stamp: the shard did not finish; re-run it")
        for kr in bs.kernels:
            by.setdefault(kr.series, []).append(Part(k, src, kr))
            k += 1
    return by


def _check_same(parts: list[Part]) -> None:
    first = parts[0]
    for p in parts[1:]:
        for key in SAME:
            if p.man.get(key) != first.man.get(key):
                raise InputError(f"merge: {p.name} and {first.name} differ in '{key}' "
                                 f"({json.dumps(p.man.get(key))[:200]} vs {json.dumps(first.man.get(key))[:200]}): "
                                 "shards of one bench must run the same commit, settings and matrix")
        if p.shard.count != first.shard.count:
            raise InputError(f"merge: {p.name} is one of {p.shard.count} shards, {first.name} one of "
                             f"{first.shard.count}: shards of one bench share N")
        for key in SAME_ENV:
            a, b = p.man["env"].get(key), first.man["env"].get(key)
            if a != b:
                raise InputError(f"merge: {p.name} and {first.name} differ in env.{key} ({a!r} vs {b!r}): "
                                 "not the same experiment")


def _check_cells(series: str, parts: list[Part]) -> None:
    """Disjoint, complete, and each shard holding exactly the cells the partition gives it."""
    matrix = parts[0].man["matrix"]
    owner: dict[str, Part] = {}
    for p in parts:
        want = shard_cells(matrix, p.shard)
        if sorted(p.cells) != sorted(want):
            raise InputError(f"merge: {p.name} recorded cells {p.cells}, but shard {p.shard} of this matrix is "
                             f"{want} (analysis/shard.py): not a shard of this bench")
        ran = {f"{e['driver']}/{e['workload']}" for e in p.man["runs"] if e.get("kind") == "loadgen"}
        if not ran <= set(p.cells):
            raise InputError(f"merge: {p.name} has runs of cells outside its shard: {sorted(ran - set(p.cells))}")
        for c in p.cells:
            if c in owner:
                raise InputError(f"merge: cell {c} of kernel {series} is in two inputs: {owner[c].name} and "
                                 f"{p.name} (overlapping shards; give each shard once)")
            owner[c] = p
    missing = [c for c in matrix if c not in owner]
    if missing:
        n = parts[0].shard.count
        absent = sorted({Shard(i, n) for i in range(1, n + 1)} - {p.shard for p in parts}, key=lambda s: s.index)
        raise InputError(f"merge: kernel {series}: cells {missing} are in no input; missing shard(s) "
                         f"{', '.join(map(str, absent)) or '?'} of {n}")


def _same_file(parts: list[Part], key: str, series: str) -> Part | None:
    """The one part whose manifest names `key` (modules, icount); all that have it must agree."""
    have = [p for p in parts if p.man.get(key)]
    if not have:
        return None
    ref = read_json(have[0].kr.dir / have[0].man[key])
    for p in have[1:]:
        if read_json(p.kr.dir / p.man[key]) != ref:
            raise InputError(f"merge: kernel {series}: {key} file of {p.name} differs from {have[0].name}: "
                             "deterministic figures must agree between shards (different build or compiler?)")
    return have[0]


def _reliability(parts: list[Part], out: Path) -> str | None:
    """Distinct reliability summaries, summed (one machine attaching the same file twice counts once)."""
    docs = []
    for p in parts:
        if p.man.get("reliability"):
            d = read_json(p.kr.dir / p.man["reliability"])
            if d not in [x for _, x in docs]:
                docs.append((p, d))
    if not docs:
        return None
    merged = {"passed": sum(d["passed"] for _, d in docs), "failed": sum(d["failed"] for _, d in docs),
              "failures": [f"[{p.machine_label}] {f}" for p, d in docs for f in d.get("failures", [])],
              "merged_from": [str(p.kr.dir / p.man["reliability"]) for p, _ in docs]}
    if any("lost" in d for _, d in docs):
        merged["lost"] = sum(d.get("lost", 0) for _, d in docs)
    (out / "reliability.json").write_text(json.dumps(merged, indent=1) + "\n")
    return "reliability.json"


def _rerooted(entry: dict, prefix: str, p: Part, boot_of: dict) -> dict:
    e = dict(entry, file=f"{prefix}/{entry['file']}")
    if e.get("kind") == "loadgen":
        e["machine"] = machine_key(p.man.get("machine"))
        e["shard"] = str(p.shard)
        if e.get("boot") is not None:
            e["boot"] = boot_of[(p.k, e["boot"])]
    return e


def merge_kernel(series: str, parts: list[Part], out: Path, out_id: str) -> dict:
    """One kernel's merged run directory; returns its entry for the set manifest."""
    _check_same(parts)
    _check_cells(series, parts)
    mods = _same_file(parts, "modules", series)
    ic = _same_file(parts, "icount", series)
    out.mkdir(parents=True)
    first = parts[0].man
    boot_of, blocks, boots_done, runs, probe = {}, [], [], [], []
    for p in parts:
        prefix = f"part{p.k}"
        shutil.copytree(p.kr.dir, out / prefix, ignore=shutil.ignore_patterns("figures", "report.*", "summary.json",
                                                                               "regress.json"))
        boots = sorted({e["boot"] for e in p.man["runs"] if e.get("boot") is not None}
                       | {b["boot"] for b in p.man.get("boots_done", [])})
        for b in boots:
            boot_of[(p.k, b)] = len(blocks)
            blocks.append({"boot": len(blocks), "source": str(p.source), "source_id": p.man.get("id"),
                           "source_boot": b, "shard": str(p.shard), "machine": p.man.get("machine")})
        for bd in p.man.get("boots_done", []):
            boots_done.append(dict(bd, boot=boot_of[(p.k, bd["boot"])], machine=machine_key(p.man.get("machine"))))
        runs += [_rerooted(e, prefix, p, boot_of) for e in p.man["runs"]]
        for pe in p.man.get("probe_effect") or []:
            probe.append(dict(pe, bpf_off=[f"{prefix}/{f}" for f in pe["bpf_off"]],
                              bpf_on=[f"{prefix}/{f}" for f in pe["bpf_on"]]))
    hosts = sorted({(p.man.get("machine") or {}).get("host", "?") for p in parts})
    man = {"id": f"{out_id}/{series}", "started": min(p.man.get("started", "") for p in parts),
           "finished": max(p.man["finished"] for p in parts), "quick": first.get("quick", False),
           "env": dict(first["env"], host=", ".join(hosts)), "kernel": first.get("kernel"),
           "commit": first["commit"], "shard": {"index": 1, "count": 1}, "matrix": first["matrix"],
           "cells": list(first["matrix"]), "settings": first.get("settings"), "design": first["design"],
           "machine": None, "machines": _machines(parts), "merged_from": [
               {"source": str(p.source), "id": p.man.get("id"), "shard": str(p.shard),
                "machine": p.man.get("machine"), "cells": p.cells} for p in parts],
           "blocks": blocks, "boots_done": boots_done, "runs": runs, "probe_effect": probe}
    if mods is not None:
        man["modules"] = f"part{mods.k}/{mods.man['modules']}"
    if ic is not None:
        man["icount"] = f"part{ic.k}/{ic.man['icount']}"
    rel = _reliability(parts, out)
    if rel:
        man["reliability"] = rel
    (out / MANIFEST).write_text(json.dumps(man, indent=1) + "\n")
    return {"series": series, "release": first["env"]["kernel"], "dir": series}


def _machines(parts: list[Part]) -> list[dict]:
    seen, out = set(), []
    for p in parts:
        key = machine_key(p.man.get("machine"))
        if key not in seen:
            seen.add(key)
            out.append(dict(p.man.get("machine") or {}, key=key))
    return out


def merge(inputs: list[Path], out: Path) -> Path:
    """Check everything, then write the merged bench set to `out` (which must not exist)."""
    inputs = [Path(p) for p in inputs]
    if out.exists():
        raise InputError(f"merge: {out} exists; give a new directory (--out)")
    by = _parts(inputs)
    for series, parts in by.items():  # every check before anything is written
        _check_same(parts)
        _check_cells(series, parts)
        _same_file(parts, "modules", series)
        _same_file(parts, "icount", series)
    commits = {p.man["commit"] for ps in by.values() for p in ps}
    if len(commits) > 1:
        raise InputError(f"merge: the inputs ran different commits {sorted(commits)}: shards of one bench run one")
    quick = {bool(p.man.get("quick")) for ps in by.values() for p in ps}
    if len(quick) > 1:
        raise InputError("merge: some inputs are QUICK runs and some are not")
    out.mkdir(parents=True)
    try:
        kernels = [merge_kernel(s, ps, out / s, out.name) for s, ps in sorted(by.items(), key=_series_order)]
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    allp = [p for ps in by.values() for p in ps]
    set_man = {"kind": SET_KIND, "version": 1, "id": out.name, "started": min(p.man.get("started", "") for p in allp),
               "quick": quick.pop(), "commit": commits.pop(), "machine": None, "machines": _machines(allp),
               "shard": {"index": 1, "count": 1}, "merged_from": [str(p) for p in inputs],
               "kernels": kernels, "finished": max(p.man["finished"] for p in allp)}
    (out / MANIFEST).write_text(json.dumps(set_man, indent=1) + "\n")
    return out


def _series_order(item) -> tuple:
    return tuple(int(x) for x in item[0].split(".") if x.isdigit())
