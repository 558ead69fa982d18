"""C against C++ module report: sizes, stack frames, dispatch parity.

The analysis half of scripts/kmod-report.sh (the shell finds the modules,
builds the -fstack-usage copy when needed and calls this):

    python3 -m analysis.kmod_report KABI_H JSON_OUT CHECK DIR=SU_DIR...

KABI_H is kmod/cxx/kcxx_kabi.h (sizeof(struct file_operations) and each
slot's offset, generated from the kernel headers); JSON_OUT is "" for no
JSON; CHECK is "1" to exit 1 on a dispatch-parity problem; each DIR=SU_DIR
names a folder of .ko files and where its .su files are ("" for beside the
objects, empty after "=" when there are none).

Every parser takes the tool's text output (size -A, readelf, objdump, nm,
.su files) so that analysis/tests/test_kmod_report.py checks them on small
inputs without a kernel build; only the run_* / read_* wrappers touch the
machine.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

# Text report column layout (kept from the shell heredoc it replaces).
SIZE_KINDS = ("text", "rodata", "data", "bss")


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# ---- parsers: tool output text -> data -------------------------------------

def parse_kabi(text: str) -> tuple[int, dict[int, str]]:
    """(sizeof(struct file_operations), {slot offset: field name}) from kcxx_kabi.h."""
    kabi = {}
    for line in text.splitlines():
        m = re.match(r"#define (KABI_\w+) (-?\d+)", line)
        if m:
            kabi[m.group(1)] = int(m.group(2))
    if "KABI_FOPS_SIZE" not in kabi:
        raise ValueError("no KABI_FOPS_SIZE in the kabi header: rebuild kmod/cxx (make modules)")
    slot_of = {v: k[len("KABI_FOPS_"):] for k, v in kabi.items()
               if k.startswith("KABI_FOPS_") and k not in ("KABI_FOPS_SIZE", "KABI_FOPS_ALIGN")}
    return kabi["KABI_FOPS_SIZE"], slot_of


def parse_sizes(text: str) -> dict[str, int]:
    """text/rodata/data/bss bytes from `size -A` (text: .text*, .init.text, .exit.text)."""
    out = dict.fromkeys(SIZE_KINDS, 0)
    for line in text.splitlines():
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


def largest_frame(su_lines) -> dict | None:
    """The largest frame of .su lines ("file:line:col:function<TAB>bytes<TAB>kind")."""
    best = None
    for line in su_lines:
        f = line.rstrip("\n").split("\t")
        if len(f) >= 3 and (best is None or int(f[1]) > best["bytes"]):
            best = {"function": f[0].split(":", 3)[-1], "bytes": int(f[1]), "kind": f[2]}
    return best


def parse_symbols(text: str) -> list[tuple[str, int, int, int, str]]:
    """(name, section index, value, size, type) of defined symbols, from readelf -sW."""
    syms = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":") and f[6] not in ("UND", "ABS", "Ndx"):
            try:
                syms.append((f[7], int(f[6]), int(f[1], 16), int(f[2], 0), f[3]))
            except ValueError:
                pass
    return syms


def parse_sections(text: str) -> dict[int, str]:
    """{section index: name} from readelf -SW."""
    secs = {}
    for line in text.splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)", line)
        if m:
            secs[int(m.group(1))] = m.group(2)
    return secs


def parse_relocs(text: str) -> dict[str, list[tuple[int, str, int]]]:
    """{section name: [(offset, symbol, addend)]} from readelf -rW."""
    out, cur = {}, None
    for line in text.splitlines():
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


def _call_of(line: str, current: str):
    """What an objdump line calls: ("indirect"|"direct", target) now, "pending"
    (a call or jmp whose target the next relocation line names), or None."""
    m = re.search(r"\t(call|jmp)\s+(\*.*|[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>)", line)
    if not m:
        return None
    if m.group(2).startswith("*"):
        return ("indirect", m.group(2))
    if m.group(4) is None and m.group(3) != current and m.group(1) == "call":
        return ("direct", m.group(3))  # resolved local call
    return ("pending", "direct" if m.group(1) == "call" else None)


def parse_disasm(text: str) -> tuple[dict[str, list[tuple[str, str]]], dict[str, int]]:
    """({function: [(kind, target)]}, {function: instructions}) from objdump -dr.

    kind is direct or indirect (call *reg, or a call through a retpoline
    thunk); a call whose target is a relocation takes the name from the
    R_X86_64_PLT32 line after it.  nop/int3 padding is not counted.
    """
    funcs, insns, cur, cur_name, pending = {}, {}, None, None, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if m:
            cur_name = m.group(1)
            cur = funcs.setdefault(cur_name, [])
            continue
        if cur is None:
            continue
        if re.match(r"^\s+[0-9a-f]+:\t", line) and not re.search(r"\t(nop|int3|cs nop|data16)", line):
            insns[cur_name] = insns.get(cur_name, 0) + 1
        m = re.search(r"R_X86_64_PLT32\s+(\S+?)(?:[-+]0x[0-9a-f]+)?$", line)
        if m and pending is not None:
            tgt = m.group(1)
            kind = "indirect" if tgt.startswith("__x86_indirect_thunk") else pending
            if tgt not in ("__fentry__", "__x86_return_thunk"):
                cur.append((kind, tgt))
            pending = None
            continue
        # The function a local call must not name to count as one: the
        # newest function seen (a repeated name keeps its first place).
        call = _call_of(line, next(reversed(funcs)))
        if call is None or call[0] != "pending":
            if call is not None:
                cur.append(call)
            pending = None
        else:
            pending = call[1]
    return funcs, insns


def parse_nm_functions(text: str) -> list[str]:
    """Defined text symbols from nm --defined-only."""
    return [f[2] for f in (line.split() for line in text.splitlines()) if len(f) == 3 and f[1] in "tT"]


# ---- analysis ----------------------------------------------------------------

def path_calls(funcs, insns, entry: str, local: set[str]) -> tuple[list[tuple[str, str]], int]:
    """Calls reachable from entry, following module-local functions once, and
    the static instructions of entry and every local function it reaches.
    A kcxx_* C helper counts as a call even when it is local."""
    seen, todo, calls, n = {entry}, [entry], [], 0
    while todo:
        fn = todo.pop()
        n += insns.get(fn, 0)
        for kind, tgt in funcs.get(fn, []):
            helper = tgt.startswith("kcxx_")
            if kind == "direct" and tgt in local and not helper:
                if tgt not in seen:
                    seen.add(tgt)
                    todo.append(tgt)
            else:
                calls.append((kind, tgt))
    return calls, n


def op_entry(target: str, obj, lang: str, calls, n_insns: int) -> dict:
    """One file_operations slot: its entry point and what its path calls."""
    direct = [t for k, t in calls if k == "direct"]
    helpers = [t for t in direct if t.startswith("kcxx_")]
    return {
        "entry": target, "defined_in": obj, "compiled_as": lang,
        "indirect_calls": sum(1 for k, _ in calls if k == "indirect"),
        "helper_calls": len(helpers),
        "direct_call_sites": len(direct),
        "instructions": n_insns,
        "helpers": sorted(set(helpers)),
        "direct_calls": sorted(set(direct)),
    }


def slot_targets(value: int, size: int, sec: str, secs, syms, rels, slot_of) -> dict[str, str]:
    """{field: target function} of the table at [value, value+size) of section sec."""
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
    return slots


def fops_tables(fops_size, slot_of, secs, syms, rels, funcs, insns, where) -> list[dict]:
    """Every file_operations table of the module (an object of that size whose
    owner slot points at __this_module), each slot analysed."""
    local = {s[0] for s in syms if s[4] == "FUNC"}
    tables = []
    for name, shndx, value, size, typ in syms:
        if typ != "OBJECT" or size != fops_size:
            continue
        slots = slot_targets(value, size, secs.get(shndx, ""), secs, syms, rels, slot_of)
        if slots.get("owner") != "__this_module":
            continue
        ops = {}
        for field, target in slots.items():
            if field == "owner":
                continue
            obj, lang = where.get(target, (None, "kernel"))
            calls, n = path_calls(funcs, insns, target, local) if lang != "kernel" else ([], 0)
            ops[field] = op_entry(target, obj, lang, calls, n)
        tables.append({"symbol": name, "ops": ops})
    return tables


def compare_pair(name: str, m: dict, c: dict | None, problems: list[str]) -> dict | None:
    """C++ module m against its C twin c (None: none loaded); appends problems."""
    base = name[:-4]
    for t in m["fops_tables"]:
        for op, o in t["ops"].items():
            if o["compiled_as"] == "c":
                problems.append(f"{name}: {t['symbol']}.{op} -> {o['entry']} is C-compiled")
    if not c:
        return None
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
                problems.append(f"{name}: {op} ({o['entry']}) makes {e['extra_indirect']} "
                                f"more indirect call(s) than {base}_c")
    return cmp


def compare(mods: dict) -> tuple[dict, list[str]]:
    """({driver: C against C++}, problems) over every <base>_cxx module."""
    problems, comparison = [], {}
    for name, m in mods.items():
        if not name.endswith("_cxx"):
            continue
        cmp = compare_pair(name, m, mods.get(name[:-4] + "_c"), problems)
        if cmp is not None:
            comparison[name[:-4]] = cmp
    return comparison, problems


def render_text(mods: dict, comparison: dict, problems: list[str]) -> str:
    out = [f"{'module':<14}{'text':>8}{'rodata':>8}{'data':>7}{'bss':>6}  largest stack frame"]
    for name, m in mods.items():
        s, st = m["sizes"], m["max_stack"]
        sts = f"{st['bytes']} B {st['function']} ({st['kind']})" if st else "n/a (no .su files)"
        out.append(f"{name:<14}{s['text']:>8}{s['rodata']:>8}{s['data']:>7}{s['bss']:>6}  {sts}")
    for base, cmp in comparison.items():
        out.append(f"\n{base}: C++ - C: " + ", ".join(f"{k} {v['delta']:+d}" for k, v in cmp["sizes"].items()))
        out.append(f"  {'op':<16}{'C entry':<24}{'C++ entry':<36}{'indirect':>9}{'direct':>8}{'insns':>10}"
                   f"{'helpers':>8}  helper calls")
        out.append(f"  {'':<16}{'':<24}{'':<36}{'C/C++':>9}{'C/C++':>8}{'C/C++':>10}{'C++':>8}")
        for op, es in cmp["ops"].items():
            for e in es:
                ind = f"{e['c_indirect']}/{e['cxx_indirect']}"
                dc = f"{e['c_direct_calls']}/{e['cxx_direct_calls']}"
                ins = f"{e['c_instructions']}/{e['cxx_instructions']}"
                out.append(f"  {op:<16}{str(e['c_entry']):<24}{e['cxx_entry']:<36}{ind:>9}{dc:>8}{ins:>10}"
                           f"{e['cxx_helper_calls']:>8}  {' '.join(e['cxx_helpers']) or '-'}")
    out.append("\ndispatch parity: " + ("OK (every C++ slot is C++-compiled or the kernel's own function; "
               "no operation makes more indirect calls than in C)" if not problems else "FAILED"))
    out.extend("  " + p for p in problems)
    return "\n".join(out)


# ---- the machine: files and tools -----------------------------------------

def objects_of(ko: str) -> list[str]:
    d = os.path.dirname(ko)
    with open(ko[:-3] + ".mod") as f:
        return [o if os.path.isabs(o) else os.path.join(d, o) for o in f.read().split()]


def read_stack(objs, su_dir, src_dir):
    """Largest frame over the objects' .su files; None when one is missing."""
    lines = []
    for o in objs:
        su = o[:-2] + ".su"
        if su_dir:
            su = os.path.join(su_dir, os.path.relpath(su, src_dir))
        if not os.path.exists(su):
            return None
        with open(su) as f:
            lines.extend(f)
    return largest_frame(lines)


def defining_object(objs) -> dict[str, tuple[str, str]]:
    """{function: (object file, "cxx"|"c")}: C++ if the object has a .cpp source."""
    where = {}
    for o in objs:
        src = "cxx" if os.path.exists(o[:-2] + ".cpp") or o.endswith("-kcxx_rt.o") else "c"
        for fn in parse_nm_functions(run("nm", "--defined-only", o)):
            where[fn] = (os.path.basename(o), src)
    return where


def analyse(ko: str, su_dir: str, src_dir: str, fops_size: int, slot_of) -> dict:
    objs = objects_of(ko)
    secs = parse_sections(run("readelf", "-SW", ko))
    syms = parse_symbols(run("readelf", "-sW", ko))
    rels = parse_relocs(run("readelf", "-rW", ko))
    funcs, insns = parse_disasm(run("objdump", "-d", "-r", "--no-show-raw-insn", ko))
    tables = fops_tables(fops_size, slot_of, secs, syms, rels, funcs, insns, defining_object(objs))
    return {"ko": ko, "sizes": parse_sizes(run("size", "-A", ko)),
            "max_stack": read_stack(objs, su_dir, src_dir), "fops_tables": tables}


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    kabi_path, json_out, check = argv[0], argv[1], argv[2] == "1"
    with open(kabi_path) as f:
        fops_size, slot_of = parse_kabi(f.read())
    mods = {}
    for d, su_dir in (a.split("=", 1) for a in argv[3:]):
        for f in sorted(os.listdir(d)):
            if f.endswith(".ko"):
                mods[f[:-3]] = analyse(os.path.join(d, f), su_dir, d, fops_size, slot_of)
    comparison, problems = compare(mods)
    print(render_text(mods, comparison, problems))
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"modules": mods, "comparison": comparison, "parity_ok": not problems,
                       "problems": problems}, f, indent=1)
        print(f"kmod-report: wrote {json_out}")
    return 1 if check and problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
