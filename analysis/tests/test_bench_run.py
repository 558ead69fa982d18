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


class FloorRunner(bm.Runner):
    """A Runner whose pairs write kmodlab-load JSON with the floors given
    (p5 of the histogram), instead of running the guest's tool."""

    def __init__(self, out, floors):
        super().__init__(out, None, {}, 1)
        self.floors = iter(floors)  # one (c floor, cxx floor) per pair

    def pair(self, cell, sides, pass_, index, pair_id, record=True, label=""):
        fl = dict(zip(("c", "cxx"), next(self.floors)))
        for v in ("c", "cxx"):
            rel = f"raw/p{pair_id}-{v}.json"
            (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.out / rel).write_text(
                '{"ops_per_s": 500000, "histogram": [[%d, %d, 100]]}' % (fl[v], fl[v] + 8))
            self.entries.append({"file": rel, "variant": v, "pair": pair_id})


def test_timing_pairs_top_up_only_while_the_disturbed_rule_leaves_too_few(tmp_path):
    """6 wanted, at most 10: clean pairs stop at 6; slow-phase runs (1.5x floor)
    bring more pairs until 6 survive; the cap holds when the host stays slow;
    pair ids are boot x most + i; a real C++/C difference (1.3x) is no reason to go on."""
    from analysis.conf import Settings
    st, cell = Settings.defaults(), bm.build_cells(True, [1], ["mutex"])[0]
    clean, slow = (1400, 1820), (2100, 1820)   # C++ 1.3x slower throughout
    cases = [([clean] * 12, 6), ([clean, slow, clean, slow] + [clean] * 8, 8), ([clean] * 3 + [slow] * 9, 10)]
    for floors, want_pairs in cases:
        r = FloorRunner(tmp_path, floors)
        got = r.timing_pairs(cell, {}, 6, 10, st)
        assert len(got) == 2 * want_pairs, (floors, len(got))
        assert sorted({e["pair"] for e in got}) == list(range(10, 10 + want_pairs))


def test_waiting_cells_are_not_judged_by_a_latency_floor(tmp_path):
    """scullpipe's pipe and pingpong cells wait for the other thread in every
    op: their p5 spreads 2x between clean runs, so only the throughput part of
    the rule applies (analysis/compare.py WAITING_OPS), and no top-up follows
    from floors; counter's incr has a floor."""
    from analysis.conf import Settings
    cells = {c.name: c for c in bm.build_cells(True, [1], ["mutex"])}
    assert not cells["scullpipe/pingpong512"].has_floor and not cells["scullpipe/pipe512"].has_floor
    assert cells["counter/incr-t1-mutex"].has_floor
    floors = [(60_000, 60_000), (120_000, 60_000), (60_000, 130_000)] * 4  # 2x apart, clean throughput
    r = FloorRunner(tmp_path, floors)
    assert len(r.timing_pairs(cells["scullpipe/pingpong512"], {}, 6, 10, Settings.defaults())) == 12
    r = FloorRunner(tmp_path / "floor", floors)
    assert len(r.timing_pairs(cells["counter/incr-t1-mutex"], {}, 6, 10, Settings.defaults())) == 20
