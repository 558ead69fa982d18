"""Loading (missing and malformed input) and report rendering."""
import json
import re
from pathlib import Path

import pytest

from analysis import report
from analysis.__main__ import main
from analysis.errors import InputError
from analysis.load import load_run


def test_loads_sample(run_dir):
    run = load_run(run_dir)
    assert run.env.kernel == "6.1.0-56-amd64" and run.env.accel == "tcg" and run.env.cpus == 2
    assert len(run.loadgen) == 2 * (5 + 5 + 3 + 3)
    assert len(run.fio) == 6 and len(run.gbench) == 6  # the aggregate entry is not a sample
    assert list(run.gbench_unmapped) == ["baseline/pread:4096/zero"] and len(run.gbench_unmapped["baseline/pread:4096/zero"]) == 3
    assert run.modules and run.probe and run.reliability["passed"] == 12


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One rendering through the command line, shared: matplotlib is the slow part of the suite.

    A stale figure is planted first so that the re-render cleanup is covered too.
    """
    import shutil
    from conftest import DATA
    d = tmp_path_factory.mktemp("render") / "run-small"
    shutil.copytree(DATA / "run-small", d, ignore=shutil.ignore_patterns("report.*", "figures", "regress.json"))
    (d / "figures").mkdir()
    (d / "figures" / "latency-gone-cell.png").write_bytes(b"x")
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["report", str(d)])
    return d, rc, out.getvalue().split()


def test_cli_report_prints_paths(rendered):
    d, rc, printed = rendered
    assert rc == 0
    assert str(d / "report.html") in printed and str(d / "report.md") in printed
    assert not (d / "figures" / "latency-gone-cell.png").exists()  # stale figure removed


def test_report_renders_tables_and_figures(rendered):
    d, _, printed = rendered
    text_md, text_html = (d / "report.md").read_text(), (d / "report.html").read_text()
    # Every summary row: each cell and metric.
    for cell in ("scull | read4096", "scull | write4096", "counter | inc-t1-mutex", "counter | inc-t2-mutex"):
        for metric in ("throughput", "p50", "p99"):
            assert f"| {cell} | {metric} |" in text_md
    # The synthetic C++ is 20% slower on scull/write4096 and equal elsewhere.
    assert re.search(r"\| scull \| write4096 \| throughput \|.*\*\*C\+\+ slower\*\* \|", text_md)
    assert re.search(r"\| scull \| read4096 \| throughput \|.*no significant difference \|", text_md)
    assert "<strong>C++ slower</strong>" in text_html
    assert "<td>write4096</td>" in text_html
    figs = [Path(p) for p in printed if p.endswith(".png")]
    names = {f.name for f in figs}
    for want in ("ratios.png", "repetitions.png", "latency-scull-read4096.png", "locks-counter.png", "tools.png",
                 "modules.png", "probe-effect.png"):
        assert want in names
    assert names == {f.name for f in (d / "figures").glob("*.png")}
    for f in figs:
        assert f.exists() and f.stat().st_size > 5000
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/{f.name}" in text_md and f'src="figures/{f.name}"' in text_html
    # Environment in the report; the tools agree within tolerance.
    assert "kernel 6.1.0-56-amd64, accel tcg, 2 CPUs" in text_md
    assert "| fio | scull | read4096 | C |" in text_md and "**NO**" not in text_md
    assert "| baseline/pread:4096/zero |" in text_md
    assert "| counter | write1 | 84.0 | 101.0 | 1.202 |" in text_md  # the icount table
    assert "| scull_cxx | 200 | scull_cxx_write |" in text_md  # largest stack frame and its function
    assert "| scull | read | 0 | 0 | 2 | 3 | 4 | 60 | 64 |" in text_md  # dispatch table


def test_tool_disagreement_flagged(run_dir, settings):
    from analysis.compare import tool_rows
    for p in (run_dir / "fio").glob("*-c-*.json"):
        doc = json.loads(p.read_text())
        doc["jobs"][0]["read"]["iops"] *= 0.8
        p.write_text(json.dumps(doc))
    rows = {(r.tool, r.variant): r for r in tool_rows(load_run(run_dir), settings)}
    assert not rows[("fio", "c")].agree and rows[("fio", "c")].diff == pytest.approx(-0.216, abs=0.03)
    assert rows[("fio", "cxx")].agree and rows[("gbench", "c")].agree
    block = report.Table(["agree"], [["yes" if r.agree else "**NO**"] for r in rows.values()])
    assert "<strong>NO</strong>" in report.to_html([block], run_dir, "t")


def _edit(path, fn):
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


def test_missing_manifest(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"manifest.json: file not found"):
        load_run(tmp_path / "empty")
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "unusable input" in capsys.readouterr().err


def test_missing_result_file_named(run_dir):
    (run_dir / "raw" / "scull-read4096-c-r2.json").unlink()
    with pytest.raises(InputError, match=r"scull-read4096-c-r2.json: file not found"):
        load_run(run_dir)


def test_missing_field_named(run_dir):
    _edit(run_dir / "raw" / "counter-inc-t2-mutex-cxx-r3.json", lambda d: d["latency_ns"].pop("p99"))
    with pytest.raises(InputError, match=r"counter-inc-t2-mutex-cxx-r3.json.latency_ns: missing field 'p99'"):
        load_run(run_dir)


def test_malformed_json_named(run_dir):
    (run_dir / "modules.json").write_text("{not json")
    with pytest.raises(InputError, match=r"modules.json: not valid JSON"):
        load_run(run_dir)


def test_wrong_type_named(run_dir):
    _edit(run_dir / "raw" / "scull-read4096-c-r1.json", lambda d: d.update(ops_per_s="fast"))
    with pytest.raises(InputError, match=r"scull-read4096-c-r1.json: field 'ops_per_s' must be a number"):
        load_run(run_dir)


def test_variant_mismatch_is_an_error(run_dir):
    _edit(run_dir / "raw" / "scull-read4096-c-r1.json", lambda d: d.update(variant="cxx"))
    with pytest.raises(InputError, match=r"field 'variant' is 'cxx' but .*runs\[\d+\] says 'c'"):
        load_run(run_dir)


def test_missing_env_field(run_dir):
    _edit(run_dir / "manifest.json", lambda d: d["env"].pop("accel"))
    with pytest.raises(InputError, match=r"manifest.json.env: missing field 'accel'"):
        load_run(run_dir)


def test_bad_histogram(run_dir):
    _edit(run_dir / "raw" / "scull-read4096-cxx-r1.json", lambda d: d["histogram"].append([10, 5, 1]))
    with pytest.raises(InputError, match=r"histogram\[\d+\]: need 0 <= lo < hi"):
        load_run(run_dir)


def test_check_enabled_needs_ok(run_dir):
    _edit(run_dir / "raw" / "scull-read4096-cxx-r1.json", lambda d: d["check"].update(ok=None))
    with pytest.raises(InputError, match=r"check: missing field 'ok'"):
        load_run(run_dir)


def test_unknown_loadgen_version(run_dir):
    _edit(run_dir / "raw" / "scull-read4096-cxx-r1.json", lambda d: d.update(version=99))
    with pytest.raises(InputError, match=r"version 99"):
        load_run(run_dir)
