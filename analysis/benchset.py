"""A bench set: one `make bench` over several kernels (analysis/README.md "Kernels and shards").

scripts/bench.sh writes results/<id>/manifest.json of kind "bench-set"
(kernels, shard, machine, commit) and per kernel a run directory
results/<id>/<series>/ in the run format load.py reads.  A plain run
directory (the format before kernels; results/baseline of issue 14) is a
set of one kernel, its series taken from env.kernel.

Baselines are kept per kernel series: results/baseline/<series>/.  A flat
results/baseline/ (one run directory, made before kernels) still serves as
the baseline of its own kernel's series, and only of that one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .load import MANIFEST, _get, read_json
from .shard import kernel_label

SET_KIND = "bench-set"


@dataclass
class KernelRun:
    series: str        # the kernel's name in kmodlab.conf KERNELS (6.1, 6.12): the key of baselines
                       # and of the cross-kernel report; for Debian kernels it is the series
    release: str       # the ABI the guest booted (env.kernel)
    dir: Path          # a run directory (load.load_run)


@dataclass
class BenchSet:
    dir: Path
    id: str
    finished: str | None
    is_set: bool       # False: a plain run directory, a set of one
    kernels: list[KernelRun] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    def by_series(self) -> dict[str, KernelRun]:
        return {k.series: k for k in self.kernels}


def is_set(run_dir: Path) -> bool:
    path = Path(run_dir) / MANIFEST
    return path.is_file() and isinstance(man := read_json(path), dict) and man.get("kind") == SET_KIND


def run_series(run_dir: Path) -> KernelRun:
    """A plain run directory as a KernelRun: its kernel's name as the bench recorded it
    (kernel_name), else the series of env.kernel (runs made before kernels)."""
    w = str(Path(run_dir) / MANIFEST)
    man = read_json(Path(run_dir) / MANIFEST)
    release = _get(_get(man, "env", w, dict), "kernel", w + ".env", str)
    return KernelRun(man.get("kernel_name") or kernel_label(release), release, Path(run_dir))


def load_set(run_dir: Path | str) -> BenchSet:
    """A bench set or a plain run directory, with its kernels' run directories (checked to exist)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory")
    mpath = run_dir / MANIFEST
    if not mpath.is_file():
        raise InputError(f"{mpath}: file not found (a run directory or bench set needs the manifest "
                         "scripts/bench.sh writes)")
    man = read_json(mpath)
    w = str(mpath)
    if not isinstance(man, dict) or man.get("kind") != SET_KIND:
        k = run_series(run_dir)
        return BenchSet(run_dir, _get(man, "id", w, str), man.get("finished"), False, [k], man)
    kernels = []
    for i, k in enumerate(_get(man, "kernels", w, list)):
        wk = f"{w}.kernels[{i}]"
        kr = KernelRun(_get(k, "series", wk, str), _get(k, "release", wk, str), run_dir / _get(k, "dir", wk, str))
        if not (kr.dir / MANIFEST).is_file():
            raise InputError(f"{wk}: kernel {kr.series} has no run directory {kr.dir} with a {MANIFEST} "
                             "(the bench stopped before that kernel?)")
        kernels.append(kr)
    if not kernels:
        raise InputError(f"{w}: 'kernels' is empty: the set holds no run")
    if len({k.series for k in kernels}) != len(kernels):
        raise InputError(f"{w}: a kernel series appears twice in 'kernels'")
    return BenchSet(run_dir, _get(man, "id", w, str), man.get("finished"), True, kernels, man)


def baseline_for(root: Path, series: str) -> Path | None:
    """The baseline run directory of a kernel series under a baseline root, or None.

    root/<series>/ when it exists; else a flat root (a plain run directory,
    the pre-kernel layout) when its own kernel is of that series.
    """
    sub = Path(root) / series
    if (sub / MANIFEST).is_file():
        return sub
    if (Path(root) / MANIFEST).is_file() and not is_set(root):
        if run_series(root).series == series:
            return Path(root)
    return None


def baseline_series(root: Path) -> list[str]:
    """The kernel series a baseline root has a baseline for (per-series folders and a flat legacy one)."""
    root = Path(root)
    out = set()
    if root.is_dir():
        out |= {d.name for d in root.iterdir() if (d / MANIFEST).is_file()}
    if (root / MANIFEST).is_file() and not is_set(root):
        out.add(run_series(root).series)
    return sorted(out)
