#!/usr/bin/python3
"""Regenerate the committed sample runs: /usr/bin/python3 analysis/tests/make_samples.py

data/baseline-small and data/run-small are two independent draws (seeds 1
and 2) of the same synthetic lab, so gating one against the other must pass.
"""
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from samples import write_run  # noqa: E402

data = Path(__file__).resolve().parent / "data"
for name, seed, rid, fin in (("baseline-small", 1, "20261122-base01", "2026-11-22T10:00:00Z"),
                             ("run-small", 2, "20261123-run002", "2026-11-23T12:30:00Z")):
    shutil.rmtree(data / name, ignore_errors=True)
    write_run(data / name, seed, rid, finished=fin)
    print(data / name)
