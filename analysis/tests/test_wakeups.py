"""analysis/wakeups.py: the relations a paired run's wakeup figures keep."""
import copy

import pytest

from analysis.wakeups import read_sleeps, wakeup_problems


def wake(device, op, count, sleeps, woke_running=0, lat=20000):
    return {"device": device, "op": op, "count": count, "sleeps": sleeps, "woke_running": woke_running,
            "sum_ns": count * lat, "min_ns": lat if count else 0, "max_ns": lat if count else 0,
            "histogram": [[lat, lat + 625, count]] if count else [], "percentiles": {"p50": lat, "p99": lat}}


def pingpong(ops=1000, out_sleeps=1000, back_sleeps=990):
    """A pingpong run on scullpipe-c0 (out) and -c1 (back), 2 threads, both reads mostly sleeping."""
    return {"op": "pingpong", "ops": ops, "threads": 2, "bpf": {
        "opslat": [{"device": "/dev/scullpipe-c0", "op": "read", "count": ops + 1},
                   {"device": "/dev/scullpipe-c1", "op": "read", "count": ops}],
        "wakeup": [wake("/dev/scullpipe-c0", "read", out_sleeps + 1, out_sleeps),
                   wake("/dev/scullpipe-c1", "read", back_sleeps, back_sleeps, woke_running=3)]}}


def test_consistent_run_passes():
    d = pingpong()
    assert wakeup_problems(d) == []
    assert read_sleeps(d["bpf"]["wakeup"]) == 1990


def test_missing_wakeup_section():
    d = pingpong()
    del d["bpf"]["wakeup"]
    assert "missing" in wakeup_problems(d)[0]


def test_no_wakeup_timed_fails():
    # the woken task filtered wrongly: every wakeup "finds its thread running"
    d = pingpong()
    d["bpf"]["wakeup"] = [wake("/dev/scullpipe-c0", "read", 0, 1000, woke_running=1000)]
    p = wakeup_problems(d)
    assert any("no wakeup timed" in x for x in p)
    assert any("0 wakeups for 1000 sleeps" in x for x in p)


def test_wakeups_must_match_sleeps_within_one_per_thread():
    d = pingpong()
    d["bpf"]["wakeup"][1]["sleeps"] += 3  # 3 sleeps never woken: more than 2 threads' slack
    assert any("difference outside +-2" in x for x in wakeup_problems(d))
    d = pingpong()
    d["bpf"]["wakeup"][1]["sleeps"] += 2  # at the slack: fine
    assert wakeup_problems(d) == []


def test_pingpong_read_sleeps_at_most_one_per_read():
    d = pingpong(back_sleeps=1003)  # 1003 sleeps in 1000 reads, slack 2
    assert any("more than one per read" in x for x in wakeup_problems(d))


@pytest.mark.parametrize("out_sleeps,back_sleeps,ok", [
    (1000, 0, True),       # one blocked read per round trip: the lower edge of the usual range
    (880, 0, False),       # under 0.9 per round trip
    (1000, 1000, True),    # both reads block
])
def test_pingpong_blocked_reads_per_round_trip(out_sleeps, back_sleeps, ok):
    d = pingpong(out_sleeps=out_sleeps, back_sleeps=back_sleeps)
    p = wakeup_problems(d)
    assert (p == []) == ok, p


def test_pipe_run_has_no_per_read_bound():
    # pipe (1:1): the reader may also sleep on the lock its writer holds
    d = pingpong(back_sleeps=1500)
    d["op"] = "pipe"
    d["bpf"]["wakeup"] = d["bpf"]["wakeup"][1:]
    assert wakeup_problems(d) == []


def test_histogram_must_add_up():
    d = pingpong()
    d2 = copy.deepcopy(d)
    d2["bpf"]["wakeup"][0]["histogram"][0][2] -= 1
    assert any("does not add up" in x for x in wakeup_problems(d2))


def test_mean_must_lie_between_min_and_max():
    # a min/max combined wrongly across CPUs (or a sum that lost events) puts the mean outside
    d = pingpong()
    d["bpf"]["wakeup"][0]["max_ns"] = d["bpf"]["wakeup"][0]["min_ns"] - 1
    assert any("mean outside [min, max]" in x for x in wakeup_problems(d))
    d = pingpong()
    d["bpf"]["wakeup"][1]["min_ns"] = 0  # no wakeup takes 0 ns
    assert any("mean outside [min, max]" in x for x in wakeup_problems(d))
