"""Power of the ratio gate and of the verdicts, by simulation: python3 -m analysis.power --help

Each trial draws a baseline and a run of one cell as the lab measures it:
n pairs over B boots, per-pair log-ratio noise SD `noise`, a per-boot shift
of the log-ratio with SD `boot_sd` (layout effects), and in the run a
C++ that costs `regression` more time (throughput ratio / (1 + regression)).
Both go through the real code (stats.paired_compare, gates.ratio_regression),
the one-sided p is compared with REGRESS_ALPHA / m (Holm's first step over m
gated ratios, where a single regressed cell lands), and the share of trials
that FAIL is the gate's detection rate (regression > 0) or its false-failure
rate per gated cell (regression = 0, an A/A run).  The family-wise A/A rate
over m cells is 1 - (1 - rate)^m, treating cells as independent (Holm bounds
it by REGRESS_ALPHA).  README.md quotes this module's output.
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from .conf import Settings, load_settings
from .gates import ratio_regression
from .stats import paired_compare


def draw(rng, n_pairs: int, boots: int, noise: float, boot_sd: float, log_ratio: float):
    """(c, cxx, boot) of one synthetic run: pairs share a drift that cancels in their ratio."""
    boot = np.arange(n_pairs) * boots // n_pairs
    shift = rng.normal(0, boot_sd, boots)[boot] if boot_sd else 0.0
    c = 1e5 * rng.lognormal(0, 0.03, n_pairs)
    cxx = c * np.exp(log_ratio + shift + rng.normal(0, noise, n_pairs))
    return c, cxx, boot


def gate_fail_rate(s: Settings, n_pairs: int, boots: int, noise: float, boot_sd: float, regression: float,
                   trials: int, seed: int, family: int) -> float:
    """Share of trials whose throughput ratio gate FAILS (run C++ slower by `regression` than the baseline).

    The gate is Holm-adjusted over `family` gated ratios; with one regressed
    cell among unchanged ones its p is the smallest, which Holm compares with
    REGRESS_ALPHA / family: the level used here.
    """
    rng = np.random.default_rng(seed)
    fails = 0
    for _ in range(trials):
        c, x, bt = draw(rng, n_pairs, boots, noise, boot_sd, 0.0)
        b = paired_compare(c, x, boots=None if boots == 1 else bt, settings=s)
        c, x, bt = draw(rng, n_pairs, boots, noise, boot_sd, -np.log1p(regression))
        r = paired_compare(c, x, boots=None if boots == 1 else bt, settings=s)
        fails += ratio_regression(b, r, s)[0] < s.regress_alpha / family
    return fails / trials


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m analysis.power",
                                 description="Simulated power of the ratio gate (analysis/README.md quotes it).")
    ap.add_argument("--pairs", type=int, nargs="+", default=[8, 12, 24], help="pairs per cell and run")
    ap.add_argument("--boots", type=int, default=1, help="guest boots the pairs are spread over")
    ap.add_argument("--noise", type=float, default=0.04, help="per-pair SD of log(C++/C)")
    ap.add_argument("--boot-sd", type=float, default=0.0, help="SD of a per-boot shift of log(C++/C)")
    ap.add_argument("--regressions", type=float, nargs="+", default=[0.0, 0.10, 0.15])
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--cells", type=int, default=38, help="gated cells x metrics, for the family-wise A/A rate")
    ap.add_argument("--seed", type=int, default=1)
    opt = ap.parse_args(argv)
    # 2000 resamples (the minimum) keep the simulation quick; the gate uses the SEs, not the CI.
    s = dataclasses.replace(load_settings(), resamples=2000)
    print(f"ratio gate: margin {s.ratio_threshold:.0%}, one-sided alpha {s.regress_alpha}; noise {opt.noise:.1%} "
          f"per pair, {opt.boots} boot(s), boot SD {opt.boot_sd:.1%}, {opt.trials} trials per row")
    print("pairs  regression  FAIL rate" + ("  family-wise over %d gates" % opt.cells))
    for n in opt.pairs:
        for reg in opt.regressions:
            rate = gate_fail_rate(s, n, opt.boots, opt.noise, opt.boot_sd, reg, opt.trials, opt.seed, opt.cells)
            fam = f"  {1 - (1 - rate) ** opt.cells:.3f}" if reg == 0 else ""
            print(f"{n:5d}  {reg:10.0%}  {rate:9.3f}{fam}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
