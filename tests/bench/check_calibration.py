#!/usr/bin/python3
"""check_calibration.py - checks of a calibration run for tests/bench/test-calibrate.sh.

Usage: check_calibration.py fields DIR     calibration.json fields and ranges
       check_calibration.py planted DIR    the largest plant found (pooled p5 pairs)
       check_calibration.py condition DIR  the name of the largest plant's condition (plus10 ...)
       check_calibration.py regressed FILE a regress.json FAILs a ratio as a measured regression
Exit 0 when the check holds, 1 with the reason otherwise.
"""
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def fail(msg):
    print(f"check_calibration: {msg}")
    sys.exit(1)


def in01(x):
    return isinstance(x, (int, float)) and 0 <= x <= 1


def fields(d):
    path = d / "calibration.json"
    if not path.exists():
        fail(f"{path} missing")
    doc = json.loads(path.read_text())
    if not in01(doc.get("aa_false_positive_rate")):
        fail(f"aa_false_positive_rate {doc.get('aa_false_positive_rate')!r} is not a rate in [0, 1]")
    levels = doc.get("levels")
    if not isinstance(levels, list) or not levels:
        fail("levels is missing or empty")
    for lv in levels:
        for key in ("planted_ratio", "detection_rate", "coverage", "estimated_ratio_median"):
            if key not in lv:
                fail(f"a level lacks {key}: {lv}")
        if not (in01(lv["detection_rate"]) and in01(lv["coverage"])):
            fail(f"rates out of [0, 1]: {lv}")
        for key in ("planted_ratio", "estimated_ratio_median"):
            if not (isinstance(lv[key], (int, float)) and math.isfinite(lv[key]) and 0.2 < lv[key] < 5):
                fail(f"{key} {lv[key]!r} is not a plausible ratio: {lv}")
    top = largest_level(doc)
    if abs(top["planted_ratio"] - (1 + top["planted_cost"])) > 1e-9:
        fail(f"the p50 level's planted ratio is not 1 + its planted cost: {top}")
    print(f"ok: aa_false_positive_rate {doc['aa_false_positive_rate']}, {len(levels)} levels")


def largest_level(doc):
    """The p50 level with the largest planted cost (CALIB_LEVELS[_QUICK])."""
    p50 = [lv for lv in doc.get("levels", []) if lv.get("metric") == "p50" and "planted_cost" in lv]
    if not p50:
        fail(f"no p50 level with a planted cost: {doc.get('levels')}")
    return max(p50, key=lambda lv: lv["planted_cost"])


def condition_name(cost):
    """The replicate condition of a planted cost, as scripts/calibrate_guest.py names it."""
    return f"plus{round(cost * 100)}"


def condition(d):
    print(condition_name(largest_level(json.loads((d / "calibration.json").read_text()))["planted_cost"]))


def planted(d):
    """Every replicate's pairs of the largest plant together: the p5 ratio (the
    bench's least noisy metric) must be clearly above 1, and its CI within
    0.05 of the planted ratio (sizing error plus noise)."""
    import calibrate
    from analysis.conf import load_settings
    doc = json.loads((d / "calibration.json").read_text())
    cost = largest_level(doc)["planted_cost"]
    cond_name = condition_name(cost)
    settings = load_settings()
    _, groups = calibrate.load_pairs(d, settings.floor_percentile)
    merged = {}
    for (rep, cond, cell), pairs in groups.items():
        if cond == cond_name:
            for pid, v in pairs.items():
                merged.setdefault(cell, {})[(rep, pid)] = v
    if not merged:
        fail(f"the run has no {cond_name} pairs")
    for cell, pairs in merged.items():
        want = calibrate.truth(doc["sizing"], cell, "p5", cost, calibrate.clean_p5(groups, cell))
        r = calibrate.compare_group(pairs, "p5", settings)
        print(f"{cell}: p5 ratio {r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}], p {r.p:.2g}, "
              f"{r.n_pairs} pairs ({len(r.excluded)} excluded as disturbed), planted {want:.3f}")
        if not r.ci_low > 1.0:
            fail(f"{cell}: the planted {want:.2f} is not detected (CI reaches {r.ci_low:.3f})")
        if not r.ci_low - 0.05 <= want <= r.ci_high + 0.05:
            fail(f"{cell}: the CI [{r.ci_low:.3f}, {r.ci_high:.3f}] is far from the planted {want:.2f}")


def regressed(path):
    """A ratio gate FAILs on the measured ratio (not because it cannot decide)."""
    doc = json.loads(path.read_text())
    hits = [g for g in doc["gates"] if g["gate"].startswith("ratio ") and g["status"] == "FAIL"
            and "cannot gate" not in g["detail"]]
    others = [g for g in doc["gates"] if g["status"] == "FAIL" and g not in hits]
    if not hits:
        fail(f"no ratio gate FAILs as a regression; FAIL rows: {[(g['gate'], g['detail']) for g in others]}")
    print("regression found: " + "; ".join(f"{g['gate']}: {g['now']} vs {g['baseline']}" for g in hits))


if __name__ == "__main__":
    cmds = {"fields": fields, "planted": planted, "regressed": regressed, "condition": condition}
    if len(sys.argv) != 3 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](Path(sys.argv[2]))
