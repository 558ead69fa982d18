"""analysis/conf.py: kmodlab.conf is the one place values are written, the
environment wins, and a bad or missing value names the key, the value and
where it came from."""
from pathlib import Path

import pytest

from analysis.conf import SCHEMA, Settings, load_settings, read_conf, repo_root
from analysis.errors import InputError


def full_conf(tmp_path: Path, **override) -> Path:
    """The repository's kmodlab.conf with some keys changed (appended: last wins)."""
    text = (repo_root() / "kmodlab.conf").read_text()
    text += "".join(f"\n{k} = {v}" for k, v in override.items()) + "\n"
    p = tmp_path / "kmodlab.conf"
    p.write_text(text)
    return p


def test_every_schema_key_has_its_value_in_kmodlab_conf():
    conf = read_conf(repo_root() / "kmodlab.conf", environ={})
    missing = [k for k in SCHEMA if k not in conf]
    assert missing == []


def test_missing_key_is_an_error_naming_it(tmp_path):
    conf = tmp_path / "kmodlab.conf"
    conf.write_text("REGRESS_RATIO_THRESHOLD = 0.2\n")
    with pytest.raises(InputError, match=r"no REGRESS_RATIO_METRICS \(add"):
        load_settings(conf, environ={})


def test_file_value_then_environment_wins(tmp_path):
    conf = full_conf(tmp_path, REGRESS_RATIO_THRESHOLD="0.33")
    assert load_settings(conf, environ={}).ratio_threshold == 0.33
    s = load_settings(conf, environ={"REGRESS_RATIO_THRESHOLD": "0.2"})
    assert s.ratio_threshold == 0.2 and "$REGRESS_RATIO_THRESHOLD" in s.source
    # an empty environment variable does not count (as in scripts/conf.sh)
    assert load_settings(conf, environ={"REGRESS_RATIO_THRESHOLD": ""}).ratio_threshold == 0.33


def test_origin_is_the_line_or_the_environment(tmp_path):
    conf = full_conf(tmp_path, STATS_SEED="7")
    c = read_conf(conf, environ={"BENCH_PAIRS_PER_BOOT": "9"})
    line = len(conf.read_text().splitlines())
    assert c.origin("STATS_SEED") == f"{conf}:{line}"
    assert c.origin("BENCH_PAIRS_PER_BOOT") == "environment" and c.get("BENCH_PAIRS_PER_BOOT") == "9"


def test_bad_number_names_key_value_and_origin(tmp_path):
    conf = full_conf(tmp_path)
    with pytest.raises(InputError, match=r"REGRESS_RATIO_THRESHOLD = 'ten' \(from environment\) is not a number"):
        load_settings(conf, environ={"REGRESS_RATIO_THRESHOLD": "ten"})
    conf = full_conf(tmp_path, STATS_RESAMPLES="many")
    with pytest.raises(InputError, match=r"STATS_RESAMPLES = 'many' \(from .*kmodlab.conf:\d+\) is not an integer"):
        load_settings(conf, environ={})


def test_range_checks_still_hold(tmp_path):
    with pytest.raises(InputError, match="STATS_RESAMPLES"):
        load_settings(full_conf(tmp_path, STATS_RESAMPLES="100"), environ={})


def test_words_with_allowed_values(tmp_path):
    c = read_conf(full_conf(tmp_path), environ={"BENCH_SYNC_MODES": "mutex bogus"})
    with pytest.raises(InputError, match=r"BENCH_SYNC_MODES = 'mutex bogus' \(from environment\): 'bogus' is not one of"):
        c.words("BENCH_SYNC_MODES", allowed=("mutex", "spinlock", "atomic"))
    assert c.words("BENCH_THREADS") == read_conf(full_conf(tmp_path), environ={}).words("BENCH_THREADS")


def test_defaults_are_the_repository_file():
    assert Settings.defaults() == load_settings(repo_root() / "kmodlab.conf", environ={})
