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

# key -> (type, meaning).  The VALUES are written once, in kmodlab.conf; a
# key missing there is an error naming it, never a silent built-in default.
# README.md documents the same table.
SCHEMA: dict[str, tuple[type, str]] = {
    "REGRESS_RATIO_THRESHOLD": (float,
        "margin of the ratio gate: a cell fails when its C++/C ratio is significantly (one-sided, "
        "Holm-adjusted, REGRESS_ALPHA) worse than the baseline's by more than this fraction"),
    "REGRESS_RATIO_METRICS": (str,
        "the metrics whose C++/C ratio gates (the others are shown as INFO): p99 of a short run "
        "under TCG is set by host scheduling of the vCPU threads, not by the driver"),
    "REGRESS_ALPHA": (float,
        "family-wise level of the ratio gate's one-sided tests (Holm over the gated ratios)"),
    "REGRESS_SIZE_TOLERANCE": (float,
        "a module's text+data+rodata+bss may grow by this fraction over the baseline"),
    "REGRESS_STACK_TOLERANCE": (float,
        "a module's largest stack frame may grow by this fraction over the baseline"),
    "REGRESS_ICOUNT_DRIVER_TOLERANCE": (float,
        "exact instruction counts (make icount): allowed rise of the C++/C driver-instructions-per-op ratio"),
    "REGRESS_ICOUNT_KERNEL_TOLERANCE": (float,
        "allowed rise of the C++/C whole-kernel-instructions-per-op ratio (core kernel state may shift)"),
    "STATS_MIN_PAIRS": (int,
        "fewer usable C/C++ pairs than this: no verdict ('too few pairs'), and the ratio gate fails"),
    "STATS_ALPHA": (float,
        "family-wise significance level: verdicts use Holm-adjusted exact sign-flip p-values"),
    "STATS_POWER": (float, "power at which the minimum detectable effect (MDE) is stated"),
    "STATS_DISTURBED_FACTOR": (float,
        "a run is disturbed (its whole pair excluded) when its throughput is below 1/F of its cell-and-variant "
        "median"),
    "STATS_DISTURBED_FLOOR_FACTOR": (float,
        "a run is disturbed (its whole pair excluded) when its latency floor is above this factor times its "
        "cell-and-variant reference floor (STATS_DISTURBED_FLOOR_REFERENCE; the host's slow phases: a whole "
        "run 1.4-2x)"),
    "STATS_DISTURBED_FLOOR_REFERENCE": (float,
        "the percentile of a cell-and-variant's run floors that the floor factor multiplies (0: the fastest "
        "run; slowdowns only raise a floor)"),
    "STATS_DISTURBED_FLOOR_PERCENTILE": (float,
        "the percentile of a run's own latency histogram that is its 'latency floor' for the disturbed-run rule"),
    "BENCH_PRIMARY_CELLS": (str,
        "driver/workload cells the report marks as primary; the ratio gate fails when one is missing, "
        "even in a QUICK run"),
    "STATS_CONFIDENCE": (float, "confidence level of the bootstrap intervals"),
    "STATS_RESAMPLES": (int, "bootstrap resamples (at least 2000)"),
    "STATS_SEED": (int, "bootstrap random seed (fixed: reports are reproducible)"),
    "REPORT_AGREE_TOLERANCE": (float,
        "fio / Google Benchmark agree with kmodlab-load when within this fraction"),
}


def repo_root() -> Path:
    """The repository root: KMODLAB_ROOT (set by the Makefile), else this file's parent's parent."""
    env = os.environ.get("KMODLAB_ROOT")
    return Path(env) if env else Path(__file__).resolve().parent.parent


def parse_conf(path: Path) -> dict[str, str]:
    """All ``KEY = value`` assignments of a kmodlab.conf file (last one wins)."""
    return {k: v for k, (v, _) in parse_conf_lines(path).items()}


def parse_conf_lines(path: Path) -> dict[str, tuple[str, int]]:
    """Like parse_conf, with the line number of each (last) assignment."""
    try:
        text = path.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read the configuration file: {e.strerror}") from e
    values: dict[str, tuple[str, int]] = {}
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
        values[key] = (value.strip(), lineno)
    return values


_MISSING = object()


class Conf(dict):
    """Every key of kmodlab.conf (environment wins), for tools such as scripts/bench_matrix.py.

    get(key) raises InputError naming the key and the file when the key is
    missing: an int(None) three frames later says nothing about which
    setting is absent.  Typed getters name the key, the bad value and where
    it came from (``origin``).
    """

    def __init__(self, values: dict[str, str], source: str, origins: dict[str, str] | None = None):
        super().__init__(values)
        self.source = source
        self.origins = origins or {}

    def origin(self, key: str) -> str:
        """Where the value of key comes from: "environment" or "<file>:<line>"."""
        return self.origins.get(key, self.source)

    def get(self, key: str, default=_MISSING):
        if key not in self:
            if default is _MISSING:
                raise InputError(f"{self.source}: no {key} (add '{key} = ...' to kmodlab.conf)")
            return default
        return super().get(key)

    def typed(self, key: str, typ: type):
        """The value converted to typ; a bad value names key, value and origin."""
        raw = self.get(key)
        try:
            return typ(raw)
        except ValueError:
            what = {int: "an integer", float: "a number"}.get(typ, f"a valid {typ.__name__}")
            raise InputError(f"{key} = {raw!r} (from {self.origin(key)}) is not {what}") from None

    def words(self, key: str, allowed=None) -> list[str]:
        """The value split on blanks; with allowed, every word must be one of them."""
        vals = self.get(key).split()
        bad = [v for v in vals if allowed is not None and v not in allowed]
        if bad:
            raise InputError(f"{key} = {self.get(key)!r} (from {self.origin(key)}): "
                             f"{', '.join(map(repr, bad))} is not one of {', '.join(allowed)}")
        return vals


def read_conf(conf_path: Path | None = None, environ: dict[str, str] | None = None) -> Conf:
    """All of kmodlab.conf as strings, a non-empty environment variable of the same name winning."""
    environ = os.environ if environ is None else environ
    if conf_path is None:
        conf_path = Path(environ.get("KMODLAB_CONF") or repo_root() / "kmodlab.conf")
    lines = parse_conf_lines(conf_path)
    values = {k: v for k, (v, _) in lines.items()}
    origins = {k: f"{conf_path}:{n}" for k, (_, n) in lines.items()}
    for key in list(values) + [k for k in SCHEMA if k not in values]:
        if environ.get(key):
            values[key] = environ[key]
            origins[key] = "environment"
    return Conf(values, str(conf_path), origins)


@dataclass(frozen=True)
class Settings:
    ratio_threshold: float
    ratio_metrics: tuple
    size_tolerance: float
    stack_tolerance: float
    icount_driver_tolerance: float
    icount_kernel_tolerance: float
    min_pairs: int
    alpha: float
    confidence: float
    resamples: int
    seed: int
    agree_tolerance: float
    source: str  # where the values came from, shown in reports
    regress_alpha: float
    power: float
    disturbed_factor: float
    disturbed_floor_factor: float
    floor_percentile: float
    floor_reference: float
    primary_cells: tuple

    @staticmethod
    def defaults() -> "Settings":
        """The repository's kmodlab.conf alone, no environment (tests)."""
        return Settings.from_conf(read_conf(repo_root() / "kmodlab.conf", environ={}))

    @staticmethod
    def from_conf(conf: Conf) -> "Settings":
        got = {key: conf.typed(key, typ) for key, (typ, _) in SCHEMA.items()}
        source = conf.source
        envs = sorted(k for k in SCHEMA if conf.origin(k) == "environment")
        if envs:
            source += " + " + " ".join(f"${k}" for k in envs)
        if got["STATS_RESAMPLES"] < 2000:
            raise InputError(f"{source}: STATS_RESAMPLES must be at least 2000, got {got['STATS_RESAMPLES']}")
        if not 0 < got["STATS_CONFIDENCE"] < 1 or not 0 < got["STATS_ALPHA"] < 1:
            raise InputError(f"{source}: STATS_CONFIDENCE and STATS_ALPHA must lie in (0, 1)")
        if got["STATS_MIN_PAIRS"] < 3:
            raise InputError(f"{source}: STATS_MIN_PAIRS must be at least 3 (a t quantile needs 2 degrees of freedom)")
        if not 0 < got["STATS_POWER"] < 1 or not 0 < got["REGRESS_ALPHA"] < 1:
            raise InputError(f"{source}: STATS_POWER and REGRESS_ALPHA must lie in (0, 1)")
        if got["STATS_DISTURBED_FACTOR"] <= 1 or got["STATS_DISTURBED_FLOOR_FACTOR"] <= 1 \
                or not 0 < got["STATS_DISTURBED_FLOOR_PERCENTILE"] < 100 \
                or not 0 <= got["STATS_DISTURBED_FLOOR_REFERENCE"] <= 50:
            raise InputError(f"{source}: STATS_DISTURBED_FACTOR and STATS_DISTURBED_FLOOR_FACTOR must be > 1, "
                             "STATS_DISTURBED_FLOOR_PERCENTILE in (0, 100) and STATS_DISTURBED_FLOOR_REFERENCE "
                             "in [0, 50]")
        cells = tuple(got["BENCH_PRIMARY_CELLS"].split())
        if any(c.count("/") != 1 for c in cells):
            raise InputError(f"{source}: BENCH_PRIMARY_CELLS must list driver/workload cells, got {cells}")
        return Settings(
            ratio_threshold=got["REGRESS_RATIO_THRESHOLD"],
            ratio_metrics=tuple(got["REGRESS_RATIO_METRICS"].split()),
            size_tolerance=got["REGRESS_SIZE_TOLERANCE"],
            stack_tolerance=got["REGRESS_STACK_TOLERANCE"],
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
            disturbed_floor_factor=got["STATS_DISTURBED_FLOOR_FACTOR"],
            floor_percentile=got["STATS_DISTURBED_FLOOR_PERCENTILE"],
            floor_reference=got["STATS_DISTURBED_FLOOR_REFERENCE"],
            primary_cells=cells,
        )


def load_settings(conf_path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from kmodlab.conf (KMODLAB_CONF, else <root>/kmodlab.conf) and the environment.

    A missing kmodlab.conf, or a key missing from it, is an error, not a
    silent switch to defaults: the values are written once, in that file.
    """
    return Settings.from_conf(read_conf(conf_path, environ))


# --- kernels (kmodlab.conf KERNELS, KERNEL_<name>; as scripts/conf.sh) ---------

@dataclass(frozen=True)
class Kernel:
    """One guest kernel as `make setup` resolved it (build/kernels/<abi>/kernel.env)."""
    name: str     # its name in KERNELS (6.1, 6.12)
    abi: str      # uname -r of the guest (6.12.117+deb12-amd64)
    source: str   # its KERNEL_<name> value ("debian linux-image-amd64", "path ...")
    image: str    # bzImage
    build: str    # Kbuild's tree (Debian headers or a self-built build dir)
    modules: str  # its lib/modules/<abi> folder
    out: str      # this clone's build outputs for it: build/kernels/<abi>

    @property
    def kmod(self) -> str:
        """Where the lab's modules for this kernel are built (kmod/Makefile)."""
        return f"{self.out}/kmod"


def kernel_key(name: str) -> str:
    """The key describing kernel name: KERNEL_ + the name with '.' and '-' as '_'."""
    return "KERNEL_" + name.replace(".", "_").replace("-", "_")


def kernel_names(conf: Conf | None = None) -> list[str]:
    """The configured kernels (KERNELS), the default first."""
    conf = read_conf() if conf is None else conf
    names = conf.get("KERNELS").split()
    if not names:
        raise InputError(f"KERNELS = '' (from {conf.origin('KERNELS')}): name at least one kernel")
    return names


def kernels(conf: Conf | None = None, root: Path | None = None) -> list[Kernel]:
    """Every configured kernel as set up, in KERNELS order; one not set up is an error."""
    conf = read_conf() if conf is None else conf
    base = (root or repo_root()) / "build" / "kernels" / "by-name"
    out = []
    for name in kernel_names(conf):
        env = base / name / "kernel.env"
        try:
            fields = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
        except OSError:
            raise InputError(f"kernel {name} is not set up ({env} missing): run 'make setup'") from None
        out.append(Kernel(name=name, abi=fields["ABI"], source=fields["SOURCE"], image=fields["IMAGE"],
                          build=fields["BUILD"], modules=fields["MODULES"],
                          out=str((base / name).resolve())))
    return out


def kernel(what: str | None = None, conf: Conf | None = None, root: Path | None = None) -> Kernel:
    """The kernel `what` means: a name or an ABI; None: $KERNEL, else the first (as kernel_resolve)."""
    what = what or os.environ.get("KERNEL") or None
    ks = kernels(conf, root)
    if what is None:
        return ks[0]
    for k in ks:
        if what in (k.name, k.abi):
            return k
    raise InputError(f"no kernel {what!r}: KERNELS = {' '.join(k.name for k in ks)!r} "
                     f"(names or ABIs: {', '.join(k.abi for k in ks)})")
