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
    with pytest.raises(InputError, match="STATS_DISTURBED_FLOOR_FACTOR must be > 1"):
        load_settings(full_conf(tmp_path, STATS_DISTURBED_FLOOR_FACTOR="1"), environ={})
    with pytest.raises(InputError, match="STATS_DISTURBED_FLOOR_REFERENCE in \\[0, 50\\]"):
        load_settings(full_conf(tmp_path, STATS_DISTURBED_FLOOR_REFERENCE="75"), environ={})
    got = load_settings(full_conf(tmp_path), environ={})
    assert (got.disturbed_floor_factor, got.floor_reference) == (1.25, 0.0)


def test_words_with_allowed_values(tmp_path):
    c = read_conf(full_conf(tmp_path), environ={"BENCH_SYNC_MODES": "mutex bogus"})
    with pytest.raises(InputError, match=r"BENCH_SYNC_MODES = 'mutex bogus' \(from environment\): 'bogus' is not one of"):
        c.words("BENCH_SYNC_MODES", allowed=("mutex", "spinlock", "atomic"))
    assert c.words("BENCH_THREADS") == read_conf(full_conf(tmp_path), environ={}).words("BENCH_THREADS")


def test_defaults_are_the_repository_file():
    assert Settings.defaults() == load_settings(repo_root() / "kmodlab.conf", environ={})


# --- kernels (KERNELS, KERNEL_<name>, set-up's build/kernels/) --------------------

def _setup_kernel(root, name, abi):
    """What scripts/setup.sh records for one kernel."""
    out = root / "build" / "kernels" / abi
    out.mkdir(parents=True)
    (out / "kernel.env").write_text(
        f"NAME={name}\nABI={abi}\nSOURCE=debian linux-image-x\nIMAGE=/img/{abi}\n"
        f"BUILD=/usr/src/linux-headers-{abi}\nMODULES=/mods/{abi}\n")
    byname = root / "build" / "kernels" / "by-name"
    byname.mkdir(exist_ok=True)
    (byname / name).symlink_to(f"../{abi}")


def test_kernels_in_order_with_their_paths(tmp_path):
    from analysis.conf import kernel, kernel_key, kernels
    _setup_kernel(tmp_path, "6.1", "6.1.0-57-amd64")
    _setup_kernel(tmp_path, "6.12", "6.12.117+deb12-amd64")
    (tmp_path / "k.conf").write_text("KERNELS = 6.1 6.12\n")
    conf = read_conf(tmp_path / "k.conf", environ={})
    ks = kernels(conf, tmp_path)
    assert [k.name for k in ks] == ["6.1", "6.12"]
    assert ks[1].abi == "6.12.117+deb12-amd64"
    assert ks[1].kmod == str((tmp_path / "build/kernels/6.12.117+deb12-amd64/kmod").resolve())
    assert ks[0].build == "/usr/src/linux-headers-6.1.0-57-amd64"
    assert kernel(None, conf, tmp_path).name == "6.1"          # the first is the default
    assert kernel("6.12.117+deb12-amd64", conf, tmp_path).name == "6.12"  # by ABI
    assert kernel_key("6.12") == "KERNEL_6_12"
    with pytest.raises(InputError, match="no kernel '5.10'"):
        kernel("5.10", conf, tmp_path)


def test_a_kernel_not_set_up_is_an_error_naming_make_setup(tmp_path):
    from analysis.conf import kernels
    _setup_kernel(tmp_path, "6.1", "6.1.0-57-amd64")
    (tmp_path / "k.conf").write_text("KERNELS = 6.1 6.12\n")
    with pytest.raises(InputError, match="kernel 6.12 is not set up.*make setup"):
        kernels(read_conf(tmp_path / "k.conf", environ={}), tmp_path)
