"""Statistics of C-versus-C++ comparisons.

The unit of observation is one repetition (one kmodlab-load run): its
throughput, p50 and p99.  Operations inside a run are not independent
samples (they share caches, the guest's timer and whatever else the host
was doing), so all inference is over repetitions.

Ratio: C++ median / C median.  Medians, not means, because the lab runs
under TCG on a shared 2-core host, where one repetition now and then is hit
by another process; a median shrugs that off, a mean moves with it.  The
price is a lumpier bootstrap distribution for small n, which makes the
interval a little conservative, the right direction for a gate.

CI: percentile bootstrap, C and C++ resampled independently with
replacement, fixed seed so that a re-rendered report is identical.

Test: Mann-Whitney U, two-sided (scipy.stats.mannwhitneyu): no normality
assumption; with 3 repetitions per side its smallest possible p is 0.1, so
a verdict needs at least 4 (and 5 or more to be useful).  STATS_MIN_REPS
sets the floor below which no verdict is given at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .conf import Settings

FASTER = "faster"
SLOWER = "slower"
NO_DIFF = "no significant difference"
TOO_FEW = "too few repetitions"
UNDEFINED = "undefined"


def cv(values) -> float:
    """Coefficient of variation (sample stdev / mean): the noise of a side's repetitions.

    NaN with fewer than two values or a zero mean: there is no noise figure then.
    """
    a = np.asarray(values, dtype=float)
    if a.size < 2 or a.mean() == 0:
        return float("nan")
    return float(a.std(ddof=1) / abs(a.mean()))


def bootstrap_ratio_ci(c, cxx, resamples: int, seed: int, confidence: float = 0.95,
                       statistic=np.median) -> tuple[float, float, float]:
    """(point, lo, hi) of statistic(cxx) / statistic(c) with a percentile bootstrap CI.

    Vectorised: one (resamples x n) index draw per side.  A resample whose C
    statistic is 0 gives inf/nan; those are kept (as inf) so that they widen
    the interval instead of being dropped quietly.
    """
    c = np.asarray(c, dtype=float)
    x = np.asarray(cxx, dtype=float)
    if c.size == 0 or x.size == 0:
        raise ValueError("bootstrap_ratio_ci needs at least one value per side")
    rng = np.random.default_rng(seed)
    bc = statistic(c[rng.integers(0, c.size, (resamples, c.size))], axis=1)
    bx = statistic(x[rng.integers(0, x.size, (resamples, x.size))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(bc == 0, np.inf, bx / np.where(bc == 0, 1, bc))
    alpha = 1.0 - confidence
    lo, hi = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    point = float(statistic(x) / statistic(c)) if statistic(c) != 0 else float("inf")
    return point, float(lo), float(hi)


def mann_whitney_p(c, cxx) -> float:
    """Two-sided Mann-Whitney U p-value; 1.0 when both sides are one identical constant.

    scipy returns nan when every value is tied; identical samples are the
    textbook case of "no difference", so that is p = 1, not a gap.
    """
    a = np.asarray(c, dtype=float)
    b = np.asarray(cxx, dtype=float)
    if np.all(a == a[0]) and np.all(b == a[0]):
        return 1.0
    return float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)


@dataclass
class Comparison:
    """C against C++ for one metric of one matrix cell."""
    metric: str               # "throughput", "p50", "p99", ...
    unit: str                 # "ops/s" or "ns"
    higher_is_better: bool
    c: list[float]
    cxx: list[float]
    c_median: float
    cxx_median: float
    c_cv: float
    cxx_cv: float
    ratio: float              # C++ median / C median
    ci_lo: float
    ci_hi: float
    p: float
    verdict: str

    @property
    def n(self) -> tuple[int, int]:
        return len(self.c), len(self.cxx)

    @property
    def decided(self) -> bool:
        """True when there were enough repetitions for a verdict and a CI to act on."""
        return self.verdict not in (TOO_FEW, UNDEFINED)


def verdict(ratio_lo: float, ratio_hi: float, p: float, higher_is_better: bool, alpha: float) -> str:
    """faster/slower only when the test rejects AND the whole CI is on one side of 1.0.

    Requiring both guards against a significant-but-tiny shift whose CI still
    straddles 1 and against a CI that excludes 1 only by bootstrap luck.
    """
    if p < alpha and (ratio_lo > 1.0 or ratio_hi < 1.0):
        cxx_higher = ratio_lo > 1.0
        return FASTER if cxx_higher == higher_is_better else SLOWER
    return NO_DIFF


def compare(metric: str, unit: str, higher_is_better: bool, c, cxx, settings: Settings) -> Comparison:
    """Everything the summary table and the gate need for one metric of one cell."""
    c = [float(v) for v in c]
    cxx = [float(v) for v in cxx]
    c_med = float(np.median(c)) if c else float("nan")
    x_med = float(np.median(cxx)) if cxx else float("nan")
    nan = float("nan")
    if len(c) < settings.min_reps or len(cxx) < settings.min_reps:
        ratio = x_med / c_med if c and cxx and c_med != 0 else nan
        return Comparison(metric, unit, higher_is_better, c, cxx, c_med, x_med, cv(c), cv(cxx),
                          ratio, nan, nan, nan, TOO_FEW)
    if c_med == 0:
        return Comparison(metric, unit, higher_is_better, c, cxx, c_med, x_med, cv(c), cv(cxx),
                          nan, nan, nan, nan, UNDEFINED)
    ratio, lo, hi = bootstrap_ratio_ci(c, cxx, settings.resamples, settings.seed, settings.confidence)
    p = mann_whitney_p(c, cxx)
    return Comparison(metric, unit, higher_is_better, c, cxx, c_med, x_med, cv(c), cv(cxx),
                      ratio, lo, hi, p, verdict(lo, hi, p, higher_is_better, settings.alpha))
