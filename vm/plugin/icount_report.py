#!/usr/bin/python3
"""icount_report.py - turn one icount run directory into icount.json and a table.

Usage: vm/plugin/icount_report.py RUNDIR [--json PATH] [--text PATH] [--top N]

RUNDIR is what scripts/icount.sh and scripts/icount_guest.sh leave:
  plugin.txt      the TCG plugin's output (vm/plugin/icount.c documents it)
  manifest.tsv    window index -> driver, variant, workload, module, ops, status
  kallsyms.txt    the guest's /proc/kallsyms (text symbols), nokaslr boot
  sections/       /sys/module/<mod>/sections/* of the guest
Every kernel PC with a count is attributed to the kallsyms symbol that
contains it (C++ names demangled with c++filt).  The JSON format is in
vm/plugin/README.md.  Exit status 1 when the run is unusable (plugin errors,
more than one vCPU, window count mismatch, failed windows).
"""
import argparse
import bisect
import collections
import datetime
import json
import os
import subprocess
import sys

SCHEMA = "kmodlab-icount/1"


def die(msg):
    print(f"icount_report: error: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_plugin(path):
    head = {"errors": [], "windows": []}
    win = None
    with open(path) as f:
        first = f.readline().split()
        if first != ["kmodlab-icount", "1"]:
            die(f"{path}: not a version-1 icount plugin output")
        for line in f:
            w = line.split()
            if not w:
                continue
            k = w[0]
            if k == "op":
                win["ops"].append(tuple(int(x) for x in w[1:5]))
            elif k == "pc":
                win["pcs"].append((int(w[1], 16), int(w[2])))
            elif k == "window":
                kv = dict(zip(w[2::2], w[3::2]))
                win = {"index": int(w[1]), "ops": [], "pcs": [],
                       "totals": {x: int(kv[x]) for x in ("kernel", "module", "user", "irq")},
                       "nops": int(kv["ops"])}
                head["windows"].append(win)
            elif k == "endwindow":
                win = None
            elif k == "error":
                head["errors"].append(line[6:].strip())
            elif k in ("vcpus", "irq_entries", "armed"):
                head[k] = int(w[1])
            elif k == "modrange":
                head[k] = [int(w[1], 16), int(w[2], 16)]
            elif k == "totals":
                head[k] = {a: int(b) for a, b in zip(w[1::2], w[2::2])}
            elif k == "end":
                head["complete"] = True
    return head


class Symbols:
    """kallsyms text symbols; a PC belongs to the nearest symbol at or below it."""

    def __init__(self, path):
        rows = []
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) < 3:
                    continue
                addr = int(p[0], 16)
                mod = p[3].strip("[]") if len(p) > 3 else "vmlinux"
                rows.append((addr, p[2], mod))
        if not rows or all(r[0] == 0 for r in rows):
            die(f"{path}: no symbol addresses (kptr_restrict was not 0?)")
        rows.sort()
        self.addrs = [r[0] for r in rows]
        self.rows = rows

    def lookup(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        if i < 0:
            return ("?", "?")
        return self.rows[i][1], self.rows[i][2]


def demangle(names):
    names = sorted(set(names))
    mangled = [n for n in names if n.startswith("_Z")]
    out = {n: n for n in names}
    if mangled:
        try:
            r = subprocess.run(["c++filt"], input="\n".join(mangled) + "\n",
                               capture_output=True, text=True, check=True)
            for m, d in zip(mangled, r.stdout.splitlines()):
                out[m] = d
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"icount_report: warning: c++filt failed ({e}); names stay mangled", file=sys.stderr)
    return out


def read_manifest(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def per_op_stats(values):
    """Exact statistics of a list of per-operation integer counts."""
    if not values:
        return None
    s = sorted(values)
    mode, mode_n = collections.Counter(values).most_common(1)[0]
    return {"mean": sum(values) / len(values), "mode": mode, "mode_ops": mode_n,
            "min": s[0], "median": s[len(s) // 2], "max": s[-1], "ops": len(values)}


def analyse(rundir, top):
    plug = parse_plugin(os.path.join(rundir, "plugin.txt"))
    manifest = read_manifest(os.path.join(rundir, "manifest.tsv"))
    unopened = [m for m in manifest if m["window"] == "-"]
    manifest = [m for m in manifest if m["window"] != "-"]
    syms = Symbols(os.path.join(rundir, "kallsyms.txt"))
    problems = list(f"plugin: {e}" for e in plug["errors"])
    problems += [f"{m['driver']} {m['variant']} {m['workload']}: {m['status']} (no window)" for m in unopened]
    if not plug.get("complete"):
        problems.append("plugin output is truncated (QEMU killed before exit?)")
    if plug.get("vcpus") != 1:
        problems.append(f"{plug.get('vcpus')} vCPUs: inline counters are exact only with --smp 1")
    if not plug.get("armed"):
        problems.append("the plugin was never armed (icount-op --arm did not run)")
    if len(plug["windows"]) != len(manifest):
        problems.append(f"plugin saw {len(plug['windows'])} windows, the manifest lists {len(manifest)}")

    # attribute every PC once, then demangle all names in one c++filt call
    attributed = []
    names = set()
    for w in plug["windows"]:
        fn = collections.Counter()
        for pc, n in w["pcs"]:
            fn[syms.lookup(pc)] += n
        attributed.append(fn)
        names.update(name for name, _ in fn)
    pretty = demangle(names)

    windows = []
    for m, w, fn in zip(manifest, plug["windows"], attributed):
        nops = int(m["ops"])
        if w["nops"] != nops or len(w["ops"]) != nops:
            problems.append(f"window {m['window']}: {len(w['ops'])} op records, expected {nops}")
        if m["status"] != "ok":
            problems.append(f"window {m['window']} ({m['driver']} {m['variant']} {m['workload']}): {m['status']}")
        module = m["module"] if m["module"] != "-" else None
        driver_total = sum(n for (name, mod), n in fn.items() if module and mod == module)
        modules_total = sum(n for (name, mod), n in fn.items() if mod != "vmlinux")
        kernel_total = sum(fn.values())
        und = [o[0] for o in w["ops"] if o[3] == 0]
        funcs = sorted(((n, name, mod) for (name, mod), n in fn.items() if module and mod == module),
                       key=lambda t: (-t[0], t[1]))
        core = sorted(((n, name, mod) for (name, mod), n in fn.items() if mod != module),
                      key=lambda t: (-t[0], t[1]))[:top]

        def frow(n, name, mod):
            return {"symbol": name, "name": pretty.get(name, name), "module": mod,
                    "insn_total": n, "insn_per_op": n / nops}

        windows.append({
            "window": int(m["window"]), "driver": m["driver"], "variant": m["variant"],
            "workload": m["workload"], "module": module, "ops": nops, "status": m["status"],
            "driver_insn_total": driver_total,
            "driver_insn_per_op": driver_total / nops,
            "driver_insn_per_op_stats": per_op_stats([o[1] for o in w["ops"]]) if module else None,
            "kernel_insn_total": kernel_total,
            "kernel_insn_per_op": {
                "undisturbed": per_op_stats(und),
                "all": per_op_stats([o[0] for o in w["ops"]]),
                "disturbed_ops": nops - len(und),
                "irq_entries": w["totals"]["irq"],
            },
            "modules_insn_total": modules_total,
            "user_insn_per_op": w["totals"]["user"] / nops,
            "functions": [frow(*t) for t in funcs],
            "kernel_functions": [frow(*t) for t in core],
        })

    comparisons = []
    by_key = {(w["driver"], w["workload"], w["variant"]): w for w in windows if w["status"] == "ok"}
    seen = []
    for w in windows:
        k = (w["driver"], w["workload"])
        if w["driver"] == "kernel" or k in seen:
            continue
        seen.append(k)
        c, x = by_key.get(k + ("c",)), by_key.get(k + ("cxx",))
        if not c or not x:
            continue
        kc = c["kernel_insn_per_op"]["undisturbed"]
        kx = x["kernel_insn_per_op"]["undisturbed"]
        comparisons.append({
            "driver": k[0], "workload": k[1],
            "driver_insn_per_op": {"c": c["driver_insn_per_op"], "cxx": x["driver_insn_per_op"]},
            "driver_ratio": x["driver_insn_per_op"] / c["driver_insn_per_op"] if c["driver_insn_per_op"] else None,
            "kernel_insn_per_op": {"c": kc and kc["mean"], "cxx": kx and kx["mean"]},
            "kernel_ratio": (kx["mean"] / kc["mean"]) if kc and kx and kc["mean"] else None,
        })
    refs = {w["workload"]: w["kernel_insn_per_op"]["undisturbed"] for w in windows if w["driver"] == "kernel"}
    meta = {}
    for f in ("kernel-release", "cmdline"):
        p = os.path.join(rundir, f)
        if os.path.exists(p):
            meta[f.replace("-", "_")] = open(p).read().strip()
    return {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run_dir": os.path.abspath(rundir),
        "kernel": meta.get("kernel_release"), "cmdline": meta.get("cmdline"),
        "vcpus": plug.get("vcpus"), "irq_entry_points": plug.get("irq_entries"),
        "ok": not problems, "problems": problems,
        "reference": refs,
        "comparisons": comparisons,
        "windows": windows,
    }, problems


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def table(doc):
    lines = ["Instructions per operation (QEMU TCG plugin, exact guest instruction counts)",
             "driver = the driver module's own code; syscall = whole kernel, mean of ops no interrupt hit",
             ""]
    lines.append(f"{'driver':<8} {'workload':<16} {'drv C':>9} {'drv C++':>9} {'C++/C':>7}"
                 f" {'sys C':>9} {'sys C++':>9} {'C++/C':>7}")
    for c in doc["comparisons"]:
        lines.append(f"{c['driver']:<8} {c['workload']:<16} {fmt(c['driver_insn_per_op']['c']):>9}"
                     f" {fmt(c['driver_insn_per_op']['cxx']):>9} {fmt(c['driver_ratio'], 3):>7}"
                     f" {fmt(c['kernel_insn_per_op']['c']):>9} {fmt(c['kernel_insn_per_op']['cxx']):>9}"
                     f" {fmt(c['kernel_ratio'], 3):>7}")
    for name, st in doc["reference"].items():
        lines.append(f"reference {name}: {fmt(st and st['mean'])} kernel insns/op")
    lines.append("")
    for w in doc["windows"]:
        if not w["module"]:
            continue
        k = w["kernel_insn_per_op"]
        u = k["undisturbed"]
        lines.append(f"{w['module']} {w['workload']}: driver {fmt(w['driver_insn_per_op'])}/op,"
                     f" syscall {fmt(u and u['mean'])}/op (mode {u and u['mode']}, {k['disturbed_ops']} of"
                     f" {w['ops']} ops hit by an interrupt), {w['status']}")
        for f in w["functions"]:
            lines.append(f"    {f['insn_per_op']:10.2f}  {f['name']}")
    if doc["problems"]:
        lines.append("")
        lines += [f"PROBLEM: {p}" for p in doc["problems"]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rundir")
    ap.add_argument("--json", help="write the JSON here (default RUNDIR/icount.json)")
    ap.add_argument("--text", help="write the table here (default RUNDIR/icount.txt)")
    ap.add_argument("--top", type=int, default=25, help="core-kernel functions kept per window")
    a = ap.parse_args()
    for f in ("plugin.txt", "manifest.tsv", "kallsyms.txt"):
        if not os.path.exists(os.path.join(a.rundir, f)):
            die(f"{a.rundir}/{f} missing (did the guest part run to the end?)")
    doc, problems = analyse(a.rundir, a.top)
    jpath = a.json or os.path.join(a.rundir, "icount.json")
    tpath = a.text or os.path.join(a.rundir, "icount.txt")
    with open(jpath, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    text = table(doc)
    with open(tpath, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
