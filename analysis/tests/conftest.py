"""Shared fixtures: the committed sample runs, copied so that tests never write into the repository."""
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))  # samples.py


@pytest.fixture
def settings():
    from analysis.conf import Settings
    return Settings.defaults()


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run-small"
    shutil.copytree(DATA / "run-small", d, ignore=shutil.ignore_patterns("report.*", "figures", "regress.json"))
    return d


@pytest.fixture
def baseline_dir(tmp_path):
    d = tmp_path / "baseline-small"
    shutil.copytree(DATA / "baseline-small", d, ignore=shutil.ignore_patterns("report.*", "figures", "regress.json"))
    return d
