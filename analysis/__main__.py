"""Command line: python3 -m analysis {report,regress,promote} ...

Exit status: 0 success, 1 regression (regress only), 2 unusable input (a
missing or malformed file, named in the message).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from . import conf, gates, load, report
from .errors import InputError

EXIT_REGRESSION = 1
EXIT_INPUT = 2


def cmd_report(args) -> int:
    s = conf.load_settings(args.conf)
    run = load.load_run(args.results)
    md, ht, figs = report.render(run, s)
    print(ht)
    print(md)
    print(run.dir / report.SUMMARY)
    for f in figs:
        print(f)
    return 0


def cmd_regress(args) -> int:
    s = conf.load_settings(args.conf)
    root = conf.repo_root()
    base_dir = Path(args.baseline) if args.baseline else root / "results" / "baseline"
    if not (base_dir / load.MANIFEST).exists():
        raise InputError(f"{base_dir}/{load.MANIFEST}: no baseline run. Make one from a full run with "
                         f"'python3 -m analysis promote results/<run>' (see results/baseline/README.md)")
    if args.run:
        run_dir = Path(args.run)
    else:
        run_dir, notes = load.newest_run(root / "results", exclude=base_dir)
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    base = load.load_run(base_dir)
    new = load.load_run(run_dir)
    print(f"regress: run {new.id} ({run_dir}) against baseline {base.id} ({base_dir})")
    print(f"  run:      {new.env.line()}{' [QUICK]' if new.quick else ''}")
    print(f"  baseline: {base.env.line()}")
    print(f"  settings: {s.source}")
    gs = gates.evaluate(base, new, s)
    print(gates.table(gs))
    verdict = gates.verdict_json(base, new, gs, s)
    out = run_dir / "regress.json"
    out.write_text(json.dumps(verdict, indent=1) + "\n")
    if not any(g.gate.startswith("ratio ") and g.status in (gates.PASS, gates.FAIL) for g in gs):
        print("\nwarning: no C++/C ratio could be gated (too few pairs, or no cell in both runs): "
              "only deterministic figures and correctness were checked", file=sys.stderr)
    c = verdict["counts"]
    print(f"\n{c['PASS']} passed, {c['FAIL']} failed, {c['SKIP']} skipped, {c['INFO']} informational; "
          f"verdict: {verdict['result'].upper()} ({out})")
    return EXIT_REGRESSION if gates.failed(gs) else 0


def cmd_promote(args) -> int:
    """Copy a run's manifest and the files it names (not the rendered report) into the baseline folder."""
    src = Path(args.run)
    dst = Path(args.to) if args.to else conf.repo_root() / "results" / "baseline"
    run = load.load_run(src)  # validates everything first: never promote a broken run
    if run.quick and not args.allow_quick:
        raise InputError(f"{src}: a QUICK run has too few repetitions for a baseline; use a full make bench "
                         "(or --allow-quick)")
    man = load.read_json(src / load.MANIFEST)
    files = [e["file"] for e in man["runs"]]
    for key in ("modules", "reliability", "icount"):
        if man.get(key):
            files.append(man[key])
    for p in man.get("probe_effect") or []:
        files += p["bpf_off"] + p["bpf_on"]
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.iterdir():
        if old.name == "README.md":
            continue
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    for rel in sorted(set(files)) + [load.MANIFEST]:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)
    print(f"baseline {dst} now holds run {run.id} ({len(set(files))} files); commit it: git add {dst}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m analysis",
                                description="kmodlab: C-versus-C++ reports and the regression gate from result JSON.",
                                epilog="Exit status: 0 ok, 1 regression (regress), 2 unusable input. "
                                       "Formats and settings: analysis/README.md.")
    p.add_argument("--conf", type=Path, default=None,
                   help="kmodlab.conf to read settings from (default: $KMODLAB_CONF or <repo>/kmodlab.conf)")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    r = sub.add_parser("report", help="render report.html, report.md and figures/*.png for a run directory",
                       description="Render RESULTS_DIR/report.html, report.md and figures/*.png from the stored JSON "
                                   "(manifest.json and the files it names); prints the paths written.")
    r.add_argument("results", metavar="RESULTS_DIR", help="a run directory, e.g. results/20261123-ab12cd")
    r.set_defaults(func=cmd_report)
    g = sub.add_parser("regress", help="gate a run against the committed baseline (exit 1 on regression)",
                       description="Compare a run with the baseline: paired C++/C ratios (timing pass, Holm-adjusted "
                                   "one-sided tests against a margin), module sizes and stack, BPF counts, correctness. Prints a table of every gate and writes RUN/regress.json. "
                                   "Exit 1 on regression, 2 on unusable input.")
    g.add_argument("--run", metavar="DIR", help="the run to gate (default: newest finished results/<run>/ by "
                                                "manifest 'finished')")
    g.add_argument("--baseline", metavar="DIR", help="the reference run (default: results/baseline)")
    g.set_defaults(func=cmd_regress)
    m = sub.add_parser("promote", help="make a run the new baseline (copies its manifest and raw JSON)",
                       description="Validate RUN and copy manifest.json and every file it names into the baseline "
                                   "folder (default results/baseline), replacing what was there except README.md.")
    m.add_argument("run", metavar="RUN", help="the run directory to promote")
    m.add_argument("--to", metavar="DIR", help="destination (default: results/baseline)")
    m.add_argument("--allow-quick", action="store_true", help="accept a QUICK run (few repetitions)")
    m.set_defaults(func=cmd_promote)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"analysis {args.cmd}: unusable input: {e}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
