"""Statistics: the bootstrap CI covers what it should, verdicts follow the data."""
import numpy as np
import pytest

from analysis import stats
from analysis.conf import Settings


def _lognormal(rng, mean, n, sigma=0.03):
    return mean * rng.lognormal(0, sigma, n)


def test_ci_covers_known_ratio():
    rng = np.random.default_rng(7)
    c, x = _lognormal(rng, 100_000, 10), _lognormal(rng, 120_000, 10)
    point, lo, hi = stats.bootstrap_ratio_ci(c, x, 4000, 1)
    assert lo < 1.2 < hi
    assert lo <= point <= hi
    assert hi - lo < 0.1  # 3% noise, 10 reps: a tight interval, not a vacuous one


def test_ci_coverage_rate_near_nominal():
    """Over many synthetic experiments the 95% CI must cover the true ratio most of the time.

    The median bootstrap with n=8 is known to under-cover somewhat; 85% is the
    floor below which the interval would be misleading.
    """
    covered = 0
    trials = 200
    for seed in range(trials):
        rng = np.random.default_rng(1000 + seed)
        c, x = _lognormal(rng, 50_000, 8), _lognormal(rng, 45_000, 8)
        _, lo, hi = stats.bootstrap_ratio_ci(c, x, 2000, seed)
        covered += lo <= 0.9 <= hi
    assert covered / trials >= 0.85, covered


def test_ci_reproducible_with_seed():
    rng = np.random.default_rng(3)
    c, x = _lognormal(rng, 1, 6), _lognormal(rng, 1, 6)
    assert stats.bootstrap_ratio_ci(c, x, 2000, 42) == stats.bootstrap_ratio_ci(c, x, 2000, 42)
    assert stats.bootstrap_ratio_ci(c, x, 2000, 42) != stats.bootstrap_ratio_ci(c, x, 2000, 43)


def test_verdict_clearly_different(settings):
    rng = np.random.default_rng(11)
    c, x = _lognormal(rng, 100, 8), _lognormal(rng, 70, 8)
    thr = stats.compare("throughput", "ops/s", True, c, x, settings)
    assert thr.verdict == stats.SLOWER and thr.p < 0.05 and thr.ci_hi < 1.0
    lat = stats.compare("p50", "ns", False, c, x, settings)  # lower latency for C++: faster
    assert lat.verdict == stats.FASTER


def test_verdict_identical_distributions(settings):
    rng = np.random.default_rng(12)
    c, x = _lognormal(rng, 100, 8), _lognormal(rng, 100, 8)
    r = stats.compare("throughput", "ops/s", True, c, x, settings)
    assert r.verdict == stats.NO_DIFF
    assert r.ci_lo < 1.0 < r.ci_hi


def test_identical_constant_samples(settings):
    r = stats.compare("p50", "ns", False, [500.0] * 5, [500.0] * 5, settings)
    assert r.p == 1.0 and r.ratio == 1.0 and r.verdict == stats.NO_DIFF


def test_too_few_repetitions(settings):
    r = stats.compare("throughput", "ops/s", True, [1.0, 1.1], [2.0, 2.1, 2.2], settings)
    assert r.verdict == stats.TOO_FEW
    assert not r.decided
    assert np.isnan(r.ci_lo) and np.isnan(r.p)


def test_significant_p_but_ci_straddling_one_is_no_difference():
    assert stats.verdict(0.98, 1.01, 0.01, True, 0.05) == stats.NO_DIFF
    assert stats.verdict(1.02, 1.10, 0.20, True, 0.05) == stats.NO_DIFF
    assert stats.verdict(1.02, 1.10, 0.01, True, 0.05) == stats.FASTER
    assert stats.verdict(1.02, 1.10, 0.01, False, 0.05) == stats.SLOWER


def test_cv():
    assert stats.cv([10, 10, 10]) == 0
    assert stats.cv([9, 11]) == pytest.approx(np.std([9, 11], ddof=1) / 10)
    assert np.isnan(stats.cv([5]))
