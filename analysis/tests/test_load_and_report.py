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
    assert len(run.runs_of("timing")) == 5 * 12 * 2 and len(run.runs_of("bpf")) == 5 * 3 * 2
    assert all(r.bpf is None for r in run.runs_of("timing")) and all(r.bpf for r in run.runs_of("bpf"))
    assert len(run.fio) == 6 and len(run.gbench) == 6  # the aggregate entry is not a sample
    assert list(run.gbench_unmapped) == ["baseline/pread:4096/zero"] and len(run.gbench_unmapped["baseline/pread:4096/zero"]) == 3
    assert run.modules and run.reliability["passed"] == 12
    assert run.design["boots"] == 2 and run.design["pairs_per_boot"] == 6 and run.design["order"] == "ABBA"
    r = [r for r in run.loadgen if r.file == "raw/scull-pread4096-timing-p7-cxx.json"][0]
    assert (r.pass_, r.pair, r.boot, r.first, r.bytes_per_op) == ("timing", 7, 1, "cxx", 2057)


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
    # Every summary row: each cell and metric, with its measured bytes per operation.
    for cell in ("* scull | pread4096 | 2,057", "scull | pwrite4096 | 4,096", "* counter | incr-t1-mutex | 2",
                 "counter | incr-t2-mutex | 2", "* lkp_enc | encrypt | 0"):
        for metric in ("throughput", "p50", "p99"):
            assert f"| {cell} | {metric} |" in text_md
    # The synthetic C++ is 20% slower on scull/pwrite4096 and equal elsewhere.
    assert re.search(r"\| scull \| pwrite4096 \| 4,096 \| throughput \|.*\*\*C\+\+ slower\*\* \|", text_md)
    row = re.search(r"\| \* scull \| pread4096 \| 2,057 \| throughput \|.*", text_md).group(0)
    assert re.search(r"no significant difference \(could have detected a ratio outside \[0\.9\d\d, 1\.[01]\d\d\]\)", row)
    assert "| 12 | 0 |" in row  # pairs, excluded
    assert "Correction: **Holm** over the family of 15 comparisons" in text_md
    assert "Pass: **timing**" in text_md and "Pass: **BPF**" in text_md
    assert "## Order effect (timing pass)" in text_md and "| scull | pread4096 | 6 | 6 |" in text_md
    # The synthetic runs' floors come from 150 lognormal samples in 1/8-octave
    # buckets, coarser than a real run's: one C++ run's floor lands 1.4x above
    # its side's fastest while its partner's does not, and the pair is listed.
    excluded = text_md.split("## Excluded pairs")[1].split("\n## ")[0]
    assert re.findall(r"^\| (\w+) \| (\w+) \| (\d+) \|", excluded, re.M) == [("lkp_enc", "encrypt", "6")]
    assert "above 1.25 x the C++ fastest 10,240 (its partner was not)" in excluded
    assert "<strong>C++ slower</strong>" in text_html
    assert "<td>pwrite4096</td>" in text_html
    figs = [Path(p) for p in printed if p.endswith(".png")]
    names = {f.name for f in figs}
    for want in ("ratios.png", "pairs.png", "latency-scull-pread4096.png", "locks-counter.png", "tools.png",
                 "modules.png", "probe-effect.png"):
        assert want in names
    assert names == {f.name for f in (d / "figures").glob("*.png")}
    for f in figs:
        assert f.exists() and f.stat().st_size > 5000
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/{f.name}" in text_md and f'src="figures/{f.name}"' in text_html
    # Environment in the report; the tools agree within tolerance; the probe effect from the two passes.
    assert "kernel 6.1.0-56-amd64, accel tcg, 2 CPUs" in text_md
    assert "| fio | scull | pread4096 | C |" in text_md and "**NO**" not in text_md
    assert text_md.count("| scull | pread4096 | C | timing vs bpf pass |") == 1  # manifest probe_effect: same data
    assert "manifest probe_effect" not in text_md
    assert "| baseline/pread:4096/zero |" in text_md
    assert "| counter | write1 | 84.0 | 101.0 | 1.202 |" in text_md  # the icount table
    assert "| scull_cxx | 200 | scull_cxx_write |" in text_md  # largest stack frame and its function
    assert "| scull | read | 0 | 0 | 2 | 3 | 4 | 60 | 64 |" in text_md  # dispatch table


def test_summary_json(rendered):
    d, _, printed = rendered
    assert str(d / "summary.json") in printed
    doc = json.loads((d / "summary.json").read_text())
    assert doc["schema"] == "kmodlab-summary/1" and doc["family"] == {
        "size": 15, "metrics": ["throughput", "p50", "p5"], "correction": "Holm", "alpha": 0.05}
    cell = next(c for c in doc["cells"] if c["workload"] == "pwrite4096")
    thr = cell["metrics"]["throughput"]
    assert thr["verdict"] == "slower" and thr["n_pairs"] == 12 and 0.75 < thr["ratio"] < 0.85
    assert thr["ci_low"] < thr["ratio"] < thr["ci_high"] and thr["p_holm"] >= thr["p"]
    assert cell["bytes_per_op"] == {"c": 4096.0, "cxx": 4096.0} and cell["excluded"] == []
    assert cell["metrics"]["p99"]["p_holm"] is None and not cell["metrics"]["p99"]["in_family"]


def test_report_byte_identical_on_rerender(rendered):
    d, _, _ = rendered
    before = (d / "report.md").read_bytes()
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(d)]) == 0
    assert (d / "report.md").read_bytes() == before


def test_report_lists_excluded_pairs(tmp_path, settings):
    from samples import write_run
    d = write_run(tmp_path / "dist", 2, "dist", disturbed={("scull", "pread4096"): [(3, "c"), (8, "cxx")]})
    blocks = report.build(load_run(d), settings, tmp_path / "figs")
    md = report.to_markdown(blocks, tmp_path)
    rows = [ln for ln in md.splitlines() if ln.startswith("| scull | pread4096 | 3 |") or
            ln.startswith("| scull | pread4096 | 8 |")]
    assert len(rows) == 2, md[:3000]
    assert "C throughput" in rows[0] and "below 1/3 of the C median" in rows[0]
    assert "C++ throughput" in rows[1]
    assert re.search(r"\| \* scull \| pread4096 \| 2,057 \| throughput \|.*\| 10 \| 2 \|", md)


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
    (run_dir / "raw" / "scull-pread4096-timing-p2-c.json").unlink()
    with pytest.raises(InputError, match=r"scull-pread4096-timing-p2-c.json: file not found"):
        load_run(run_dir)


def test_missing_field_named(run_dir):
    _edit(run_dir / "raw" / "counter-incr-t2-mutex-timing-p3-cxx.json", lambda d: d["latency_ns"].pop("p99"))
    with pytest.raises(InputError, match=r"counter-incr-t2-mutex-timing-p3-cxx.json.latency_ns: missing field 'p99'"):
        load_run(run_dir)


def test_malformed_json_named(run_dir):
    (run_dir / "modules.json").write_text("{not json")
    with pytest.raises(InputError, match=r"modules.json: not valid JSON"):
        load_run(run_dir)


def test_wrong_type_named(run_dir):
    _edit(run_dir / "raw" / "scull-pread4096-timing-p0-c.json", lambda d: d.update(ops_per_s="fast"))
    with pytest.raises(InputError, match=r"scull-pread4096-timing-p0-c.json: field 'ops_per_s' must be a number"):
        load_run(run_dir)


def test_variant_mismatch_is_an_error(run_dir):
    _edit(run_dir / "raw" / "scull-pread4096-timing-p0-c.json", lambda d: d.update(variant="cxx"))
    with pytest.raises(InputError, match=r"field 'variant' is 'cxx' but .*runs\[\d+\] says 'c'"):
        load_run(run_dir)


def test_missing_env_field(run_dir):
    _edit(run_dir / "manifest.json", lambda d: d["env"].pop("accel"))
    with pytest.raises(InputError, match=r"manifest.json.env: missing field 'accel'"):
        load_run(run_dir)


def test_bad_histogram(run_dir):
    _edit(run_dir / "raw" / "scull-pread4096-timing-p0-cxx.json", lambda d: d["histogram"].append([10, 5, 1]))
    with pytest.raises(InputError, match=r"histogram\[\d+\]: need 0 <= lo < hi"):
        load_run(run_dir)


def test_check_enabled_needs_ok(run_dir):
    _edit(run_dir / "raw" / "scull-pread4096-timing-p0-cxx.json", lambda d: d["check"].update(ok=None))
    with pytest.raises(InputError, match=r"check: missing field 'ok'"):
        load_run(run_dir)


def test_unknown_loadgen_version(run_dir):
    _edit(run_dir / "raw" / "scull-pread4096-timing-p0-cxx.json", lambda d: d.update(version=99))
    with pytest.raises(InputError, match=r"version 99"):
        load_run(run_dir)


def test_old_format_manifest_refused_with_regenerate_message(run_dir, capsys):
    def strip(d):
        for e in d["runs"]:
            for k in ("pass", "pair", "first", "boot"):
                e.pop(k, None)
        d.pop("design")
    _edit(run_dir / "manifest.json", strip)
    with pytest.raises(InputError, match=r"manifest.json.runs\[0\]: missing field 'pass'.*predates the paired"):
        load_run(run_dir)
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "make bench" in err and "python3 -m analysis promote" in err


def test_old_format_baseline_refused_by_regress(run_dir, baseline_dir, capsys):
    _edit(baseline_dir / "manifest.json", lambda d: [e.pop("pass", None) for e in d["runs"]])
    assert main(["regress", "--run", str(run_dir), "--baseline", str(baseline_dir)]) == 2
    err = capsys.readouterr().err
    assert "baseline-small/manifest.json" in err and "promote" in err


def test_timing_entry_without_pair_fields_refused(run_dir):
    _edit(run_dir / "manifest.json", lambda d: d["runs"][5].pop("boot"))
    with pytest.raises(InputError, match=r"runs\[5\]: missing field 'boot'"):
        load_run(run_dir)


def test_missing_design_refused(run_dir):
    _edit(run_dir / "manifest.json", lambda d: d.pop("design"))
    with pytest.raises(InputError, match=r"missing field 'design'.*make bench"):
        load_run(run_dir)


def test_broken_pair_refused(run_dir):
    def two_c(d):
        e = next(e for e in d["runs"] if e.get("pass") == "timing" and e["variant"] == "cxx")
        e["first"] = "c" if e["first"] == "cxx" else "cxx"
    _edit(run_dir / "manifest.json", two_c)
    with pytest.raises(InputError, match=r"disagree on 'first'"):
        load_run(run_dir)
    _edit(run_dir / "manifest.json", lambda d: d["runs"][1].update(pair=99))
    with pytest.raises(InputError, match=r"must be exactly one C and one C\+\+ run"):
        load_run(run_dir)
