"""analysis/kmod_report.py on small inputs: the tool-output parsers, the path
walk, the C-against-C++ comparison and its problems (pure logic, no build).
The fixtures are cut-down copies of what size, readelf, objdump and gcc's
-fstack-usage print for kmod/c/counter_c.ko."""
import pytest

from analysis import kmod_report as kr

KABI = """\
#define KABI_FOPS_SIZE 280 /* sizeof(struct file_operations) */
#define KABI_FOPS_owner 0 /* offsetof(struct file_operations, owner) */
#define KABI_FOPS_llseek 8 /* offsetof(struct file_operations, llseek) */
#define KABI_FOPS_read 16 /* offsetof(struct file_operations, read) */
#define KABI_FOPS_ALIGN 8 /* __alignof__(struct file_operations) */
"""

SIZE_A = """\
kmod/c/counter_c.ko  :
section                       size   addr
.note.gnu.build-id              36      0
.text                         1144      0
.init.text                     193      0
.exit.text                      24      0
.text.unlikely                  10      0
.rodata.str1.1                  70      0
.rodata                        280      0
.modinfo                       486      0
.data                          144      0
.data..read_mostly               8      0
.bss                            32      0
Total                         2427
"""

SECTIONS = """\
  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al
  [ 0]                   NULL            0000000000000000 000000 000000 00      0   0  0
  [ 3] .text             PROGBITS        0000000000000000 0000a0 000478 00  AX  0   0 16
  [16] .rodata           PROGBITS        0000000000000000 0005a0 000118 00   A  0   0 32
"""

SYMBOLS = """\
   Num:    Value          Size Type    Bind   Vis      Ndx Name
    50: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND default_llseek
    51: 0000000000000100    40 FUNC    LOCAL  DEFAULT    3 counter_c_get
    52: 00000000000003b0   200 FUNC    LOCAL  DEFAULT    3 counter_c_read
    64: 0000000000000000   280 OBJECT  LOCAL  DEFAULT   16 counter_c_fops
    65: 0000000000000000   280 OBJECT  LOCAL  DEFAULT    3 not_a_table
"""

RELOCS = """\
Relocation section '.rela.rodata' at offset 0x27118 contains 3 entries:
    Offset             Info             Type               Symbol's Value  Symbol's Name + Addend
0000000000000000  0000005300000001 R_X86_64_64            0000000000000000 __this_module + 0
0000000000000008  0000005f00000001 R_X86_64_64            0000000000000000 default_llseek + 0
0000000000000010  0000000300000001 R_X86_64_64            0000000000000000 .text + 3b0
"""

OBJDUMP = """\
0000000000000100 <counter_c_get>:
 100:	call   105 <counter_c_get+0x5>
			101: R_X86_64_PLT32	__fentry__-0x4
 105:	mov    %rdi,%rax
 108:	call   10d <counter_c_get+0xd>
			109: R_X86_64_PLT32	mutex_lock-0x4
 10d:	call   *%rax
 10f:	nop
 110:	jmp    115 <counter_c_get+0x15>
			111: R_X86_64_PLT32	__x86_return_thunk-0x4

00000000000003b0 <counter_c_read>:
 3b0:	call   3b5 <counter_c_read+0x5>
			3b1: R_X86_64_PLT32	__fentry__-0x4
 3b5:	push   %r12
 410:	call   100 <counter_c_get>
 415:	call   41a <counter_c_read+0x6a>
			416: R_X86_64_PLT32	kcxx_copy_to_user-0x4
 41a:	call   41f <counter_c_read+0x6f>
			41b: R_X86_64_PLT32	__x86_indirect_thunk_rax-0x4
 420:	int3
"""


def test_parse_kabi_offsets_to_fields():
    size, slot_of = kr.parse_kabi(KABI)
    assert size == 280
    assert slot_of == {0: "owner", 8: "llseek", 16: "read"}  # ALIGN is not a slot


def test_parse_kabi_without_size_says_what_to_do():
    with pytest.raises(ValueError, match="make modules"):
        kr.parse_kabi("#define KABI_FOPS_read 16\n")


def test_parse_sizes_groups_sections():
    assert kr.parse_sizes(SIZE_A) == {"text": 1144 + 193 + 24 + 10, "rodata": 70 + 280,
                                      "data": 144 + 8, "bss": 32}


def test_largest_frame_takes_the_biggest():
    su = ["/x/counter_c.c:61:12:counter_c_get\t16\tstatic\n",
          "/x/counter_c.c:197:13:counter_c_ioctl\t40\tdynamic,bounded\n",
          "/x/counter_c.c:82:12:counter_c_set\t24\tstatic\n"]
    assert kr.largest_frame(su) == {"function": "counter_c_ioctl", "bytes": 40, "kind": "dynamic,bounded"}
    assert kr.largest_frame([]) is None


def test_parse_disasm_calls_and_instructions():
    funcs, insns = kr.parse_disasm(OBJDUMP)
    # __fentry__ and the return thunk are not calls; the thunk call is indirect.
    assert funcs["counter_c_get"] == [("direct", "mutex_lock"), ("indirect", "*%rax")]
    assert funcs["counter_c_read"] == [("direct", "counter_c_get"), ("direct", "kcxx_copy_to_user"),
                                       ("indirect", "__x86_indirect_thunk_rax")]
    assert insns == {"counter_c_get": 5, "counter_c_read": 5}  # nop and int3 not counted


def test_path_calls_follows_local_functions_once():
    funcs, insns = kr.parse_disasm(OBJDUMP)
    calls, n = kr.path_calls(funcs, insns, "counter_c_read", {"counter_c_read", "counter_c_get",
                                                              "kcxx_copy_to_user"})
    # counter_c_get is walked into (its calls count), the kcxx_ helper stays a call.
    assert sorted(calls) == sorted([("direct", "kcxx_copy_to_user"), ("indirect", "__x86_indirect_thunk_rax"),
                                    ("direct", "mutex_lock"), ("indirect", "*%rax")])
    assert n == 10


def _module(lang="c", entry="counter_c_read", indirect=0):
    op = kr.op_entry(entry, "o.o", lang, [("indirect", "*%rax")] * indirect + [("direct", "kcxx_x")], 7)
    return {"sizes": {"text": 100, "rodata": 10, "data": 1, "bss": 0}, "max_stack": None,
            "fops_tables": [{"symbol": "fops", "ops": {"read": op}}]}


def test_fops_tables_resolves_section_relative_slots():
    size, slot_of = kr.parse_kabi(KABI)
    funcs, insns = kr.parse_disasm(OBJDUMP)
    where = {"counter_c_read": ("counter_c.o", "c"), "counter_c_get": ("counter_c.o", "c")}
    tables = kr.fops_tables(size, slot_of, kr.parse_sections(SECTIONS), kr.parse_symbols(SYMBOLS),
                            kr.parse_relocs(RELOCS), funcs, insns, where)
    assert [t["symbol"] for t in tables] == ["counter_c_fops"]  # not_a_table has no owner slot
    ops = tables[0]["ops"]
    assert ops["llseek"]["compiled_as"] == "kernel" and ops["llseek"]["instructions"] == 0
    assert ops["read"]["entry"] == "counter_c_read"  # from ".text + 3b0"
    assert ops["read"]["helpers"] == ["kcxx_copy_to_user"] and ops["read"]["indirect_calls"] == 2


def test_compare_flags_c_compiled_slots_and_extra_indirect_calls():
    mods = {"counter_c": _module(), "counter_cxx": _module("c", "counter_cxx_read", indirect=1)}
    mods["counter_cxx"]["sizes"]["text"] = 150
    cmp, problems = kr.compare(mods)
    assert cmp["counter"]["sizes"]["text"] == {"c": 100, "cxx": 150, "delta": 50}
    assert cmp["counter"]["ops"]["read"][0]["extra_indirect"] == 1
    assert problems == ["counter_cxx: fops.read -> counter_cxx_read is C-compiled",
                        "counter_cxx: read (counter_cxx_read) makes 1 more indirect call(s) than counter_c"]
    assert "dispatch parity: FAILED" in kr.render_text(mods, cmp, problems)


def test_compare_parity_ok():
    mods = {"counter_c": _module(), "counter_cxx": _module("cxx", "counter_cxx_read")}
    cmp, problems = kr.compare(mods)
    assert problems == []
    text = kr.render_text(mods, cmp, problems)
    assert "dispatch parity: OK" in text and "counter: C++ - C: text +0" in text
