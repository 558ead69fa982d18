"""scripts/bench_matrix.py run(): a tool that hangs stops the bench with its
threads' kernel stacks in the log, within the timeout (not at vm/run's)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import bench_matrix as bm  # noqa: E402


def test_a_hung_run_is_killed_and_logged(tmp_path):
    log_path = tmp_path / "bench.log"
    t0 = time.monotonic()
    with open(log_path, "w") as log, pytest.raises(SystemExit) as exc:
        bm.run(["sleep", "20"], log, timeout=1)
    assert time.monotonic() - t0 < 10
    assert "hung 1 time(s) (BENCH_RUN_TIMEOUT_S = 1 s)" in str(exc.value)
    text = log_path.read_text()
    assert "hung; its threads:" in text
    assert "comm: sleep" in text


def test_a_run_within_the_timeout_passes(tmp_path):
    with open(tmp_path / "bench.log", "w") as log:
        bm.run(["true"], log, timeout=5)


def test_a_failing_run_stops_the_bench(tmp_path):
    with open(tmp_path / "bench.log", "w") as log, pytest.raises(SystemExit) as exc:
        bm.run(["false"], log, timeout=5)
    assert "exited 1" in str(exc.value)


def test_a_hung_run_is_retried(tmp_path):
    log_path = tmp_path / "bench.log"
    with open(log_path, "w") as log, pytest.raises(SystemExit) as exc:
        bm.run(["sleep", "20"], log, timeout=1, retries=1)
    assert "hung 2 time(s)" in str(exc.value)
    assert log_path.read_text().count("$ sleep 20") == 2


def test_a_retry_that_finishes_passes(tmp_path):
    # First attempt hangs (no marker yet), the second finds the marker and ends.
    marker = tmp_path / "seen"
    script = f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; sleep 20"
    with open(tmp_path / "bench.log", "w") as log:
        bm.run(["sh", "-c", script], log, timeout=1, retries=1)


@pytest.mark.parametrize("quick", [True, False])
def test_scullpipe_cells_run_paired_with_bpf_trace_and_check_in_the_bpf_pass_only(quick):
    """The blocking cells: 2 threads on minor 0; their BPF pass is --bpf-trace --check (wakeup latency,
    the driver's sleep/wake tracepoints, each pair's byte stream checked), the timing pass has none of it."""
    cells = {c.name: c for c in bm.build_cells(quick, [1], ["mutex"])}
    s = {"duration_s": 0.3, "bpf_duration_s": 1.0, "warmup_s": 0.1, "bpf_trace": True}
    runner = bm.Runner(Path("/nonexistent"), None, s, 0)
    for name, op in (("scullpipe/pipe512", "pipe"), ("scullpipe/pingpong512", "pingpong")):
        cell = cells[name]
        side = bm.Side(cell.device("c"), cell.module("c"))
        assert side.device.endswith("/scullpipe-c0") and side.module == "scullpipe_c"
        timing = [str(x) for x in runner.command(cell, side, "timing", "t.json")]
        bpf = [str(x) for x in runner.command(cell, side, "bpf", "b.json")]
        assert timing[timing.index("--op") + 1] == op and timing[timing.index("--threads") + 1] == "2"
        assert not {"--bpf", "--bpf-trace", "--check"} & set(timing)
        assert {"--bpf-trace", "--check"} <= set(bpf) and "--bpf" not in bpf
