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


# --- the Rust column: C/Rust pairs where counter_rust is built --------------------------
DEBIAN_BUILT = {f"{d}_{v}" for d in ("scull", "counter", "lkp_enc", "scullpipe") for v in ("c", "cxx")}


class FakeGuest:
    """Stands in for the guest: every kmodlab-load command writes a clean result
    (same throughput and floor for every variant), and records its arguments."""

    def __init__(self, monkeypatch, tracepoints):
        self.commands = []
        monkeypatch.setattr(bm, "run", self.run)
        monkeypatch.setattr(bm, "ensure_sync", lambda mods, sync, log: self.commands.append(["sync", sync, *mods]))
        monkeypatch.setattr(bm, "assert_uninstrumented", lambda: None)
        monkeypatch.setattr(bm, "has_tracepoints", lambda module: module in tracepoints)

    def run(self, cmd, log, env=None, timeout=None, retries=0):
        cmd = [str(x) for x in cmd]
        self.commands.append(cmd)
        if "--json" not in cmd:  # scripts/modules.sh load/unload
            return
        Path(cmd[cmd.index("--json") + 1]).write_text('{"ops_per_s": 500000, "ops": 1000, "bytes": 2000, '
                                                      '"histogram": [[1400, 1408, 100]]}')


def bench_boot(tmp_path, monkeypatch, built, boot=0):
    """One boot of the QUICK matrix's counter and scull cells with the fake guest: (entries, commands, design)."""
    from analysis.conf import Settings
    guest = FakeGuest(monkeypatch, tracepoints={m for m in built if not m.endswith("_rust")})
    s = {"pairs_per_boot": 4, "max_pairs_per_boot": 6, "bpf_pairs_per_boot": 2, "duration_s": 0.3,
         "bpf_duration_s": 1.0, "warmup_s": 0.1, "bpf_trace": True, "discard_first": 0, "run_timeout_s": 60,
         "stats": Settings.defaults()}
    cells = [c for c in bm.build_cells(True, [1], ["mutex"]) if c.name in ("counter/incr-t1-mutex", "scull/pread4096")]
    with open(tmp_path / "bench.log", "w") as log:
        runner = bm.Runner(tmp_path, log, s, boot)
        bm.run_matrix(cells, runner, s, bm.Progress(100, boot, 2), built)
    return runner.entries, guest.commands


def test_debian_kernels_get_exactly_the_c_cxx_pairs(tmp_path, monkeypatch):
    """No counter_rust.ko: every pair is C/C++, no entry says pair_variants, no file has a '-rust' tag."""
    entries, commands = bench_boot(tmp_path, monkeypatch, DEBIAN_BUILT)
    assert {e["variant"] for e in entries} == {"c", "cxx"}
    assert not any("pair_variants" in e for e in entries)
    assert not any("rust" in e["file"] for e in entries)
    assert not any("--bpf-attach" in c for c in commands)
    # scull: 4 timing + 2 BPF pairs; counter the same
    assert len([e for e in entries if e["driver"] == "counter"]) == 2 * (4 + 2)
    assert ["sync", "mutex", "counter_c", "counter_cxx"] in commands


def test_rust_kernel_adds_c_rust_pairs_to_the_counter_cells(tmp_path, monkeypatch):
    """counter_rust.ko built: each counter cell also runs C/Rust pairs in both passes, ABBA, with their own
    files and pair ids; their BPF pass is tp_btf on both sides without --bpf-trace (Rust has neither BTF
    nor tracepoints); scull is unchanged."""
    built = DEBIAN_BUILT | {"counter_rust"}
    entries, commands = bench_boot(tmp_path, monkeypatch, built, boot=1)
    rust = [e for e in entries if e.get("pair_variants") == ["c", "rust"]]
    assert {e["driver"] for e in rust} == {"counter"}
    assert {e["variant"] for e in rust} == {"c", "rust"}
    for pass_, n in (("timing", 4), ("bpf", 2)):
        got = [e for e in rust if e["pass"] == pass_]
        assert len(got) == 2 * n, (pass_, len(got))
        by_pair = {}
        for e in got:
            by_pair.setdefault(e["pair"], []).append(e)
        assert all(sorted(x["variant"] for x in p) == ["c", "rust"] for p in by_pair.values())
        firsts = [p[0]["first"] for _, p in sorted(by_pair.items())]
        assert firsts == ["rust", "c"] * (n // 2), firsts  # ABBA; boot 1 starts with the other side
        assert all("-rust-b1-" in e["file"] for e in got)
    cxx = [e for e in entries if e["driver"] == "counter" and "pair_variants" not in e]
    assert {e["variant"] for e in cxx} == {"c", "cxx"} and len(cxx) == 2 * (4 + 2)
    assert not {e["file"] for e in cxx} & {e["file"] for e in rust}
    loads = [c for c in commands if c[0] != "sync" and "--bpf" in c and "counter" in " ".join(c)]
    rust_bpf = [c for c in loads if any("rust" in x for x in c[c.index("--json") + 1:c.index("--json") + 2])]
    assert len(rust_bpf) == 4 and all(c[c.index("--bpf-attach") + 1] == "tp_btf" for c in rust_bpf)
    assert not any("--bpf-trace" in c for c in rust_bpf)
    cxx_bpf = [c for c in commands if "--bpf-trace" in c and "counter" in c[c.index("--device") + 1]]
    assert len(cxx_bpf) == 4 and not any("--bpf-attach" in c for c in cxx_bpf)
    assert ["sync", "mutex", "counter_c", "counter_cxx", "counter_rust"] in commands
    rust_timing = [c for c in commands if "-rust-b1-" in " ".join(c) and "timing" in " ".join(c)]
    assert len(rust_timing) == 8 and not any({"--bpf", "--bpf-trace", "--bpf-attach"} & set(c) for c in rust_timing)
    assert {c[c.index("--device") + 1] for c in rust_timing} == {"/dev/counter-c", "/dev/counter-rust"}
    # the probe effect keeps C's runs of the two comparisons apart (their BPF passes hook differently)
    pe = {(g["variant"], str(g.get("pair_variants"))): g for g in bm.probe_effect(entries) if g["driver"] == "counter"}
    assert set(pe) == {("c", "None"), ("cxx", "None"), ("c", "['c', 'rust']"), ("rust", "['c', 'rust']")}
    assert all(len(g["bpf_off"]) == 4 and len(g["bpf_on"]) == 2 for g in pe.values())


def test_manifest_design_names_the_other_pairs_only_where_they_ran(monkeypatch):
    """design.other_pairs (which C/Rust pairs, their BPF hook) on the Rust kernel; absent on Debian's."""
    from types import SimpleNamespace
    from analysis.shard import WHOLE
    monkeypatch.setattr(bm, "env_record", lambda: {})
    s = {"pairs_per_boot": 4, "max_pairs_per_boot": 6, "bpf_pairs_per_boot": 1, "duration_s": 0.3,
         "bpf_duration_s": 1.0, "warmup_s": 0.1, "bpf_trace": True, "discard_first": 0, "pin_guest_cpu": "",
         "threads": [1], "sync_modes": ["mutex"]}
    opt = SimpleNamespace(boots=2, run_id="x", quick=True, kernel_name="rust", commit="c0ffee", shard=WHOLE,
                          machine='{"id": "m"}', cells=None)
    cells = bm.build_cells(True, [1], ["mutex"])
    debian = bm.new_manifest(Path("/nonexistent"), opt, s, cells, cells, DEBIAN_BUILT)
    assert "other_pairs" not in debian["design"]
    rust = bm.new_manifest(Path("/nonexistent"), opt, s, cells, cells, DEBIAN_BUILT | {"counter_rust"})
    assert rust["design"]["other_pairs"]["pairs"] == ["counter: c/rust"]
    assert rust["design"]["other_pairs"]["bpf_attach"] == "tp_btf"
    assert {k: v for k, v in rust["design"].items() if k != "other_pairs"} == debian["design"]


@pytest.mark.parametrize("discard", ["0", "1"])
def test_a_whole_boot_on_the_rust_kernel(tmp_path, monkeypatch, discard):
    """main(), one boot of one counter cell where counter_rust.ko is built: the manifest has both
    comparisons' pairs, says so in its design, and keeps their probe-effect groups apart; warm-up
    pairs (BENCH_DISCARD_FIRST) run unrecorded in both comparisons."""
    import json
    import sys as _sys
    FakeGuest(monkeypatch, tracepoints=DEBIAN_BUILT)
    monkeypatch.setattr(bm, "built_modules", lambda: DEBIAN_BUILT | {"counter_rust"})
    monkeypatch.setattr(bm, "env_record", lambda: {})
    monkeypatch.setattr(bm, "LOAD", Path("/bin/true"))
    monkeypatch.setattr(bm, "GBENCH", Path("/bin/true"))
    monkeypatch.setattr(_sys, "argv", ["bench_matrix.py", "--out", str(tmp_path), "--boot", "0", "--boots", "1",
                                       "--quick", "--cells", "counter/incr-t1-mutex", "--machine", '{"id": "m"}',
                                       "--pairs", "2", "--bpf-pairs", "1", "--discard-first", discard])
    bm.main()
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["design"]["other_pairs"]["pairs"] == ["counter: c/rust"]
    by = {}
    for e in man["runs"]:
        by.setdefault((e["pass"], str(e.get("pair_variants"))), []).append(e["variant"])
    abba, baab = ["c", "cxx", "cxx", "c"], ["cxx", "c", "c", "cxx"]  # the first pair index moves by the warm-up
    assert by[("timing", "None")] == (abba if discard == "0" else baab)
    assert by[("timing", "['c', 'rust']")] == [{"cxx": "rust"}.get(v, v) for v in by[("timing", "None")]]
    assert sorted(by[("bpf", "None")]) == ["c", "cxx"] and sorted(by[("bpf", "['c', 'rust']")]) == ["c", "rust"]
    assert len(by) == 4 and len(list((tmp_path / "raw" / "discarded").glob("*-rust-*"))) == 2 * int(discard) * 2
    assert len(man["probe_effect"]) == 4
