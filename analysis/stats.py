"""Statistics of C-versus-C++ comparisons: paired, exact, corrected (analysis/README.md).

The unit is the PAIR: one C run and one C++ run of the same cell, back to
back in the same guest boot (the bench counterbalances which one goes first).
Everything a pair shares (the host's load at that moment, the boot's module
load addresses, TCG's translation state) cancels in its log-ratio

    d_i = log(cxx_i / c_i)

so inference is over the d_i, never over C and C++ runs resampled apart.

* ratio: exp(mean d), the geometric mean of the per-pair ratios.
* CI: two-level percentile bootstrap (Kalibera & Jones): resample boots with
  replacement, then pairs within each drawn boot, so the between-boot
  component is in every interval; widened for small samples by Hesterberg's
  "expanded percentile" factor (t quantile with n_pairs - 1 df).
* p: exact two-sided sign-flip permutation test of mean d (all 2^n sign
  patterns, counted by meet-in-the-middle, up to EXACT_MAX_PAIRS pairs; a
  seeded Monte Carlo of MC_FLIPS patterns beyond).
* MDE: (t_{1-a/2,v} + t_{power,v}) * SE on the log scale, SE including the
  between-boot component; reported as the ratio interval [e^-MDE, e^+MDE].
* disturbed pairs: a rule fixed in advance (disturbed_pairs) drops a WHOLE
  pair, and every dropped pair is returned with its values and reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from .conf import Settings

FASTER = "faster"
SLOWER = "slower"
NO_DIFF = "no significant difference"
TOO_FEW = "too few pairs"
UNDEFINED = "undefined"

# Meet-in-the-middle enumerates 2 x 2^(n/2) partial sums: 36 pairs is 2 x 262144.
EXACT_MAX_PAIRS = 36
MC_FLIPS = 200_000
ORDER_RESAMPLES = 9999  # order-effect permutation test; exact when the partitions are fewer


def cv(values) -> float:
    """Coefficient of variation (sample stdev / mean); NaN with fewer than two values or a zero mean."""
    a = np.asarray(values, dtype=float)
    if a.size < 2 or a.mean() == 0:
        return float("nan")
    return float(a.std(ddof=1) / abs(a.mean()))


def bootstrap_ratio_ci(c, cxx, resamples: int, seed: int, confidence: float = 0.95,
                       statistic=np.median) -> tuple[float, float, float]:
    """(point, lo, hi) of statistic(cxx) / statistic(c), UNPAIRED percentile bootstrap.

    Only for comparisons of runs that are not pairs (the probe effect: the
    timing and the BPF pass of one variant ran at different times).
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


# --- disturbed pairs ----------------------------------------------------------------
@dataclass
class Excluded:
    """A pair left out by the disturbed-run rule, with what it measured and why."""
    pair: object          # the pair's label (the manifest's pair number, else its index)
    reason: str
    c: float
    cxx: float


def histogram_percentile(hist, q: float) -> float:
    """The q-th percentile (0..100) of a [[lo, hi, count], ...] histogram: the lower edge of its bucket.

    kmodlab-load's buckets are at most 1/128 wide (loadgen/SCHEMA.md), so the
    edge is within 0.8% of the true value; NaN for an empty histogram.
    """
    rows = sorted(hist)
    total = sum(n for _, _, n in rows)
    if total == 0:
        return float("nan")
    want = q / 100.0 * total
    acc = 0
    for lo, _, n in rows:
        acc += n
        if acc >= want and n:
            return float(lo)
    return float(rows[-1][0])


def _variant_outliers(values, bad_high: bool, factor: float, what: str, side: str,
                      reference: float = 50.0) -> dict[int, str]:
    """Index -> reason for values beyond factor x (or 1/factor of) their own side's
    reference: the `reference`-th percentile of the side's values (50: the median)."""
    v = np.asarray(values, dtype=float)
    out = {}
    ok = np.isfinite(v) & (v > 0)
    for i in np.flatnonzero(~ok):
        out[int(i)] = f"{side} {what} {v[i]!r} is not a positive number"
    if not ok.any():
        return out
    ref = float(np.percentile(v[ok], reference))
    name = {50: "median", 0: "fastest"}.get(reference, f"p{reference:g}")
    for i in np.flatnonzero(ok):
        if (v[i] > factor * ref) if bad_high else (v[i] * factor < ref):
            rel = f"above {factor:g} x" if bad_high else f"below 1/{factor:g} of"
            out[int(i)] = f"{side} {what} {v[i]:,.6g} {rel} the {side} {name} {ref:,.6g}"
    return out


def disturbed_pairs(c, cxx, higher_is_better: bool = True, factor: float = 3.0,
                    c_floor=None, cxx_floor=None, labels=None, floor_factor: float | None = None,
                    floor_reference: float = 0.0, names: tuple[str, str] = ("C", "C++")) -> list[Excluded]:
    """Pairs to exclude, by the rule fixed in advance (STATS_DISTURBED_* in kmodlab.conf).

    A run is disturbed when
      * its value is worse than `factor` times its own side's median over the
        cell's pairs (throughput below median/factor; a latency above
        median*factor), or not a positive number; or
      * its latency floor (a low percentile of its own histogram, given as
        c_floor/cxx_floor) is above `floor_factor` (default: `factor`) times
        the `floor_reference`-th percentile of its side's floors (0: the
        side's fastest run) AND its partner's is not: a run in which even
        the fastest operations are slow was slowed as a whole (the 10x scull
        runs of issue 14; the host's own 1.4-2x slow phases), and a pair
        with one such run compares two host speeds.  A pair with both runs
        slowed ran in one phase and stays: on a host slow 70% of the time
        (make test, 2026-12-01) requiring both runs fast left 1-4 pairs of
        20, and judging each side against its own lower quartile put that
        reference in the slow phase for one side only, which biased a p5
        ratio to 1.39 for identical code.  The reference is the fastest run
        because slowdowns only ever raise a floor; if it were too low, every
        run would count as slowed and, pairs being judged together, none
        would go.  The floor is tight in undisturbed runs (2-5% spread), so
        its factor can be much smaller than the throughput's, whose runs
        spread 2x under TCG's stalls.
    One disturbed run excludes its WHOLE pair: a pair without its partner has
    no log-ratio.  References per side (the throughput median, the fastest
    floor) so that a real C-versus-C++ difference is never mistaken for a
    disturbance; the throughput part assumes most runs are clean.
    """
    n = len(c)
    if len(cxx) != n:
        raise ValueError(f"disturbed_pairs: {n} C values but {len(cxx)} C++ values")
    labels = list(range(n)) if labels is None else list(labels)
    reasons: dict[int, list[str]] = {}
    for side, vals, floors in ((names[0], c, c_floor), (names[1], cxx, cxx_floor)):
        what = "value" if higher_is_better is None else ("throughput" if higher_is_better else "latency")
        for i, why in _variant_outliers(vals, not higher_is_better, factor, what, side).items():
            reasons.setdefault(i, []).append(why)
    slow: dict[str, dict[int, str]] = {}
    for side, floors in ((names[0], c_floor), (names[1], cxx_floor)):
        if floors is not None:
            ff = factor if floor_factor is None else floor_factor
            slow[side] = _variant_outliers(floors, True, ff, "latency floor (ns)", side, floor_reference)
    if len(slow) == 2:
        # A pair whose two runs were both slowed ran in one host phase: its
        # ratio is fair.  Only a pair with one run slowed and one not is out.
        a, b = (slow[n] for n in names)
        for i in set(a) ^ set(b):
            reasons.setdefault(i, []).append((a.get(i) or b.get(i)) + " (its partner was not)")
    else:
        for side_slow in slow.values():
            for i, why in side_slow.items():
                reasons.setdefault(i, []).append(why)
    return [Excluded(labels[i], "; ".join(reasons[i]), float(c[i]), float(cxx[i])) for i in sorted(reasons)]


def cell_disturbed(c_ops, cxx_ops, c_floor, cxx_floor, labels, s: Settings,
                   names: tuple[str, str] = ("C", "C++")) -> list[Excluded]:
    """A cell's exclusion as the bench decides it, one for all its metrics: on
    throughput (STATS_DISTURBED_FACTOR) and latency floor (..._FLOOR_FACTOR).
    names: the two sides as the reasons name them (C and C++, or C and Rust)."""
    return disturbed_pairs(c_ops, cxx_ops, True, s.disturbed_factor, c_floor, cxx_floor, labels,
                           s.disturbed_floor_factor, s.floor_reference, names)


# --- the tests --------------------------------------------------------------------------
def _all_signed_sums(a: np.ndarray) -> np.ndarray:
    s = np.zeros(1)
    for x in a:
        s = np.concatenate((s + x, s - x))
    return s


def sign_flip_p(d, seed: int = 0) -> tuple[float, str]:
    """Two-sided sign-flip permutation p of mean(d) = 0, and how it was computed.

    Under H0 (C and C++ exchangeable within a pair) every sign pattern of the
    d_i is equally likely; p = share of patterns whose |sum| is at least the
    observed one.  Exact for n <= EXACT_MAX_PAIRS: the 2^n sums are split into
    two halves of 2^(n/2) partial sums, and the pairs (x, y) with |x + y| >= T
    are counted with a binary search.  The smallest exact p is 2^(1-n).
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n == 0:
        return float("nan"), "no pairs"
    a = np.abs(d)
    t_obs = abs(float(d.sum()))
    tol = 1e-9 * max(float(a.sum()), 1e-300)  # the observed pattern must count itself despite rounding
    if t_obs <= tol:
        return 1.0, "exact sign-flip"
    t = t_obs - tol
    if n <= EXACT_MAX_PAIRS:
        s1 = _all_signed_sums(a[: n // 2])
        s2 = np.sort(_all_signed_sums(a[n // 2:]))
        upper = s2.size - np.searchsorted(s2, t - s1, side="left")   # x + y >= t
        lower = np.searchsorted(s2, -t - s1, side="right")          # x + y <= -t
        return float((upper.sum() + lower.sum()) / 2.0 ** n), f"exact sign-flip (2^{n} patterns)"
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, MC_FLIPS, 20_000):
        signs = rng.integers(0, 2, (min(20_000, MC_FLIPS - start), n)) * 2 - 1
        hits += int((np.abs(signs @ a) >= t).sum())
    return (hits + 1) / (MC_FLIPS + 1), f"Monte Carlo sign-flip ({MC_FLIPS} patterns, seed {seed})"


def order_effect(d, first, seed: int) -> tuple[float | None, float, float]:
    """(p, mean d of C-first pairs, mean d of the pairs whose other side (C++, Rust) ran first).

    If the second run of a pair gains a factor g (warm caches, a settled
    host), C-first pairs show d + log g and C++-first pairs d - log g: a
    two-sided permutation test of the difference of the two groups' mean d
    (scipy.stats.permutation_test, exact when there are at most
    ORDER_RESAMPLES partitions, else that many seeded draws).  p is None with
    fewer than two pairs in either order.
    """
    d = np.asarray(d, dtype=float)
    f = np.asarray(first)
    g1, g2 = d[f == "c"], d[f != "c"]
    m1 = float(g1.mean()) if g1.size else float("nan")
    m2 = float(g2.mean()) if g2.size else float("nan")
    if g1.size < 2 or g2.size < 2:
        return None, m1, m2
    if np.ptp(d) == 0:
        return 1.0, m1, m2
    res = sps.permutation_test((g1, g2), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                               permutation_type="independent", vectorized=True, n_resamples=ORDER_RESAMPLES,
                               alternative="two-sided", random_state=seed)
    return float(min(1.0, res.pvalue)), m1, m2


def between_boot_share(d, boots) -> float | None:
    """Share of the variance of d between boots (one-way random-effects ANOVA estimate).

    sigma_b^2 = max(0, (MSB - MSW) / n0), n0 = (N - sum n_j^2 / N) / (k - 1);
    share = sigma_b^2 / (sigma_b^2 + MSW).  None with one boot, or when no
    boot has two pairs (within and between cannot be told apart).
    """
    d = np.asarray(d, dtype=float)
    b = np.asarray(boots)
    ub = np.unique(b)
    k, n = ub.size, d.size
    if k < 2 or n - k < 1:
        return None
    groups = [d[b == u] for u in ub]
    nj = np.array([g.size for g in groups], dtype=float)
    means = np.array([g.mean() for g in groups])
    ssb = float((nj * (means - d.mean()) ** 2).sum())
    ssw = float(sum(((g - g.mean()) ** 2).sum() for g in groups))
    msb, msw = ssb / (k - 1), ssw / (n - k)
    n0 = (n - (nj ** 2).sum() / n) / (k - 1)
    sb2 = max(0.0, (msb - msw) / n0)
    return sb2 / (sb2 + msw) if sb2 + msw > 0 else 0.0


def _two_level_means(d: np.ndarray, boots: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Bootstrap distribution of mean d: boots drawn with replacement, then pairs within each drawn boot."""
    ub = np.unique(boots)
    groups = [d[boots == u] for u in ub]
    nb = np.array([g.size for g in groups])
    table = np.zeros((ub.size, nb.max()))
    for j, g in enumerate(groups):
        table[j, : g.size] = g
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, ub.size, (resamples, ub.size))          # which boots
    npick = nb[pick]                                                # their pair counts
    idx = (rng.random((resamples, ub.size, nb.max())) * npick[..., None]).astype(np.int64)
    mask = np.arange(nb.max()) < npick[..., None]
    vals = np.where(mask, table[pick[..., None], idx], 0.0)
    return vals.sum(axis=(1, 2)) / npick.sum(axis=1)


def two_level_se(d, boots, resamples: int, seed: int) -> tuple[float, np.ndarray]:
    """(SE of mean d, its bootstrap distribution) under the two-level model: boots, then values in a boot.

    With more than one boot the SE is the SD of the two-level bootstrap means
    (boots drawn with replacement, then values within each drawn boot), times
    sqrt(n/(n-1)), so the between-boot component is in it; with one boot
    (boots None or all equal) it is the plain sd/sqrt(n).  Used for paired
    log-ratios (paired_compare) and for the unpaired per-variant log values
    of the cross-kernel comparison (analysis/crosskernel.py).  Needs n >= 2.
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    b = np.zeros(n, dtype=int) if boots is None else np.asarray(boots)
    means = _two_level_means(d, b, resamples, seed)
    if np.unique(b).size > 1:
        return float(means.std(ddof=0) * math.sqrt(n / (n - 1))), means
    return float(d.std(ddof=1) / math.sqrt(n)), means


def _expanded_alpha(alpha: float, n_eff: float) -> float:
    """Hesterberg's expanded percentile: the alpha whose normal quantile is sqrt(n/(n-1)) t_{1-a/2,n-1}.

    A plain percentile bootstrap of a mean is too narrow for small n (it uses
    the n-divisor variance and normal tails); this puts the t interval's
    width into it.
    """
    if n_eff <= 1:
        return alpha
    z = math.sqrt(n_eff / (n_eff - 1)) * sps.t.ppf(1 - alpha / 2, n_eff - 1)
    return float(2 * sps.norm.sf(z))


def mde_log(se: float, n_eff: float, alpha: float, power: float) -> float:
    """Minimum detectable effect on the log scale: (t_{1-alpha/2,v} + t_{power,v}) * SE, v = n_eff - 1."""
    if not math.isfinite(se) or n_eff < 2:
        return float("inf")
    v = n_eff - 1
    return float((sps.t.ppf(1 - alpha / 2, v) + sps.t.ppf(power, v)) * se)


# --- the paired comparison ----------------------------------------------------------------
@dataclass
class PairedResult:
    """C against C++ over the pairs of one metric of one cell (schema: /work/notes/schema.md, README)."""
    n_pairs: int                      # pairs used (after exclusions)
    ratio: float                      # geometric mean of cxx/c
    ci_low: float
    ci_high: float
    p: float                          # exact sign-flip p, unadjusted
    mde: float                        # relative: could have detected a ratio outside [1/(1+mde), 1+mde]
    sd_log: float                     # per-pair SD of the log-ratios
    between_boot_share: float | None  # None with one boot
    order_effect_p: float | None      # None without order information or with < 2 pairs per order
    excluded: list[Excluded] = field(default_factory=list)
    mean_log: float = float("nan")    # mean log-ratio (log of ratio)
    se_log: float = float("nan")      # its standard error, between-boot component included
    n_eff: float = float("nan")       # sample size behind the t quantiles (n_pairs; df = n_eff - 1)
    n_boots: int = 0
    p_method: str = ""
    mde_alpha: float = float("nan")   # the two-sided level the MDE is computed at
    order_ratio_c_first: float = float("nan")    # geometric-mean ratio of the C-first pairs
    order_ratio_x_first: float = float("nan")  # ... of the pairs whose other side (C++, Rust) ran first
    n_c_first: int = 0
    n_x_first: int = 0
    higher_is_better: bool = True

    @property
    def mde_low(self) -> float:
        return math.exp(-math.log1p(self.mde)) if math.isfinite(self.mde) else 0.0

    @property
    def mde_high(self) -> float:
        return 1.0 + self.mde

    @property
    def second_run_gain(self) -> float:
        """Factor by which the second run of a pair is faster in throughput terms (1 = no order effect).

        Derived from the two groups' mean log-ratios: log g = (mean_Cfirst - mean_C++first) / 2
        for a higher-is-better metric; the sign flips for latency.
        """
        a, b = math.log(self.order_ratio_c_first), math.log(self.order_ratio_x_first)
        g = (a - b) / 2
        return math.exp(g if self.higher_is_better else -g)


def _undefined(n: int, excluded, higher_is_better: bool, why: str) -> PairedResult:
    nan = float("nan")
    return PairedResult(n, nan, nan, nan, nan, float("inf"), nan, None, None, excluded,
                        p_method=why, higher_is_better=higher_is_better)


def paired_compare(c, cxx, boots=None, higher_is_better=True, settings: Settings | None = None, *,
                   first=None, c_floor=None, cxx_floor=None, exclude=None, labels=None,
                   family_size: int = 1) -> PairedResult:
    """C against C++ over pairs: c[i] and cxx[i] ran back to back (same boot).

    boots: the guest-boot index of each pair (None: one boot).  first: "c" or
    the other side's variant ("cxx", "rust") per pair (order-effect test).  c_floor/cxx_floor: each run's latency
    floor for the disturbed-run rule.  exclude: a precomputed list of Excluded
    (the caller shares one exclusion across a cell's metrics); None applies
    disturbed_pairs() to these values.  labels: pair names for the excluded
    list (default: indices).  family_size: the MDE is computed at
    STATS_ALPHA / family_size, the level Holm's first step demands.
    """
    s = settings or Settings.defaults()
    c = np.asarray(c, dtype=float)
    x = np.asarray(cxx, dtype=float)
    if c.shape != x.shape or c.ndim != 1:
        raise ValueError(f"paired_compare: need two equal-length sequences, got {c.shape} and {x.shape}")
    labels = list(range(c.size)) if labels is None else list(labels)
    if exclude is None:
        exclude = disturbed_pairs(c, x, higher_is_better, s.disturbed_factor, c_floor, cxx_floor, labels,
                                  s.disturbed_floor_factor, s.floor_reference)
    gone = {e.pair for e in exclude}
    keep = np.array([lab not in gone for lab in labels], dtype=bool)
    b = None if boots is None else np.asarray(boots)[keep]
    f = None if first is None else np.asarray(first)[keep]
    c, x = c[keep], x[keep]
    n = int(c.size)
    if n < 2:
        return _undefined(n, exclude, higher_is_better, "fewer than 2 pairs")
    if (c <= 0).any() or (x <= 0).any():
        return _undefined(n, exclude, higher_is_better, "a value is not positive: no log-ratio")
    d = np.log(x / c)
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    nboots = 1 if b is None else int(np.unique(b).size)
    share = None if b is None else between_boot_share(d, b)
    # Degrees of freedom n - 1 (pairs), not a design-effect n: with 2-4 boots the
    # between-boot share is estimated from 1-3 degrees of freedom, far too noisy
    # to set the df; the between-boot component enters through the SE instead.
    n_eff = float(n)
    alpha_ci = _expanded_alpha(1 - s.confidence, n_eff)
    se, means = two_level_se(d, b, s.resamples, s.seed)
    lo, hi = np.quantile(means, [alpha_ci / 2, 1 - alpha_ci / 2])
    p, how = sign_flip_p(d, s.seed)
    a_mde = s.alpha / max(1, family_size)
    mde = mde_log(se, n_eff, a_mde, s.power)
    if n <= EXACT_MAX_PAIRS and 2.0 ** (1 - n) > a_mde:
        mde = float("inf")  # the exact test cannot reach that level with n pairs, whatever the effect
    order_p, m1, m2 = (None, float("nan"), float("nan")) if f is None else order_effect(d, f, s.seed)
    return PairedResult(
        n_pairs=n, ratio=math.exp(mean), ci_low=math.exp(lo), ci_high=math.exp(hi), p=p,
        mde=math.expm1(mde) if math.isfinite(mde) else float("inf"), sd_log=sd, between_boot_share=share,
        order_effect_p=order_p, excluded=list(exclude), mean_log=mean, se_log=se, n_eff=n_eff, n_boots=nboots,
        p_method=how, mde_alpha=a_mde, order_ratio_c_first=math.exp(m1), order_ratio_x_first=math.exp(m2),
        n_c_first=0 if f is None else int((f == "c").sum()), n_x_first=0 if f is None else int((f != "c").sum()),
        higher_is_better=higher_is_better)


def welch_df(se_a: float, n_a: float, se_b: float, n_b: float) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two means with standard errors se_a, se_b.

    n_a, n_b are the pair counts behind each SE (PairedResult.n_eff).
    """
    num = (se_a ** 2 + se_b ** 2) ** 2
    den = se_a ** 4 / max(n_a - 1, 1) + se_b ** 4 / max(n_b - 1, 1)
    return num / den if den > 0 else max(n_a + n_b - 2, 1)


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values (NaN entries are not part of the family and stay NaN).

    Sorted ascending p_(1) <= ... <= p_(m): adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
    Controls the family-wise error rate under any dependence between the tests.
    """
    p = np.asarray(list(pvalues), dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out.tolist()
    order = idx[np.argsort(p[idx], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(1.0, adj)
    return out.tolist()


def paired_verdict(r: PairedResult, p_adj: float, alpha: float, min_pairs: int) -> str:
    """faster/slower only when the Holm-adjusted p < alpha AND the CI lies wholly on one side of 1.

    Both, because the p tests the pairs of this run while the CI also carries
    the between-boot component: a shift that only one boot shows is not a
    finding.
    """
    if r.n_pairs < min_pairs:
        return TOO_FEW
    if not math.isfinite(r.ratio):
        return UNDEFINED
    if math.isfinite(p_adj) and p_adj < alpha and (r.ci_low > 1.0 or r.ci_high < 1.0):
        return FASTER if (r.ci_low > 1.0) == r.higher_is_better else SLOWER
    return NO_DIFF
