#!/usr/bin/env bash
# kmod-report.sh - C against C++: module sizes, stack frames, dispatch parity.
#
# Usage: scripts/kmod-report.sh [--json FILE] [--check] [--no-build] [MODULE_DIR...]
#
# For every .ko in kmod/c and kmod/cxx as built for the default kernel
# (KERNEL= another; build/kernels/<abi>/kmod/, kmod/Makefile), or in the
# given module output folders:
#   sizes    text / rodata / data / bss in bytes, from `size -A` (text: .text*,
#            .init.text, .exit.text; rodata: .rodata*; data: .data*; bss: .bss*)
#   stack    the largest stack frame of the module's objects, from the
#            -fstack-usage .su files (function, bytes, static/dynamic)
#   dispatch every file_operations table in the module (an object of
#            sizeof(struct file_operations) whose owner slot points at
#            __this_module), each slot's target, where it is defined (C++
#            object, C object, or the kernel), and for each entry point the
#            calls on its path inside the module (followed through local
#            functions): indirect calls (call *reg or a retpoline thunk),
#            direct call sites to code outside the module (kernel functions
#            and kcxx C helpers), the kcxx C helpers (kcxx_*) among them, and
#            the static instruction count of the entry and the module-local
#            functions it reaches.
# Then per driver C against C++: size deltas and, per operation, the extra
# indirect calls and the extra helper calls of the C++ entry point.
#
# Stack sizes need .su files for every object.  kcxx.mk builds C++ with
# -fstack-usage; for a module without them the script builds a private copy
# of kmod/ in build/kmod-report/ with KCFLAGS=-fstack-usage (same code:
# -fstack-usage does not change code generation) unless --no-build.
#
#   --json FILE  also write the report as JSON (fields: see README of kmod/kcxx)
#   --check      exit 1 if a C++ table slot points at a C-compiled function or
#                a C++ operation makes more indirect calls than its C twin
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
json="" check=0 build=1 dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--json) json=$2; shift ;;
	--check) check=1 ;;
	--no-build) build=0 ;;
	-*) echo "kmod-report: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) dirs+=("$1") ;;
	esac
	shift
done
# The modules as built for one kernel (KERNEL=, else the default one).
KMOD_OUT=$("$ROOT/scripts/conf.sh" kernel "${KERNEL:-}" kmod) || exit 1
[ ${#dirs[@]} -gt 0 ] || dirs=("$KMOD_OUT/c" "$KMOD_OUT/cxx")
for d in "${dirs[@]}"; do
	ls "$d"/*.ko >/dev/null 2>&1 || { echo "kmod-report: no .ko in $d: build first (make modules)" >&2; exit 1; }
done
KABI=$KMOD_OUT/cxx/kcxx_kabi.h
[ -f "$KABI" ] || { echo "kmod-report: $KABI missing: build kmod/cxx first" >&2; exit 1; }

# Directories whose modules lack .su files get a private -fstack-usage build.
su_dirs=()
for d in "${dirs[@]}"; do
	missing=0
	for mod in "$d"/*.mod; do
		for o in $(cat "$mod"); do
			[ -f "${o%.o}.su" ] || missing=1
		done
	done
	if [ $missing = 0 ]; then
		su_dirs+=("$d")
	elif [ $build = 1 ]; then
		kdir=$("$ROOT/scripts/conf.sh" kernel "${KERNEL:-}" build) || exit 1
		priv=$ROOT/build/kmod-report
		rm -rf "$priv" && mkdir -p "$priv/kmod" "$priv/scripts"
		(cd "$ROOT/kmod" && find . -name '*.[ch]' -o -name '*.cpp' -o -name Kbuild -o -name '*.mk' |
			grep -v '\.mod\.c$' | cpio -pdm --quiet "$priv/kmod")
		cp "$ROOT/scripts/check-cxx-objects.sh" "$priv/scripts/"
		rel=kmod/${d##*/}
		echo "kmod-report: $rel has no .su files: building a private copy with -fstack-usage" >&2
		make -s -C "$kdir" M="$priv/$rel" KCFLAGS=-fstack-usage modules \
			>"$priv/build.log" 2>&1 || { echo "kmod-report: private build failed, see $priv/build.log" >&2; exit 1; }
		su_dirs+=("$priv/$rel")
	else
		su_dirs+=("")
	fi
done

args=()
for i in "${!dirs[@]}"; do args+=("${dirs[$i]}=${su_dirs[$i]}"); done
exec "$PYTHON" - "$KABI" "$json" "$check" "${args[@]}" <<'PYEOF'
import json, os, re, subprocess, sys

kabi_path, json_out, check = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
pairs = [a.split("=", 1) for a in sys.argv[4:]]

def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

kabi = {}
for line in open(kabi_path):
    m = re.match(r"#define (KABI_\w+) (-?\d+)", line)
    if m:
        kabi[m.group(1)] = int(m.group(2))
FOPS_SIZE = kabi["KABI_FOPS_SIZE"]
slot_of = {v: k[len("KABI_FOPS_"):] for k, v in kabi.items()
           if k.startswith("KABI_FOPS_") and k not in ("KABI_FOPS_SIZE", "KABI_FOPS_ALIGN")}

def sizes(ko):
    out = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in run("size", "-A", ko).splitlines():
        f = line.split()
        if len(f) < 2 or not f[1].isdigit():
            continue
        name, sz = f[0], int(f[1])
        if name.startswith(".text") or name in (".init.text", ".exit.text"):
            out["text"] += sz
        elif name.startswith(".rodata"):
            out["rodata"] += sz
        elif name.startswith(".data"):
            out["data"] += sz
        elif name.startswith(".bss"):
            out["bss"] += sz
    return out

def objects_of(ko):
    mod = ko[:-3] + ".mod"
    d = os.path.dirname(ko)
    return [o if os.path.isabs(o) else os.path.join(d, o) for o in open(mod).read().split()]

def stack(objs, su_dir, src_dir):
    best = None
    for o in objs:
        su = o[:-2] + ".su"
        if su_dir:
            su = os.path.join(su_dir, os.path.relpath(su, src_dir))
        if not os.path.exists(su):
            return None
        for line in open(su):
            f = line.rstrip("\n").split("\t")
            if len(f) >= 3 and (best is None or int(f[1]) > best["bytes"]):
                best = {"function": f[0].split(":", 3)[-1], "bytes": int(f[1]), "kind": f[2]}
    return best

def symbols(ko):
    """(name, section index, value, size, type) of defined symbols."""
    syms = []
    for line in run("readelf", "-sW", ko).splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":") and f[6] not in ("UND", "ABS", "Ndx"):
            try:
                syms.append((f[7], int(f[6]), int(f[1], 16), int(f[2], 0), f[3]))
            except ValueError:
                pass
    return syms

def sections(ko):
    secs = {}
    for line in run("readelf", "-SW", ko).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)", line)
        if m:
            secs[int(m.group(1))] = m.group(2)
    return secs

def relocs(ko):
    """{section name: [(offset, symbol, addend)]}"""
    out, cur = {}, None
    for line in run("readelf", "-rW", ko).splitlines():
        m = re.match(r"Relocation section '\.rela(\S+)'", line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        f = line.split()
        if cur is not None and len(f) >= 7 and re.fullmatch(r"[0-9a-f]{16}", f[0]):
            sym, add = f[4], f[-1]
            sign = -1 if f[-2] == "-" else 1
            cur.append((int(f[0], 16), sym, sign * int(add, 16)))
    return out

def disasm(ko):
    """{function: [(kind, target)]}, kind: direct|indirect, from objdump -dr."""
    funcs, cur, pending = {}, None, None
    for line in run("objdump", "-d", "-r", "--no-show-raw-insn", ko).splitlines():
        m = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            cur_name = m.group(1)
            continue
        if cur is None:
            continue
        if re.match(r"^\s+[0-9a-f]+:\t", line) and not re.search(r"\t(nop|int3|cs nop|data16)", line):
            INSNS[cur_name] = INSNS.get(cur_name, 0) + 1
        m = re.search(r"R_X86_64_PLT32\s+(\S+?)(?:[-+]0x[0-9a-f]+)?$", line)
        if m and pending is not None:
            tgt = m.group(1)
            kind = "indirect" if tgt.startswith("__x86_indirect_thunk") else pending
            if tgt not in ("__fentry__", "__x86_return_thunk"):
                cur.append((kind, tgt))
            pending = None
            continue
        m = re.search(r"\t(call|jmp)\s+(\*.*|[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>)", line)
        if m:
            if m.group(2).startswith("*"):
                cur.append(("indirect", m.group(2)))
                pending = None
            elif m.group(4) is None and m.group(3) != list(funcs)[-1] and m.group(1) == "call":
                cur.append(("direct", m.group(3)))  # resolved local call
                pending = None
            else:
                pending = "direct" if m.group(1) == "call" else None
        else:
            pending = None
    return funcs

INSNS = {}

def defining_object(objs):
    where = {}
    for o in objs:
        src = "cxx" if os.path.exists(o[:-2] + ".cpp") or o.endswith("-kcxx_rt.o") else "c"
        for line in run("nm", "--defined-only", o).splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "tT":
                where[f[2]] = (os.path.basename(o), src)
    return where

PATH_INSNS = {}

def path_calls(funcs, entry, local):
    """calls reachable from entry, following module-local functions once."""
    seen, todo, calls = {entry}, [entry], []
    PATH_INSNS[entry] = 0
    while todo:
        fn = todo.pop()
        PATH_INSNS[entry] += INSNS.get(fn, 0)
        for kind, tgt in funcs.get(fn, []):
            helper = tgt.startswith("kcxx_")  # a kcxx C helper: a call, even if local
            if kind == "direct" and tgt in local and not helper:
                if tgt not in seen:
                    seen.add(tgt)
                    todo.append(tgt)
            else:
                calls.append((kind, tgt))
    return calls

def analyse(ko, su_dir, src_dir):
    objs = objects_of(ko)
    secs, syms, rels = sections(ko), symbols(ko), relocs(ko)
    funcs = disasm(ko)
    where = defining_object(objs)
    local = {s[0] for s in syms if s[4] == "FUNC"}
    tables = []
    for name, shndx, value, size, typ in syms:
        if typ != "OBJECT" or size != FOPS_SIZE:
            continue
        sec = secs.get(shndx, "")
        slots = {}
        for off, sym, add in rels.get(sec, []):
            if not value <= off < value + size:
                continue
            field = slot_of.get(off - value)
            target = sym
            if sym.startswith("."):  # section-relative: find the function
                tsec = [i for i, n in secs.items() if n == sym]
                cands = [s for s in syms if tsec and s[1] == tsec[0] and s[2] == add and s[4] == "FUNC"]
                target = cands[0][0] if cands else f"{sym}+{add:#x}"
            if field:
                slots[field] = target
        if slots.get("owner") != "__this_module":
            continue
        ops = {}
        for field, target in slots.items():
            if field == "owner":
                continue
            obj, lang = where.get(target, (None, "kernel"))
            calls = path_calls(funcs, target, local) if lang != "kernel" else []
            ops[field] = {
                "entry": target, "defined_in": obj, "compiled_as": lang,
                "indirect_calls": sum(1 for k, _ in calls if k == "indirect"),
                "helper_calls": sum(1 for k, t in calls if k == "direct" and t.startswith("kcxx_")),
                "direct_call_sites": sum(1 for k, _ in calls if k == "direct"),
                "instructions": PATH_INSNS.get(target, 0),
                "helpers": sorted({t for k, t in calls if k == "direct" and t.startswith("kcxx_")}),
                "direct_calls": sorted({t for k, t in calls if k == "direct"}),
            }
        tables.append({"symbol": name, "ops": ops})
    return {"ko": ko, "sizes": sizes(ko), "max_stack": stack(objs, su_dir, src_dir),
            "fops_tables": tables}

mods = {}
for d, su_dir in pairs:
    for f in sorted(os.listdir(d)):
        if f.endswith(".ko"):
            mods[f[:-3]] = analyse(os.path.join(d, f), su_dir, d)

problems, comparison = [], {}
for name, m in mods.items():
    if not name.endswith("_cxx"):
        continue
    base = name[:-4]
    for t in m["fops_tables"]:
        for op, o in t["ops"].items():
            if o["compiled_as"] == "c":
                problems.append(f"{name}: {t['symbol']}.{op} -> {o['entry']} is C-compiled")
    c = mods.get(base + "_c")
    if not c:
        continue
    cmp = {"sizes": {k: {"c": c["sizes"][k], "cxx": m["sizes"][k],
                         "delta": m["sizes"][k] - c["sizes"][k]} for k in m["sizes"]},
           "max_stack": {"c": c["max_stack"], "cxx": m["max_stack"]}, "ops": {}}
    cops = c["fops_tables"][0]["ops"] if c["fops_tables"] else {}
    for t in m["fops_tables"]:
        for op, o in t["ops"].items():
            co = cops.get(op)
            e = {"table": t["symbol"], "c_entry": co and co["entry"], "cxx_entry": o["entry"],
                 "c_indirect": co["indirect_calls"] if co else None,
                 "cxx_indirect": o["indirect_calls"],
                 "extra_indirect": o["indirect_calls"] - (co["indirect_calls"] if co else 0),
                 "cxx_helper_calls": o["helper_calls"], "cxx_helpers": o["helpers"],
                 "c_direct_calls": co["direct_call_sites"] if co else None,
                 "cxx_direct_calls": o["direct_call_sites"],
                 "c_instructions": co["instructions"] if co else None,
                 "cxx_instructions": o["instructions"]}
            cmp["ops"].setdefault(op, []).append(e)
            if e["extra_indirect"] > 0:
                problems.append(f"{name}: {op} ({o['entry']}) makes {e['extra_indirect']} more indirect call(s) than {base}_c")
    comparison[base] = cmp

# ---- text report ----
print(f"{'module':<14}{'text':>8}{'rodata':>8}{'data':>7}{'bss':>6}  largest stack frame")
for name, m in mods.items():
    s, st = m["sizes"], m["max_stack"]
    sts = f"{st['bytes']} B {st['function']} ({st['kind']})" if st else "n/a (no .su files)"
    print(f"{name:<14}{s['text']:>8}{s['rodata']:>8}{s['data']:>7}{s['bss']:>6}  {sts}")
for base, cmp in comparison.items():
    print(f"\n{base}: C++ - C: " + ", ".join(f"{k} {v['delta']:+d}" for k, v in cmp["sizes"].items()))
    print(f"  {'op':<16}{'C entry':<24}{'C++ entry':<36}{'indirect':>9}{'direct':>8}{'insns':>10}{'helpers':>8}  helper calls")
    print(f"  {'':<16}{'':<24}{'':<36}{'C/C++':>9}{'C/C++':>8}{'C/C++':>10}{'C++':>8}")
    for op, es in cmp["ops"].items():
        for e in es:
            ind = f"{e['c_indirect']}/{e['cxx_indirect']}"
            dc = f"{e['c_direct_calls']}/{e['cxx_direct_calls']}"
            ins = f"{e['c_instructions']}/{e['cxx_instructions']}"
            print(f"  {op:<16}{str(e['c_entry']):<24}{e['cxx_entry']:<36}{ind:>9}{dc:>8}{ins:>10}"
                  f"{e['cxx_helper_calls']:>8}  {' '.join(e['cxx_helpers']) or '-'}")
print("\ndispatch parity: " + ("OK (every C++ slot is C++-compiled or the kernel's own function; "
      "no operation makes more indirect calls than in C)" if not problems else "FAILED"))
for p in problems:
    print("  " + p)
if json_out:
    with open(json_out, "w") as f:
        json.dump({"modules": mods, "comparison": comparison, "parity_ok": not problems,
                   "problems": problems}, f, indent=1)
    print(f"kmod-report: wrote {json_out}")
sys.exit(1 if check and problems else 0)
PYEOF
