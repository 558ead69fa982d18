"""Settings of the analysis: thresholds of the regression gate, statistics knobs.

They live in one place: the defaults below, each overridable by a key of the
same name in kmodlab.conf (the lab's one configuration file) and, as with
scripts/conf.sh, by a non-empty environment variable of that name.  The
environment wins so that a one-off ``REGRESS_RATIO_THRESHOLD=0.2 make regress``
needs no edit.

kmodlab.conf format: ``KEY = value`` lines, ``#`` starts a comment line; the
last assignment of a key wins (as in make and scripts/conf.sh).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

# key -> (default, type, meaning).  README.md documents the same table.
DEFAULTS: dict[str, tuple[object, type, str]] = {
    "REGRESS_RATIO_THRESHOLD": (0.03, float,
        "margin of the ratio gate: a cell fails when its C++/C ratio is significantly (one-sided "
        "REGRESS_ALPHA) worse than the baseline's by more than this fraction"),
    "REGRESS_ALPHA": (0.05, float,
        "one-sided level of the ratio gate's test of 'worse than the baseline by more than the margin'"),
    "REGRESS_RATIO_METRICS": ("throughput p50", str,
        "the metrics whose C++/C ratio gates (the others are shown as INFO): p99 of a short run "
        "under TCG is set by host scheduling of the vCPU threads, not by the driver"),
    "REGRESS_SIZE_TOLERANCE": (0.05, float,
        "a module's text+data+rodata+bss may grow by this fraction over the baseline"),
    "REGRESS_STACK_TOLERANCE": (0.10, float,
        "a module's largest stack frame may grow by this fraction over the baseline"),
    "REGRESS_BPF_COUNT_TOLERANCE": (0.05, float,
        "allowed |BPF-counted - user-counted| operations per run, as a fraction of the user count "
        "(kmodlab-load clears the BPF maps within 20 ms after its warm-up, so the windows differ slightly)"),
    "REGRESS_ICOUNT_DRIVER_TOLERANCE": (0.005, float,
        "exact instruction counts (make icount): allowed rise of the C++/C driver-instructions-per-op ratio"),
    "REGRESS_ICOUNT_KERNEL_TOLERANCE": (0.01, float,
        "allowed rise of the C++/C whole-kernel-instructions-per-op ratio (core kernel state may shift)"),
    "STATS_MIN_PAIRS": (5, int,
        "fewer usable C/C++ pairs than this: no verdict ('too few pairs'), and the ratio gate fails"),
    "STATS_ALPHA": (0.05, float,
        "family-wise significance level: verdicts use Holm-adjusted exact sign-flip p-values"),
    "STATS_POWER": (0.80, float, "power at which the minimum detectable effect (MDE) is stated"),
    "STATS_DISTURBED_FACTOR": (3.0, float,
        "a run is disturbed (its whole pair excluded) when its throughput is below 1/F of its cell-and-variant "
        "median, its latency above F times it, or its latency floor F times the median floor"),
    "STATS_DISTURBED_FLOOR_PERCENTILE": (5.0, float,
        "the percentile of a run's own latency histogram that is its 'latency floor' for the disturbed-run rule"),
    "BENCH_PRIMARY_CELLS": ("counter/incr-t1-mutex scull/pread4096 lkp_enc/encrypt", str,
        "driver/workload cells the report marks as primary; the ratio gate fails when one is missing, "
        "even in a QUICK run"),
    "STATS_CONFIDENCE": (0.95, float, "confidence level of the bootstrap intervals"),
    "STATS_RESAMPLES": (5000, int, "bootstrap resamples (at least 2000)"),
    "STATS_SEED": (20261123, int, "bootstrap random seed (fixed: reports are reproducible)"),
    "REPORT_AGREE_TOLERANCE": (0.05, float,
        "fio / Google Benchmark agree with kmodlab-load when within this fraction"),
}


def repo_root() -> Path:
    """The repository root: KMODLAB_ROOT (set by the Makefile), else this file's parent's parent."""
    env = os.environ.get("KMODLAB_ROOT")
    return Path(env) if env else Path(__file__).resolve().parent.parent


def parse_conf(path: Path) -> dict[str, str]:
    """All ``KEY = value`` assignments of a kmodlab.conf file (last one wins)."""
    try:
        text = path.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read the configuration file: {e.strerror}") from e
    values: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise InputError(f"{path}:{lineno}: expected 'KEY = value', got {raw!r}")
        key, _, value = line.partition("=")
        # make's ':=' / '?=' are not used in kmodlab.conf; reject rather than misread.
        key = key.strip()
        if not key.replace("_", "").isalnum():
            raise InputError(f"{path}:{lineno}: bad key {key!r}")
        values[key] = value.strip()
    return values


_MISSING = object()


class Conf(dict):
    """Every key of kmodlab.conf (environment wins), for tools such as scripts/bench_matrix.py.

    get(key) without a default raises InputError naming the key and the file
    when the key is missing or empty: an int(None) three frames later says
    nothing about which setting is absent.
    """

    def __init__(self, values: dict[str, str], source: str):
        super().__init__(values)
        self.source = source

    def get(self, key: str, default=_MISSING):
        val = super().get(key, "")
        if val == "":
            if default is _MISSING:
                raise InputError(f"{self.source}: no value for {key} (add '{key} = ...' to kmodlab.conf)")
            return default
        return val


def read_conf(conf_path: Path | None = None, environ: dict[str, str] | None = None) -> Conf:
    """All of kmodlab.conf as strings, a non-empty environment variable of the same name winning."""
    environ = os.environ if environ is None else environ
    if conf_path is None:
        conf_path = Path(environ.get("KMODLAB_CONF") or repo_root() / "kmodlab.conf")
    values = parse_conf(conf_path)
    for key in list(values) + [k for k in DEFAULTS if k not in values]:
        if environ.get(key):
            values[key] = environ[key]
    return Conf(values, str(conf_path))


@dataclass(frozen=True)
class Settings:
    ratio_threshold: float
    ratio_metrics: tuple
    size_tolerance: float
    stack_tolerance: float
    bpf_count_tolerance: float
    icount_driver_tolerance: float
    icount_kernel_tolerance: float
    min_pairs: int
    alpha: float
    confidence: float
    resamples: int
    seed: int
    agree_tolerance: float
    source: str  # where the values came from, shown in reports
    regress_alpha: float = 0.05
    power: float = 0.80
    disturbed_factor: float = 3.0
    floor_percentile: float = 5.0
    primary_cells: tuple = ()

    @staticmethod
    def defaults() -> "Settings":
        return Settings.from_values({}, "built-in defaults")

    @staticmethod
    def from_values(values: dict[str, str], source: str) -> "Settings":
        got = {}
        for key, (default, typ, _) in DEFAULTS.items():
            raw = values.get(key, "")
            if raw == "":
                got[key] = default
                continue
            try:
                got[key] = typ(raw)
            except ValueError as e:
                raise InputError(f"{source}: {key} = {raw!r} is not a valid {typ.__name__}") from e
        if got["STATS_RESAMPLES"] < 2000:
            raise InputError(f"{source}: STATS_RESAMPLES must be at least 2000, got {got['STATS_RESAMPLES']}")
        if not 0 < got["STATS_CONFIDENCE"] < 1 or not 0 < got["STATS_ALPHA"] < 1:
            raise InputError(f"{source}: STATS_CONFIDENCE and STATS_ALPHA must lie in (0, 1)")
        if got["STATS_MIN_PAIRS"] < 3:
            raise InputError(f"{source}: STATS_MIN_PAIRS must be at least 3 (a t quantile needs 2 degrees of freedom)")
        if not 0 < got["STATS_POWER"] < 1 or not 0 < got["REGRESS_ALPHA"] < 1:
            raise InputError(f"{source}: STATS_POWER and REGRESS_ALPHA must lie in (0, 1)")
        if got["STATS_DISTURBED_FACTOR"] <= 1 or not 0 < got["STATS_DISTURBED_FLOOR_PERCENTILE"] < 100:
            raise InputError(f"{source}: STATS_DISTURBED_FACTOR must be > 1 and STATS_DISTURBED_FLOOR_PERCENTILE "
                             "in (0, 100)")
        cells = tuple(got["BENCH_PRIMARY_CELLS"].split())
        if any(c.count("/") != 1 for c in cells):
            raise InputError(f"{source}: BENCH_PRIMARY_CELLS must list driver/workload cells, got {cells}")
        return Settings(
            ratio_threshold=got["REGRESS_RATIO_THRESHOLD"],
            ratio_metrics=tuple(got["REGRESS_RATIO_METRICS"].split()),
            size_tolerance=got["REGRESS_SIZE_TOLERANCE"],
            stack_tolerance=got["REGRESS_STACK_TOLERANCE"],
            bpf_count_tolerance=got["REGRESS_BPF_COUNT_TOLERANCE"],
            icount_driver_tolerance=got["REGRESS_ICOUNT_DRIVER_TOLERANCE"],
            icount_kernel_tolerance=got["REGRESS_ICOUNT_KERNEL_TOLERANCE"],
            min_pairs=got["STATS_MIN_PAIRS"],
            alpha=got["STATS_ALPHA"],
            confidence=got["STATS_CONFIDENCE"],
            resamples=got["STATS_RESAMPLES"],
            seed=got["STATS_SEED"],
            agree_tolerance=got["REPORT_AGREE_TOLERANCE"],
            source=source,
            regress_alpha=got["REGRESS_ALPHA"],
            power=got["STATS_POWER"],
            disturbed_factor=got["STATS_DISTURBED_FACTOR"],
            floor_percentile=got["STATS_DISTURBED_FLOOR_PERCENTILE"],
            primary_cells=cells,
        )


def load_settings(conf_path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from kmodlab.conf (KMODLAB_CONF, else <root>/kmodlab.conf) and the environment.

    A missing kmodlab.conf is an error, not a silent switch to defaults: the
    lab always has one, and a typo in its path would otherwise go unnoticed.
    """
    environ = os.environ if environ is None else environ
    if conf_path is None:
        conf_path = Path(environ.get("KMODLAB_CONF") or repo_root() / "kmodlab.conf")
    values = parse_conf(conf_path)
    sources = [str(conf_path)]
    for key in DEFAULTS:
        if environ.get(key):
            values[key] = environ[key]
            sources.append(f"${key}")
    return Settings.from_values(values, " + ".join(sources))
