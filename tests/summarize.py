#!/usr/bin/python3
"""Print the closing line of a test run from the JUnit XML files it left.

Usage: tests/summarize.py [RESULTS_DIR] [--expect FILE] [--json FILE]
       (RESULTS_DIR default build/test-results)

Counts every <testcase> of every *.xml below RESULTS_DIR (GoogleTest,
pytest, ctest and tests/lib/check.sh all write that format), lists the
failed and skipped ones by name, and ends with "N passed, N failed[, N
skipped]".

--expect FILE names the results the run must have left, one a line:
"GLOB DESCRIPTION" (GLOB relative to RESULTS_DIR; blank lines and # comments
ignored).  tests/run.sh writes it before any step runs.  An expectation none
of whose files holds a test case that ran (passed or failed; skipped ones do
not count) is a failure of its own, "MISSING DESCRIPTION": that is how a
guest that died before its suites wrote anything, or a step that never
started, shows up instead of silently shrinking the count.

Results below RESULTS_DIR/kernels/<name>/ are those of another guest kernel
(tests/run.sh: the suites it runs on every kernel but the default): their
names carry "[<name>]", and a line per kernel before the closing one gives
that kernel's counts ("--default-kernel NAME" labels everything else).

--steps FILE is tests/run.sh's steps.tsv (a line per step as it starts:
seconds since the run began, a tab, the step's name; the last line is the
summary itself): the time each step took is printed before the counts and
written to the JSON as "steps" and "total_s".  A line that does not parse is
named on stderr and the timing left out; it never changes the exit status
(timing is reported, not tested).

Exits 1 when anything failed, when an expected result is missing, or when no
test passed at all (an empty or all-skipped run is not a success).
"""
import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def classify(case):
    """pass, fail or skip for one <testcase> (ctest marks skips by status)."""
    if case.find("failure") is not None or case.find("error") is not None:
        return "fail"
    # ctest writes every "Not Run" test as status="notrun" with <skipped>,
    # also one whose executable is missing ("Unable to find executable"),
    # which ctest itself counts as failed.  Only a skip the test asked for
    # (SKIP_RETURN_CODE, SKIP_REGULAR_EXPRESSION) is a skip.
    if case.get("status") == "notrun":
        skipped = case.find("skipped")
        message = skipped.get("message", "") if skipped is not None else ""
        return "skip" if message.startswith("SKIP_") else "fail"
    if case.find("skipped") is not None or case.get("status") == "disabled":
        return "skip"
    if case.get("result") == "skipped":
        return "skip"
    return "pass"


def read_expectations(path):
    """[(glob, description)] from an --expect file."""
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        glob, _, what = line.partition(" ")
        out.append((glob, what.strip() or glob))
    return out


def parse_results(root):
    """{path: [kind of each testcase]} for every XML file; None = unreadable."""
    results = {}
    for path in sorted(root.rglob("*.xml")) if root.is_dir() else []:
        try:
            tree = ET.parse(path)
        except ET.ParseError as err:
            results[path] = err
            continue
        results[path] = [(classify(c), f"{c.get('classname', '')}.{c.get('name', '')}")
                         for c in tree.iter("testcase")]
    return results


def kernel_of(root, path):
    """The kernel a result file belongs to: <name> under kernels/<name>/, else None."""
    parts = path.relative_to(root).parts
    return parts[1] if len(parts) > 2 and parts[0] == "kernels" else None


def per_kernel(root, results, default_kernel):
    """{label: {"pass": n, "fail": n, "skip": n}} by kernel; the default's label names it."""
    out = {}
    default = f"default kernel {default_kernel} and host" if default_kernel else "default kernel and host"
    for path, cases in results.items():
        k = kernel_of(root, path)
        c = out.setdefault(f"kernel {k}" if k else default, {"pass": 0, "fail": 0, "skip": 0})
        if isinstance(cases, Exception):
            c["fail"] += 1
            continue
        for kind, _ in cases:
            c[kind] += 1
    return out


def missing(root, results, expectations):
    """Descriptions of the expectations no file with a test that ran meets."""
    out = []
    for glob, what in expectations:
        files = [p for p in root.glob(glob) if p in results]
        ran = sum(1 for p in files if not isinstance(results[p], Exception)
                  for kind, _ in results[p] if kind != "skip")
        if not ran:
            why = "no such file" if not files else "no test case in it ran"
            out.append(f"{what} ({glob}: {why})")
    return out


def read_steps(path):
    """[(name, seconds)] from a steps.tsv and the total, or raise ValueError."""
    starts = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        at, sep, name = line.partition("\t")
        if not sep or not at.isdigit():
            raise ValueError(f"{path}:{n}: not 'SECONDS<tab>STEP': {line!r}")
        starts.append((int(at), name))
    if len(starts) < 2:
        raise ValueError(f"{path}: {len(starts)} step(s), need a step and the summary's line")
    steps = [(name, nxt - at) for (at, name), (nxt, _) in zip(starts, starts[1:])]
    if any(d < 0 for _, d in steps):
        raise ValueError(f"{path}: step times go backwards")
    return steps, starts[-1][0] - starts[0][0]


def print_steps(path, report):
    """Print the time per step; add it to the JSON report (a bad file is said, not fatal)."""
    try:
        steps, total = read_steps(path)
    except (OSError, ValueError) as err:
        print(f"summarize: no step timing: {err}", file=sys.stderr)
        return
    print(f"time per step (total {total} s):")
    for name, sec in steps:
        print(f"  {sec:6d} s  {name}")
    report["steps"] = [{"step": name, "seconds": sec} for name, sec in steps]
    report["total_s"] = total


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", default="build/test-results", help="folder of JUnit XML files")
    ap.add_argument("--expect", metavar="FILE", help="results the run must have left (GLOB DESCRIPTION a line)")
    ap.add_argument("--json", metavar="FILE", help="also write the counts and names as JSON")
    ap.add_argument("--steps", metavar="FILE", help="tests/run.sh's steps.tsv: print the time each step took")
    ap.add_argument("--default-kernel", metavar="NAME", help="the kernel the results outside kernels/ ran on")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    root = Path(args.results)
    counts = {"pass": 0, "fail": 0, "skip": 0, "missing": 0}
    named = {"fail": [], "skip": [], "missing": []}
    results = parse_results(root)
    for path, cases in results.items():
        if isinstance(cases, Exception):
            counts["fail"] += 1
            named["fail"].append(f"{path.name}: unreadable result file ({cases})")
            continue
        k = kernel_of(root, path)
        for kind, name in cases:
            counts[kind] += 1
            if kind != "pass":
                named[kind].append(f"[{k}] {name}" if k else name)
    if args.expect:
        try:
            named["missing"] = missing(root, results, read_expectations(args.expect))
        except OSError as err:
            named["missing"] = [f"the list of expected results ({err})"]
        counts["missing"] = len(named["missing"])
    report = {}
    if args.steps:
        print_steps(args.steps, report)
    for kind, label in (("skip", "SKIPPED"), ("fail", "FAILED"), ("missing", "MISSING")):
        for name in named[kind]:
            print(f"{label} {name}")
    kernels = per_kernel(root, results, args.default_kernel)
    if len(kernels) > 1:
        for label, c in sorted(kernels.items()):
            print(f"{label}: {c['pass']} passed, {c['fail']} failed" + (f", {c['skip']} skipped" if c["skip"] else ""))
    # A missing result is a failure: the closing line says so in its count.
    line = f"{counts['pass']} passed, {counts['fail'] + counts['missing']} failed"
    if counts["skip"]:
        line += f", {counts['skip']} skipped"
    # The closing line stays exactly "N passed, N failed[, N skipped]" (CI
    # reads it); what the failures include is said on the line before.
    if counts["missing"]:
        print(f"(the failures include {counts['missing']} expected result"
              f"{'s' if counts['missing'] > 1 else ''} missing)")
    print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "kernels": kernels, **named, **report}, indent=1) + "\n")
    if counts["pass"] == 0:
        print(f"summarize: no test passed in {root} (none ran, or all were skipped)", file=sys.stderr)
        return 1
    return 1 if counts["fail"] or counts["missing"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
