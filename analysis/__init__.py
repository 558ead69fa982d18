"""kmodlab analysis: result JSON to C-versus-C++ reports, and the regression gate.

Modules, in the order data flows through them:

  conf      thresholds and statistics settings (kmodlab.conf, REGRESS_*/STATS_*/REPORT_*)
  load      reading and validating a run directory (manifest.json and the files it names)
  stats     bootstrap confidence intervals, Mann-Whitney U, verdicts
  syscalls  which syscall a kmodlab-load operation issues (no numpy: validate.py uses it)
  compare   grouping a run's repetitions into C/C++ comparisons
  gates     the regression gate (ratios, deterministic figures, correctness)
  figures   matplotlib figures (Agg backend, PNG)
  report    report.md and report.html

Run it as ``python3 -m analysis --help`` from the repository root.
"""

__all__ = ["conf", "load", "stats", "syscalls", "compare", "gates", "figures", "report"]
