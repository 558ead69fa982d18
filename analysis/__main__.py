"""Command line: python3 -m analysis {report,regress,promote,merge} ...

Exit status: 0 success, 1 regression (regress only), 2 unusable input (a
missing or malformed file, named in the message).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from . import benchset, conf, gates, load, merge, report, setreport
from .errors import InputError

EXIT_REGRESSION = 1
EXIT_INPUT = 2


def cmd_report(args) -> int:
    s = conf.load_settings(args.conf)
    if benchset.is_set(Path(args.results)):
        for f in setreport.render_set(benchset.load_set(args.results), s):
            print(f)
        return 0
    run = load.load_run(args.results)
    md, ht, figs = report.render(run, s)
    print(ht)
    print(md)
    print(run.dir / report.SUMMARY)
    for f in figs:
        print(f)
    return 0


def gate_one(base_dir: Path, run_dir: Path, s) -> dict:
    """One kernel's run against its baseline: the table on stdout, RUN/regress.json; returns the verdict."""
    base = load.load_run(base_dir)
    new = load.load_run(run_dir)
    print(f"regress: run {new.id} ({run_dir}) against baseline {base.id} ({base_dir})")
    print(f"  run:      {new.env.line()}{' [QUICK]' if new.quick else ''}")
    print(f"  baseline: {base.env.line()}")
    exact = load.read_json(base_dir / load.MANIFEST).get(EXACT_FROM)
    if exact:
        print(f"            module sizes and instruction counts from run {exact['run']} "
              f"(commit {str(exact.get('commit'))[:12]}, promoted {exact.get('promoted')})")
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
    return verdict


def _pick_run(args, root: Path, base_root: Path) -> Path:
    if args.run:
        return Path(args.run)
    run_dir, notes = load.newest_run(root / "results", exclude=base_root)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    return run_dir


def cmd_regress(args) -> int:
    """Every kernel of the run against that kernel's baseline (results/baseline/<series>/).

    A kernel without a baseline FAILS (a gate that cannot decide must not
    pass); a baseline kernel the run did not measure (make bench KERNEL=) is
    a visible SKIP line."""
    s = conf.load_settings(args.conf)
    root = conf.repo_root()
    base_root = Path(args.baseline) if args.baseline else root / "results" / "baseline"
    have = benchset.baseline_series(base_root)
    if not have:
        raise InputError(f"{base_root}: no baseline run. Make one from a full run with "
                         f"'python3 -m analysis promote results/<run>' (see results/baseline/README.md)")
    run_dir = _pick_run(args, root, base_root)
    bs = benchset.load_set(run_dir)
    if args.baseline and not bs.is_set and not benchset.is_set(base_root) and (base_root / load.MANIFEST).is_file():
        # One plain run against one plain baseline, named explicitly: compared whatever their kernels.
        return EXIT_REGRESSION if gate_one(base_root, run_dir, s)["result"] == "fail" else 0
    kernels, failed = [], False
    for k in bs.kernels:
        base_dir = benchset.baseline_for(base_root, k.series)
        if base_dir is None:
            print(f"regress: kernel {k.series} ({k.release}): FAIL: no baseline for this kernel under {base_root} "
                  f"(baselines: {', '.join(have)}); make one from a full run: python3 -m analysis promote <run>")
            kernels.append({"series": k.series, "result": "fail", "reason": "no baseline for this kernel"})
            failed = True
            continue
        v = gate_one(base_dir, k.dir, s)
        kernels.append({"series": k.series, "result": v["result"], "baseline": str(base_dir),
                        "regress": str(k.dir / "regress.json"), "counts": v["counts"]})
        failed |= v["result"] == "fail"
    for series in sorted(set(have) - {k.series for k in bs.kernels}):
        print(f"regress: kernel {series}: SKIP: the baseline has it, this run did not measure it "
              f"(make bench KERNEL=...); not gated")
        kernels.append({"series": series, "result": "skip", "reason": "not in this run"})
    if bs.is_set:
        out = bs.dir / "regress.json"
        out.write_text(json.dumps({"tool": "kmodlab-regress", "version": 1, "set": bs.id,
                                   "result": "fail" if failed else "pass", "kernels": kernels}, indent=1) + "\n")
        print(f"\nregress: {len(bs.kernels)} kernel(s): " + ", ".join(f"{k['series']} {k['result'].upper()}"
                                                                      for k in kernels) + f" ({out})")
    return EXIT_REGRESSION if failed else 0


def _promote_files(man: dict) -> list[str]:
    files = [e["file"] for e in man["runs"]]
    for key in ("modules", "reliability", "icount"):
        if man.get(key):
            files.append(man[key])
    for p in man.get("probe_effect") or []:
        files += p["bpf_off"] + p["bpf_on"]
    return sorted(set(files))


def promote_one(src: Path, dst: Path, allow_quick: bool) -> None:
    """Copy one run directory's manifest and the files it names (not the rendered report) into dst."""
    run = load.load_run(src)  # validates everything first: never promote a broken run
    if run.quick and not allow_quick:
        raise InputError(f"{src}: a QUICK run has too few repetitions for a baseline; use a full make bench "
                         "(or --allow-quick)")
    man = load.read_json(src / load.MANIFEST)
    files = _promote_files(man)
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.iterdir():
        if old.name == "README.md" or (old / load.MANIFEST).is_file():  # keep other kernels' baselines
            continue
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    for rel in files + [load.MANIFEST]:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)
    print(f"baseline {dst} now holds run {run.id} (kernel {run.env.kernel}, {len(files)} files); "
          f"commit it: git add {dst}")


EXACT_KEYS = ("modules", "icount")  # the manifest's deterministic parts: module sizes/stack, instruction counts
EXACT_FROM = "exact_from"            # where a baseline's EXACT_KEYS came from when not from its own run


def check_exact(src: Path, dst: Path) -> None:
    """Raise InputError unless run src's exact figures may replace those of the baseline in dst."""
    if not (dst / load.MANIFEST).is_file():
        raise InputError(f"{dst}: no baseline to update; promote a full run there first")
    run, base = load.load_run(src), load.load_run(dst)
    if run.env.kernel != base.env.kernel:
        raise InputError(f"{src}: kernel {run.env.kernel}, the baseline's is {base.env.kernel}: instruction "
                         "counts depend on the kernel release; promote a full run of this kernel instead")
    man, bman = load.read_json(src / load.MANIFEST), load.read_json(dst / load.MANIFEST)
    missing = [k for k in EXACT_KEYS if not man.get(k)]
    if missing:
        raise InputError(f"{src}: the run has no {' and no '.join(missing)} (made with ICOUNT=0?)")
    if not run.icount.ok:
        raise InputError(f"{src}: its instruction counts have problems: {'; '.join(run.icount.problems)}")


def promote_exact(src: Path, dst: Path) -> None:
    """Replace only the deterministic figures of the baseline in dst by run src's, keep its timing.

    For a change meant to move instruction counts or module sizes (the exact
    gates fail on any rise) but not the C++/C timing ratios: those figures
    need no repetitions, so a QUICK run's are as good as a full bench's.
    The baseline manifest records where they came from (EXACT_FROM)."""
    check_exact(src, dst)
    run, base = load.load_run(src), load.load_run(dst)
    man, bman = load.read_json(src / load.MANIFEST), load.read_json(dst / load.MANIFEST)
    for key in EXACT_KEYS:
        if bman.get(key):
            (dst / bman[key]).unlink(missing_ok=True)
        (dst / man[key]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / man[key], dst / man[key])
        bman[key] = man[key]
    bman[EXACT_FROM] = {"run": run.id, "commit": man.get("commit"), "quick": run.quick,
                        "files": [man[k] for k in EXACT_KEYS],
                        "promoted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (dst / load.MANIFEST).write_text(json.dumps(bman, indent=1) + "\n")
    load.load_run(dst)  # still a valid run
    print(f"baseline {dst}: module sizes and instruction counts now from run {run.id} "
          f"(timing still from {base.id}); commit it: git add {dst}")


def _drop_flat(root: Path, series: str) -> None:
    """A flat (pre-kernel) baseline of `series` is replaced by root/<series>/: remove its files."""
    if not (root / load.MANIFEST).is_file() or benchset.is_set(root) or benchset.run_series(root).series != series:
        return
    man = load.read_json(root / load.MANIFEST)
    for rel in _promote_files(man) + [load.MANIFEST]:
        (root / rel).unlink(missing_ok=True)
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()
    print(f"baseline {root}: the flat baseline of kernel {series} was replaced by {root / series}/")


def cmd_promote(args) -> int:
    """Each kernel of a run (a set: all of them) becomes the baseline of its kernel series."""
    src = Path(args.run)
    bs = benchset.load_set(src)
    if args.to and not bs.is_set and not args.per_kernel:
        if args.exact_only:
            promote_exact(src, Path(args.to))
            return 0
        promote_one(src, Path(args.to), args.allow_quick)  # the pre-kernel behaviour: exactly this folder
        return 0
    root = Path(args.to) if args.to else conf.repo_root() / "results" / "baseline"
    if args.exact_only:
        for k in bs.kernels:  # like a full promote: every kernel checked before any baseline changes
            check_exact(k.dir, root / k.series)
        for k in bs.kernels:
            promote_exact(k.dir, root / k.series)
        return 0
    for k in bs.kernels:  # validate every kernel before replacing any baseline
        run = load.load_run(k.dir)
        if run.quick and not args.allow_quick:
            raise InputError(f"{k.dir}: a QUICK run has too few repetitions for a baseline; use a full make bench "
                             "(or --allow-quick)")
    for k in bs.kernels:
        promote_one(k.dir, root / k.series, args.allow_quick)
        _drop_flat(root, k.series)
    return 0


def cmd_merge(args) -> int:
    out = merge.merge([Path(r) for r in args.runs], Path(args.out))
    bs = benchset.load_set(out)
    print(f"merge: {out}: {len(args.runs)} input(s), kernel(s) {', '.join(k.series for k in bs.kernels)}, "
          f"machines {', '.join(m.get('host', '?') for m in bs.manifest.get('machines', []))}")
    print(f"next: make report RESULTS={out}; make regress RESULTS={out}")
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
                                   "folder of each of its kernels, results/baseline/<series>/ (6.1, 6.12), replacing "
                                   "what was there except README.md; a flat pre-kernel baseline of the same series is "
                                   "removed. A plain run with --to DIR goes to DIR itself (unless --per-kernel).")
    m.add_argument("run", metavar="RUN", help="the run directory to promote")
    m.add_argument("--to", metavar="DIR", help="baseline root (default: results/baseline)")
    m.add_argument("--allow-quick", action="store_true", help="accept a QUICK run (few repetitions)")
    m.add_argument("--exact-only", action="store_true",
                   help="replace only the baseline's module sizes and instruction counts (deterministic: a QUICK "
                        "run will do) and keep its timing; for a change meant to move them, e.g. new code paths")
    m.add_argument("--per-kernel", action="store_true",
                   help="with --to and a plain run: write DIR/<series>/ instead of DIR itself")
    m.set_defaults(func=cmd_promote)
    j = sub.add_parser("merge", help="join shards (make bench SHARD=i/N) into one run for report and regress",
                       description="Check that the runs are shards of one bench (same commit, settings, matrix, "
                                   "kernels' releases; cells disjoint and complete per kernel) and write one bench "
                                   "set to DIR: every input's files under part<k>/, each (input, boot) a block of its "
                                   "own. Refuses, naming the inputs, on any mismatch, overlap or missing cell.")
    j.add_argument("runs", nargs="+", metavar="RUN", help="the shards' run directories (bench sets)")
    j.add_argument("--out", required=True, metavar="DIR", help="the merged run (must not exist)")
    j.set_defaults(func=cmd_merge)
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
