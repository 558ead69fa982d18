#!/usr/bin/python3
"""icount_report.py - turn one icount run directory into icount.json and a table.

Usage: vm/plugin/icount_report.py RUNDIR [--json PATH] [--text PATH] [--top N]

RUNDIR is what scripts/icount.sh and scripts/icount_guest.sh leave:
  plugin.txt      the TCG plugin's output (vm/plugin/icount.c documents it)
  manifest.tsv    window index -> driver, variant, workload, module, ops, status
  kallsyms.txt    the guest's /proc/kallsyms (text symbols), nokaslr boot
  sections/       /sys/module/<mod>/sections/* of the guest
  driver-text.txt the measured driver modules' text ranges: the plugin's
                  "driver" scope ("LO HI MODULE SECTION", hexadecimal)
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
import re
import subprocess
import sys
import tempfile

SCHEMA = "kmodlab-icount/1"


def die(msg):
    print(f"icount_report: error: {msg}", file=sys.stderr)
    sys.exit(1)


# Per-op and total fields the plugin writes, per scope (its "fields" line);
# the classes a report shows, in order.
CLASSES = ("loads", "stores", "atomics", "branches", "indirect", "calls", "io", "l1i_miss", "l1d_miss")
SCOPES = ("kernel", "driver", "user")
# The plugin output version this reads (vm/plugin/README.md): 3 counts the
# "driver" scope in the driver modules' text ranges; 2 counted the whole
# module area (on 6.12 other code runs there too).
PLUGIN_VERSION = "3"
# Class bits of an "insn" line (vm/plugin/icount-classify.h)
CLASS_BITS = {"branches": 1, "calls": 2, "indirect": 4, "atomics": 8}
# Per-PC columns of a "pc" line after the address
PC_FIELDS = ("insn", "loads", "stores", "io", "l1i_miss", "l1d_miss")


def parse_totals(words, fields):
    """'V... irq I' -> {scope: {field: int}, 'irq': int}"""
    n = len(fields)
    if len(words) != n * len(SCOPES) + 2 or words[-2] != "irq":
        raise ValueError(f"expected {n * len(SCOPES)} values and 'irq I', got {len(words)} words")
    vals = [int(x) for x in words[:-2]]
    out = {sc: dict(zip(fields, vals[i * n:(i + 1) * n])) for i, sc in enumerate(SCOPES)}
    out["irq"] = int(words[-1])
    return out


def parse_plugin(path):
    head = {"errors": [], "windows": [], "insns": {}, "cache": {}}
    win = None
    fields = None
    with open(path) as f:
        first = f.readline().split()
        if first != ["kmodlab-icount", PLUGIN_VERSION]:
            die(f"{path}: not a version-{PLUGIN_VERSION} icount plugin output"
                " (rebuild the plugin: make -C vm/plugin)")
        for n, line in enumerate(f, 2):
            w = line.split()
            if not w:
                continue
            k = w[0]
            try:
                if k == "op":
                    win["ops"].append(parse_totals(w[1:], fields))
                elif k == "pc":
                    win["pcs"].append((int(w[1], 16), dict(zip(PC_FIELDS, (int(x) for x in w[2:])))))
                elif k == "insn":
                    head["insns"][int(w[1], 16)] = {"size": int(w[2]), "cls": int(w[3]), "bytes": w[4]}
                elif k == "window":
                    win = {"index": int(w[1]), "ops": [], "pcs": [], "nops": int(w[3])}
                    head["windows"].append(win)
                elif k == "wtotals":
                    win["totals"] = parse_totals(w[1:], fields)
                elif k == "endwindow":
                    win = None
                elif k == "error":
                    head["errors"].append(line[6:].strip())
                elif k in ("vcpus", "irq_entries", "armed", "thunks", "truncated_skipped", "length_errors",
                           "driver_ranges"):
                    head[k] = int(w[1])
                elif k == "cache":
                    head["cache"][w[1]] = {"size": int(w[2]), "ways": int(w[3]), "line": int(w[4]), "policy": w[5]}
                elif k == "fields":
                    fields = w[1:]
                elif k == "totals":
                    head[k] = parse_totals(w[1:], fields)
                elif k == "end":
                    head["complete"] = True
            except (ValueError, IndexError, TypeError, AttributeError) as e:
                die(f"{path}:{n}: malformed '{k}' line ({e})")
    missing = [c for c in ("insn",) + CLASSES if fields is None or c not in fields]
    if missing:
        die(f"{path}: the plugin's fields lack {missing}")
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
        """(symbol, module, symbol address) of the PC"""
        i = bisect.bisect_right(self.addrs, pc) - 1
        if i < 0:
            return ("?", "?", 0)
        return self.rows[i][1], self.rows[i][2], self.rows[i][0]


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


def pc_events(row, insn):
    """One PC's events in a window: its counts, and its count once per class it has."""
    ev = {"insn": row["insn"]}
    for c in ("loads", "stores", "io", "l1i_miss", "l1d_miss"):
        ev[c] = row[c]
    for c, bit in CLASS_BITS.items():
        ev[c] = row["insn"] if insn and insn["cls"] & bit else 0
    return ev


def read_driver_text(path):
    """driver-text.txt: [(lo, hi, module, section)]; None when missing."""
    if not os.path.exists(path):
        return None
    out = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w:
                out.append((int(w[0], 16), int(w[1], 16), w[2], w[3]))
    return out


def run_problems(plug, manifest, unopened, cmdline, text):
    problems = [f"plugin: {e}" for e in plug["errors"]]
    problems += [f"{m['driver']} {m['variant']} {m['workload']}: {m['status']} (no window)" for m in unopened]
    if not plug.get("complete"):
        problems.append("plugin output is truncated (QEMU killed before exit?)")
    if plug.get("vcpus") != 1:
        problems.append(f"{plug.get('vcpus')} vCPUs: inline counters are exact only with --smp 1")
    if not plug.get("armed"):
        problems.append("the plugin was never armed (icount-op --arm did not run)")
    drivers = {m["module"] for m in manifest if m["module"] != "-"}
    if text is None:
        problems.append("driver-text.txt missing: the guest wrote no driver text ranges")
    elif plug.get("driver_ranges") != len(text):
        problems.append(f"the plugin read {plug.get('driver_ranges')} driver text ranges, "
                        f"driver-text.txt has {len(text)}")
    elif drivers - {t[2] for t in text}:
        problems.append(f"no driver text ranges for {sorted(drivers - {t[2] for t in text})}")
    if len(plug["windows"]) != len(manifest):
        problems.append(f"plugin saw {len(plug['windows'])} windows, the manifest lists {len(manifest)}")
    if cmdline is not None and "noreplace-smp" not in cmdline.split():
        problems.append("guest booted without noreplace-smp: the kernel patched LOCK prefixes away on one CPU, "
                        "the atomics are undercounted (scripts/icount.sh adds it)")
    return problems


def attribute(win, syms, insns):
    """Per function and per driver PC: the window's events."""
    fn = {}
    per_pc = []
    for pc, row in win["pcs"]:
        name, mod, base = syms.lookup(pc)
        ev = pc_events(row, insns.get(pc))
        acc = fn.setdefault((name, mod), collections.Counter())
        acc.update(ev)
        per_pc.append((pc, name, mod, base, ev))
    return fn, per_pc


# An operation counts as steady state for the simulated caches when neither
# it nor the CLEAN_AFTER operations before it saw an interrupt entry.
CLEAN_AFTER = 2


def clean_ops(ops):
    return [o for k, o in enumerate(ops) if all(ops[j]["irq"] == 0 for j in range(max(0, k - CLEAN_AFTER), k + 1))]


def sum_events(fn, pred):
    total = collections.Counter({c: 0 for c in ("insn",) + CLASSES})
    for (name, mod), ev in fn.items():
        if pred(mod):
            total.update(ev)
    return total


# Per-PC figures the plugin counts in callbacks: kept only for operations no
# interrupt hit (icount.c pend_add()), so per op they divide by that number.
CB_FIELDS = ("loads", "stores", "io", "l1i_miss", "l1d_miss")


def per_op(ev, c, nops, nund):
    if c in CB_FIELDS:
        return ev[c] / nund if nund else None
    return ev[c] / nops


def func_row(name, mod, ev, nops, nund, pretty):
    row = {"symbol": name, "name": pretty.get(name, name), "module": mod,
           "insn_total": ev["insn"], "insn_per_op": ev["insn"] / nops}
    for c in CLASSES:
        row[f"{c}_per_op"] = per_op(ev, c, nops, nund)
    return row


def disassemble(insns, pcs, syms, pretty):
    """{pc: AT&T text} for the PCs, from the bytes the plugin saw execute.

    One objdump per cluster of nearby PCs: the cluster's bytes at their
    addresses, int3 (one byte, so decoding resyncs at every known
    instruction) where nothing ran; addresses in the text become
    symbol+offset."""
    out = {}
    pcs = sorted(pc for pc in pcs if pc in insns)
    clusters, cur = [], []
    for pc in pcs:
        if cur and pc - (cur[-1] + insns[cur[-1]]["size"]) > 4096:
            clusters.append(cur)
            cur = []
        cur.append(pc)
    if cur:
        clusters.append(cur)
    for cl in clusters:
        lo, hi = cl[0], cl[-1] + insns[cl[-1]]["size"]
        blob = bytearray(b"\xcc" * (hi - lo))
        for pc in cl:
            b = bytes.fromhex(insns[pc]["bytes"])
            blob[pc - lo:pc - lo + len(b)] = b
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(blob)
            f.flush()
            try:
                r = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "--no-show-raw-insn",
                                    f"--adjust-vma={lo:#x}", f.name], capture_output=True, text=True, check=True)
            except (OSError, subprocess.CalledProcessError) as e:
                die(f"objdump failed ({e}): it disassembles the driver instructions (Debian package binutils)")
        for line in r.stdout.splitlines():
            m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
            if m and int(m.group(1), 16) in insns:
                out[int(m.group(1), 16)] = symbolize(m.group(2).strip(), syms, pretty)
    return out


def symbolize(text, syms, pretty):
    """Kernel addresses in a disassembly become <symbol+0xoff>."""
    def sub(m):
        a = int(m.group(0), 16)
        if not 0xffffffff80000000 <= a < 0xffffffffff000000:  # kernel and module text only, no constants
            return m.group(0)
        name, _, base = syms.lookup(a)
        if a - base >= 0x1000:  # past any function: module data (kallsyms here has text symbols only)
            return m.group(0)
        return f"{m.group(0)} <{pretty.get(name, name)}+{a - base:#x}>"
    return re.sub(r"0x[0-9a-f]{16}", sub, text)


def driver_pcs(per_pc, module, insns, nops, nund, pretty, disas):
    """Every instruction of the driver the window executed, in address order."""
    out = []
    for pc, name, mod, base, ev in sorted(per_pc):
        if mod != module:
            continue
        ins = insns.get(pc, {})
        out.append({"addr": f"{pc:#x}", "symbol": pretty.get(name, name), "offset": pc - base,
                    "per_op": ev["insn"] / nops,
                    "classes": [c for c, bit in CLASS_BITS.items() if ins.get("cls", 0) & bit],
                    **{f"{c}_per_op": per_op(ev, c, nops, nund) for c in CB_FIELDS},
                    "size": ins.get("size"), "bytes": ins.get("bytes"), "disas": disas.get(pc, "?")})
    return out


def code_lines(pcs, line):
    """Distinct cache lines the executed instructions occupy (the code's i-cache footprint)."""
    lines = set()
    for p in pcs:
        a = int(p["addr"], 16)
        lines.update(range(a // line, (a + (p["size"] or 1) - 1) // line + 1))
    return len(lines)


def window_doc(m, w, fn, per_pc, insns, pretty, top, line, disas, drivers):
    """One window's JSON and its problems."""
    problems = []
    nops = int(m["ops"])
    module = m["module"] if m["module"] != "-" else None
    if w["nops"] != nops or len(w["ops"]) != nops:
        problems.append(f"window {m['window']}: {len(w['ops'])} op records, expected {nops}")
    if m["status"] != "ok":
        problems.append(f"window {m['window']} ({m['driver']} {m['variant']} {m['workload']}): {m['status']}")
    drv = sum_events(fn, lambda mod: module is not None and mod == module)
    mods = sum_events(fn, lambda mod: mod != "vmlinux")
    alldrv = sum_events(fn, lambda mod: mod in drivers)
    und = [o for o in w["ops"] if o["irq"] == 0]
    nund = len(und)
    # The plugin's "driver" scope totals (PCs in the driver text ranges)
    # against its per-PC counts that kallsyms attributes to a driver module:
    # two independent paths to the same figures (callback-counted per-PC
    # figures cover the undisturbed operations only).
    for c in ("insn",) + CLASSES:
        total = sum(o["driver"][c] for o in und) if c in CB_FIELDS else w["totals"]["driver"][c]
        if alldrv[c] != total:
            problems.append(f"window {m['window']}: driver-module {c} per PC {alldrv[c]} != driver-scope total {total}")
    funcs = sorted(((ev["insn"], name, mod, ev) for (name, mod), ev in fn.items() if module and mod == module),
                   key=lambda t: (-t[0], t[1]))
    core = sorted(((ev["insn"], name, mod, ev) for (name, mod), ev in fn.items() if mod != module),
                  key=lambda t: (-t[0], t[1]))[:top]
    doc = {
        "window": int(m["window"]), "driver": m["driver"], "variant": m["variant"],
        "workload": m["workload"], "extra_work": int(m.get("extra_work") or 0),
        "fops": int(m.get("fops") or 0),
        "module": module, "ops": nops, "status": m["status"],
        "driver_insn_total": drv["insn"],
        "driver_insn_per_op": drv["insn"] / nops,
        "driver_insn_per_op_stats": per_op_stats([o["driver"]["insn"] for o in w["ops"]]) if module else None,
    }
    for c in CLASSES:
        doc[f"driver_{c}_per_op"] = per_op(drv, c, nops, nund) if module else None
    # Simulated misses: the steady state is the operations that neither an
    # interrupt nor its aftermath touched (an interrupt evicts lines, the
    # next operations miss them again).  Module-area per-op records: in
    # those operations only the driver's module runs.
    clean = clean_ops(w["ops"])
    doc["cache_clean_ops"] = len(clean)
    for c in ("l1i_miss", "l1d_miss"):
        doc[f"driver_{c}_all_ops_per_op"] = doc[f"driver_{c}_per_op"]
        doc[f"driver_{c}_per_op"] = (sum(o["driver"][c] for o in clean) / len(clean) if clean else None) \
            if module else None
    doc["driver_per_op_range"] = ({c: [min(o["driver"][c] for o in und), max(o["driver"][c] for o in und)]
                                   for c in ("insn",) + CLASSES} if module and und else None)
    doc["kernel_insn_total"] = sum(ev["insn"] for ev in fn.values())
    doc["kernel_insn_per_op"] = {
        "undisturbed": per_op_stats([o["kernel"]["insn"] for o in und]),
        "all": per_op_stats([o["kernel"]["insn"] for o in w["ops"]]),
        "disturbed_ops": nops - len(und),
        "irq_entries": w["totals"]["irq"],
    }
    for c in CLASSES:
        doc[f"kernel_{c}_per_op"] = sum(o["kernel"][c] for o in und) / len(und) if und else None
    for c in ("l1i_miss", "l1d_miss"):
        doc[f"kernel_{c}_all_ops_per_op"] = sum(o["kernel"][c] for o in w["ops"]) / nops if nops else None
        doc[f"kernel_{c}_per_op"] = sum(o["kernel"][c] for o in clean) / len(clean) if clean else None
    doc["modules_insn_total"] = mods["insn"]
    doc["user_insn_per_op"] = w["totals"]["user"]["insn"] / nops
    doc["functions"] = [func_row(name, mod, ev, nops, nund, pretty) for _, name, mod, ev in funcs]
    doc["kernel_functions"] = [func_row(name, mod, ev, nops, nund, pretty) for _, name, mod, ev in core]
    doc["driver_pcs"] = driver_pcs(per_pc, module, insns, nops, nund, pretty, disas) if module else []
    doc["driver_code_lines"] = code_lines(doc["driver_pcs"], line) if module else None
    return doc, problems


def ratio(c, x):
    return x / c if c else None


# Every path is compared with its C window; C++ always, and any other variant
# the run counted (Rust on the lab's Rust kernel: icount.sh --variants "c cxx rust").
REF, CXX = "c", "cxx"


def comparisons(windows):
    """C against each other variant per driver x workload x extra_work, every class, both scopes: C++
    first, then the others in run order; a row of another variant than C++ names its "pair_variants"."""
    out = []
    by_key = {(w["driver"], w["workload"], w["extra_work"], w["variant"]): w for w in windows if w["status"] == "ok"}
    seen = []
    for w in windows:
        k = (w["driver"], w["workload"], w["extra_work"])
        if w["driver"] == "kernel" or k in seen:
            continue
        seen.append(k)
        others = [v for v in dict.fromkeys(x["variant"] for x in windows
                                           if (x["driver"], x["workload"], x["extra_work"]) == k) if v != REF]
        for v in sorted(others, key=lambda v: v != CXX):
            c, x = by_key.get(k + (REF,)), by_key.get(k + (v,))
            if c and x:
                out.append(comparison_row(k, c, x, v))
    return out


def comparison_row(k, c, x, v):
    """One path's C window c against variant v's window x."""
    kc = c["kernel_insn_per_op"]["undisturbed"]
    kx = x["kernel_insn_per_op"]["undisturbed"]
    row = {"driver": k[0], "workload": k[1], "extra_work": k[2],
           **({} if v == CXX else {"pair_variants": [REF, v]}),
           "driver_insn_per_op": {REF: c["driver_insn_per_op"], v: x["driver_insn_per_op"]},
           "driver_ratio": ratio(c["driver_insn_per_op"], x["driver_insn_per_op"]),
           "kernel_insn_per_op": {REF: kc and kc["mean"], v: kx and kx["mean"]},
           "kernel_ratio": ratio(kc and kc["mean"], kx and kx["mean"]) if kc and kx else None}
    for scope in ("driver", "kernel"):
        for cl in CLASSES:
            key = f"{scope}_{cl}_per_op"
            row[key] = {REF: c[key], v: x[key]}
            row[f"{scope}_{cl}_ratio"] = ratio(c[key], x[key]) if c[key] is not None and x[key] is not None else None
    row["driver_code_lines"] = {REF: c["driver_code_lines"], v: x["driver_code_lines"]}
    return row


def rival(c):
    """The variant a comparison row sets against C ("cxx" unless its pair_variants say otherwise)."""
    return (c.get("pair_variants") or [REF, CXX])[1]


def path_name(c):
    """A row's workload as the text tables print it: "+N" for planted work, "(rust)" for a non-C++ row."""
    return (c["workload"] + (f" +{c['extra_work']}" if c.get("extra_work") else "")
            + ("" if rival(c) == CXX else f" ({rival(c)})"))


def read_meta(rundir):
    meta = {}
    for f in ("kernel-release", "cmdline"):
        p = os.path.join(rundir, f)
        if os.path.exists(p):
            with open(p) as fh:
                meta[f.replace("-", "_")] = fh.read().strip()
    return meta


def analyse(rundir, top):
    plug = parse_plugin(os.path.join(rundir, "plugin.txt"))
    manifest = read_manifest(os.path.join(rundir, "manifest.tsv"))
    unopened = [m for m in manifest if m["window"] == "-"]
    manifest = [m for m in manifest if m["window"] != "-"]
    syms = Symbols(os.path.join(rundir, "kallsyms.txt"))
    meta = read_meta(rundir)
    text = read_driver_text(os.path.join(rundir, "driver-text.txt"))
    problems = run_problems(plug, manifest, unopened, meta.get("cmdline"), text)
    # attribute every PC once, then demangle all names in one c++filt call
    attributed = [attribute(w, syms, plug["insns"]) for w in plug["windows"]]
    pretty = demangle(name for fn, _ in attributed for name, _ in fn)
    missing = {pc for w in plug["windows"] for pc, _ in w["pcs"]} - set(plug["insns"])
    if missing:
        problems.append(f"{len(missing)} counted PCs have no 'insn' line (classes unknown), e.g. {min(missing):#x}")
    line = plug["cache"].get("l1i", {}).get("line", 64)
    drivers = {m["module"] for m in manifest if m["module"] != "-"}
    disas = disassemble(plug["insns"], {pc for _, per_pc in attributed for pc, _, mod, _, _ in per_pc
                                        if mod in drivers}, syms, pretty)
    windows = []
    for m, w, (fn, per_pc) in zip(manifest, plug["windows"], attributed):
        doc, wp = window_doc(m, w, fn, per_pc, plug["insns"], pretty, top, line, disas, drivers)
        windows.append(doc)
        problems += wp
    refs = {w["workload"]: w["kernel_insn_per_op"]["undisturbed"] for w in windows if w["driver"] == "kernel"}
    return {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run_dir": os.path.abspath(rundir),
        "kernel": meta.get("kernel_release"), "cmdline": meta.get("cmdline"),
        "vcpus": plug.get("vcpus"), "irq_entry_points": plug.get("irq_entries"),
        "thunk_ranges": plug.get("thunks"), "driver_ranges": plug.get("driver_ranges"),
        "cache": plug["cache"],
        "truncated_skipped": plug.get("truncated_skipped"),
        "classes": list(CLASSES),
        "ok": not problems, "problems": problems,
        "reference": refs,
        "comparisons": comparisons(windows),
        "windows": windows,
    }, problems


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def _cell(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if abs(v - round(v)) < 0.005 else f"{v:.2f}"


def class_table(doc):
    """Per path, C / C++ per operation for every class, driver scope and whole syscall."""
    short = {"loads": "load", "stores": "store", "atomics": "atom", "branches": "jcc", "indirect": "ind",
             "calls": "call", "io": "mmio", "l1i_miss": "L1i-m", "l1d_miss": "L1d-m"}
    cache = doc.get("cache", {}).get("l1d", {})
    out = ["Per operation, C / C++: loads, stores, atomics (locked), conditional branches (jcc), indirect",
           "calls+jumps (ind), calls, MMIO accesses, simulated L1 misses (steady state; "
           f"{cache.get('size', 0) // 1024} KiB, {cache.get('ways')}-way, {cache.get('line')} B lines, LRU, i and d)"]
    for scope, title in (("driver", "driver's own code"), ("kernel", "whole syscall, ops no interrupt hit")):
        out.append(f"  {title}:")
        out.append(f"  {'driver':<8} {'workload':<16}" + "".join(f" {short[c]:>11}" for c in CLASSES))
        for c in doc["comparisons"]:
            x = rival(c)
            cells = "".join(f" {_cell(c[f'{scope}_{k}_per_op'][REF]) + '/' + _cell(c[f'{scope}_{k}_per_op'][x]):>11}"
                            for k in CLASSES)
            out.append(f"  {c['driver']:<8} {path_name(c):<16}{cells}")
    out.append("")
    return out


def table(doc):
    lines = ["Instructions per operation (QEMU TCG plugin, exact guest instruction counts)",
             "driver = the driver module's own code; syscall = whole kernel, mean of ops no interrupt hit",
             ""]
    lines.append(f"{'driver':<8} {'workload':<16} {'drv C':>9} {'drv C++':>9} {'C++/C':>7}"
                 f" {'sys C':>9} {'sys C++':>9} {'C++/C':>7}")
    for c in doc["comparisons"]:
        x = rival(c)
        lines.append(f"{c['driver']:<8} {path_name(c):<16} {fmt(c['driver_insn_per_op'][REF]):>9}"
                     f" {fmt(c['driver_insn_per_op'][x]):>9} {fmt(c['driver_ratio'], 3):>7}"
                     f" {fmt(c['kernel_insn_per_op'][REF]):>9} {fmt(c['kernel_insn_per_op'][x]):>9}"
                     f" {fmt(c['kernel_ratio'], 3):>7}")
    others = sorted({rival(c) for c in doc["comparisons"]} - {CXX})
    if others:
        lines.append(f"(rows marked ({', '.join(others)}): that variant in the C++ columns)")
    for name, st in doc["reference"].items():
        lines.append(f"reference {name}: {fmt(st and st['mean'])} kernel insns/op")
    lines.append("")
    lines += class_table(doc)
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
    ap.add_argument("--top", type=int, default=60, help="core-kernel functions kept per window")
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
