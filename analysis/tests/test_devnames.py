"""The device node rule has one owner per language: kmod/include/uapi/kmodlab_dev.h
(C and C++) and analysis/devnames.py (Python, names read from that header).
These tests compile the header's functions as C and as C++ and check that
both languages give the same node and module names, and parse the same
paths the same way, over every driver and variant plus names that break
the rule."""
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis import devnames

ROOT = Path(__file__).resolve().parents[2]
UAPI = ROOT / "kmod" / "include" / "uapi"

# The grid both languages answer: real names and ones that break the rule.
BASES = list(devnames.drivers()) + ["foo", "scul"]
VARIANTS = list(devnames.variants()) + ["rust", ""]
MINORS = [-1, 0, 3, 12]
EXTRA_PATHS = ["/dev/null", "/dev/zero", "/tmp/scull-c0.txt", "/dev/scull-rust0", "/dev/counter-c1",
               "/dev/foo-c", "scull", "/dev/scull-", "/dev/scull-c", "scull-cxx7", "/x/y/lkp_enc-cxx",
               "/dev/lkp_enc-c0", "/dev/scull-c1234567890", "/dev/counter_c", "-c"]

# Prints, per line, what the header's functions say; compiled as C and C++.
PROBE = r"""
#include <stdio.h>
#include "kmodlab_dev.h"

int main(int argc, char **argv)
{
	char buf[128];
	struct kmodlab_dev_name d;
	int i;

	for (i = 1; i + 3 < argc; i += 4) {
		const char *what = argv[i];
		if (!strcmp(what, "path")) {
			int n = kmodlab_dev_path(buf, sizeof(buf), argv[i + 1], argv[i + 2], atoi(argv[i + 3]));
			printf("%s\n", n < 0 ? "-" : buf);
		} else if (!strcmp(what, "first")) {
			int n = kmodlab_dev_first_path(buf, sizeof(buf), argv[i + 1], argv[i + 2]);
			printf("%s\n", n < 0 ? "-" : buf);
		} else if (!strcmp(what, "module")) {
			int n = kmodlab_module_name(buf, sizeof(buf), argv[i + 1], argv[i + 2]);
			printf("%s\n", n < 0 ? "-" : buf);
		} else if (kmodlab_dev_parse(argv[i + 1], &d) == 0) {
			printf("%s %s %d\n", d.driver->name, d.variant, d.minor);
		} else {
			printf("-\n");
		}
	}
	return 0;
}
"""


def python_answers(queries):
    out = []
    for what, a, b, c in queries:
        try:
            if what == "path":
                out.append(devnames.dev_path(a, b, None if c == "-1" else int(c)))
            elif what == "first":
                out.append(devnames.first_dev_path(a, b))
            elif what == "module":
                out.append(devnames.module_name(a, b))
            else:
                p = devnames.parse_dev_path(a)
                out.append("-" if p is None else f"{p[0]} {p[1]} {-1 if p[2] is None else p[2]}")
        except ValueError:
            out.append("-")
    return out


def queries():
    q = []
    for base in BASES:
        for v in VARIANTS:
            q.append(("module", base, v, "-"))
            q.append(("first", base, v, "-"))
            for m in MINORS:
                q.append(("path", base, v, str(m)))
    paths = {devnames.dev_path(b, v, 0 if devnames.numbered(b) else None)
             for b in devnames.drivers() for v in devnames.variants_of(b)}
    for p in sorted(paths) + EXTRA_PATHS:
        q.append(("parse", p, "-", "-"))
    return q


@pytest.mark.parametrize("compiler,flags", [("cc", ["-x", "c", "-std=gnu11"]), ("c++", ["-x", "c++", "-std=c++20"])])
def test_header_and_python_agree(tmp_path, compiler, flags):
    if not shutil.which(compiler):
        pytest.fail(f"{compiler} not found (apt-get install build-essential)")
    src = tmp_path / "probe.c"
    src.write_text(PROBE)
    exe = tmp_path / "probe"
    subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-I", str(UAPI), "-o", str(exe), str(src)],
                   check=True)
    q = queries()
    args = [x for item in q for x in item]
    c_out = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True).stdout.splitlines()
    py_out = python_answers(q)
    assert len(c_out) == len(q)
    diffs = [f"{item}: {compiler} {c!r}, python {p!r}" for item, c, p in zip(q, c_out, py_out) if c != p]
    assert not diffs, "\n".join(diffs)


def test_the_rule_itself():
    """Fixed points of the rule (kmodlab.h's comment), so a change to both
    languages at once does not pass unnoticed."""
    assert devnames.dev_path("scull", "c", 0) == "/dev/scull-c0"
    assert devnames.dev_path("counter", "cxx") == "/dev/counter-cxx"
    assert devnames.dev_path("lkp_enc", "c") == "/dev/lkp_enc-c"
    assert devnames.first_dev_path("scull", "cxx") == "/dev/scull-cxx0"
    assert devnames.module_name("lkp_enc", "cxx") == "lkp_enc_cxx"
    assert devnames.parse_dev_path("/dev/scull-cxx3") == ("scull", "cxx", 3)
    assert devnames.dev_path("scullpipe", "c", 3) == "/dev/scullpipe-c3"
    assert devnames.parse_dev_path("/dev/scullpipe-cxx0") == ("scullpipe", "cxx", 0)
    assert devnames.variants() == ("c", "cxx")
    # the partial variant: counter only
    assert devnames.dev_path("counter", "rust") == "/dev/counter-rust"
    assert devnames.module_name("counter", "rust") == "counter_rust"
    assert devnames.parse_dev_path("/dev/counter-rust") == ("counter", "rust", None)
    assert devnames.variants_of("scull") == ("c", "cxx")
    assert devnames.parse_dev_path("/dev/scull-rust0") is None
    with pytest.raises(ValueError, match="unknown variant"):
        devnames.module_name("lkp_enc", "rust")
    with pytest.raises(ValueError, match="minor index"):
        devnames.dev_path("scull", "c")
    with pytest.raises(ValueError, match="unknown driver"):
        devnames.dev_path("rust_thing", "c")


def test_every_driver_source_is_in_the_table():
    """kmod/c/<base>_c.c exists exactly for the header's drivers."""
    sources = {p.name[:-len("_c.c")] for p in (ROOT / "kmod" / "c").glob("*_c.c") if not p.name.endswith(".mod.c")}
    assert sources == set(devnames.drivers())


def test_every_variant_has_one_language_label():
    """Reports name a variant's language through devnames.label only: C, C++ and the partial Rust
    (KMODLAB_PARTIAL_VARIANTS), each distinct; an unknown variant is an error, not a made-up label."""
    every = devnames.variants() + devnames.partial_variants()
    assert devnames.partial_variants() == ("rust",)
    assert [devnames.label(v) for v in every] == ["C", "C++", "Rust"]
    with pytest.raises(ValueError, match="unknown variant"):
        devnames.label("go")
