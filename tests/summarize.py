#!/usr/bin/python3
"""Print the closing line of a test run from the JUnit XML files it left.

Usage: tests/summarize.py [RESULTS_DIR]   (default build/test-results)

Counts every <testcase> of every *.xml below RESULTS_DIR (GoogleTest,
pytest, ctest and tests/lib/check.sh all write that format), lists the
failed and skipped ones by name, and ends with "N passed, N failed[, N
skipped]".  Exits 1 when anything failed or when no test ran at all.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def classify(case):
    """pass, fail or skip for one <testcase> (ctest marks skips by status)."""
    if case.find("failure") is not None or case.find("error") is not None:
        return "fail"
    if case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
        return "skip"
    if case.get("result") == "skipped":
        return "skip"
    return "pass"


def main(argv):
    root = Path(argv[1] if len(argv) > 1 else "build/test-results")
    counts = {"pass": 0, "fail": 0, "skip": 0}
    named = {"fail": [], "skip": []}
    files = sorted(root.rglob("*.xml")) if root.is_dir() else []
    for path in files:
        try:
            tree = ET.parse(path)
        except ET.ParseError as err:
            counts["fail"] += 1
            named["fail"].append(f"{path.name}: unreadable result file ({err})")
            continue
        for case in tree.iter("testcase"):
            kind = classify(case)
            counts[kind] += 1
            if kind != "pass":
                named[kind].append(f"{case.get('classname', '')}.{case.get('name', '')}")
    for kind, label in (("skip", "SKIPPED"), ("fail", "FAILED")):
        for name in named[kind]:
            print(f"{label} {name}")
    line = f"{counts['pass']} passed, {counts['fail']} failed"
    if counts["skip"]:
        line += f", {counts['skip']} skipped"
    print(line)
    if not files or sum(counts.values()) == 0:
        print(f"summarize: no test results in {root}", file=sys.stderr)
        return 1
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
