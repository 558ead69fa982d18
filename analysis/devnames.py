"""devnames.py - the lab's module and device node names, for Python.

The rule and the names live in kmod/include/uapi/kmodlab_dev.h (C and C++
call its functions); this module takes the names from that header through
the C preprocessor, so nothing here repeats a name:

    module  <base>_<variant>            scull_c, counter_cxx
    node    /dev/<base>-<variant>[N]    /dev/scull-c0, /dev/counter-cxx

N (the minor index) is required for the drivers the header marks numbered
and refused for the others.  analysis/tests/test_devnames.py compiles the
header's functions and checks that they and these give the same names.
No numpy: scripts that run in the guest import this.
"""
import functools
import re
import subprocess
from pathlib import Path

UAPI = Path(__file__).resolve().parent.parent / "kmod" / "include" / "uapi"
HEADER = "kmodlab_dev.h"

# Expanded by cpp after the header: one marker line per fact.
_PROBE = """#include "%s"
#define KL_PY_DRIVER(name, numbered) KL_PY_DRIVER name numbered
#define KL_PY_VARIANT(name) KL_PY_VARIANT name
KMODLAB_DRIVERS(KL_PY_DRIVER)
KMODLAB_VARIANTS(KL_PY_VARIANT)
#define KL_PY_PARTIAL(variant, driver) KL_PY_PARTIAL variant driver
KMODLAB_PARTIAL_VARIANTS(KL_PY_PARTIAL)
KL_PY_STR DEV_DIR KMODLAB_DEV_DIR
KL_PY_STR DEV_SEP KMODLAB_DEV_SEP
KL_PY_STR MODULE_SEP KMODLAB_MODULE_SEP
"""


@functools.lru_cache(maxsize=None)
def _facts(uapi=UAPI):
    """Drivers (name -> numbered), variants and separators of the header."""
    try:
        out = subprocess.run(["cpp", "-P", "-I", str(uapi), "-"], input=_PROBE % HEADER, text=True,
                             capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise RuntimeError("devnames: cpp not found (apt-get install build-essential)") from None
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"devnames: cpp failed on {uapi / HEADER}: {e.stderr.strip()}") from None
    text = " ".join(out.split())  # one X(...) expansion may span lines
    drivers = {n: num != "0" for n, num in re.findall(r'KL_PY_DRIVER "([^"]*)" (\d+)', text)}
    variants = tuple(re.findall(r'KL_PY_VARIANT "([^"]*)"', text))
    strs = dict(re.findall(r'KL_PY_STR (\w+) "([^"]*)"', text))
    if not drivers or not variants or len(strs) != 3:
        raise RuntimeError(f"devnames: {uapi / HEADER} lacks KMODLAB_DRIVERS, KMODLAB_VARIANTS or a separator")
    partial = {}
    for v, d in re.findall(r'KL_PY_PARTIAL "([^"]*)" "([^"]*)"', text):
        partial.setdefault(d, []).append(v)
    return drivers, variants, strs, {d: tuple(v) for d, v in partial.items()}


def drivers():
    """Base names of the lab's drivers, in the header's order."""
    return tuple(_facts()[0])


def variants():
    """Variant names, C first ("c", "cxx")."""
    return _facts()[1]


def variants_of(base):
    """The variants base exists in: every one of variants(), then its partial
    ones (KMODLAB_PARTIAL_VARIANTS: counter also in "rust")."""
    numbered(base)
    return variants() + _facts()[3].get(base, ())


# How reports name each variant's language.  The header names variants, not
# languages, so the labels live here, once: report, figures, icount profile
# and cross-kernel tables all take them from label().
_LABELS = {"c": "C", "cxx": "C++", "rust": "Rust"}


def label(variant):
    """"cxx" -> "C++": the variant's language as reports print it."""
    known = variants() + partial_variants()
    if variant not in known:
        raise ValueError(f"unknown variant {variant!r} (kmod/include/uapi/{HEADER}: {', '.join(known)})")
    if variant not in _LABELS:
        raise ValueError(f"variant {variant!r} has no language label: add it to analysis/devnames.py _LABELS")
    return _LABELS[variant]


def partial_variants():
    """Variants that only some drivers have (KMODLAB_PARTIAL_VARIANTS: "rust"), in the header's order."""
    return tuple(dict.fromkeys(v for vs in _facts()[3].values() for v in vs))


def numbered(base):
    """Whether base's nodes carry a minor index (scull: /dev/scull-c0)."""
    d = _facts()[0]
    if base not in d:
        raise ValueError(f"unknown driver {base!r} (kmod/include/uapi/{HEADER}: {', '.join(d)})")
    return d[base]


def _check(base, variant):
    if variant not in variants_of(base):
        raise ValueError(f"unknown variant {variant!r} of {base} (kmod/include/uapi/{HEADER}: {', '.join(variants_of(base))})")


def module_name(base, variant):
    """"scull", "c" -> "scull_c"."""
    _check(base, variant)
    return f"{base}{_facts()[2]['MODULE_SEP']}{variant}"


def dev_path(base, variant, minor=None):
    """"counter", "cxx" -> "/dev/counter-cxx"; "scull", "c", 0 -> "/dev/scull-c0".

    minor is required for a numbered driver and refused for the others."""
    _check(base, variant)
    if numbered(base) != (minor is not None) or (minor is not None and (not isinstance(minor, int) or minor < 0)):
        want = "a minor index >= 0" if numbered(base) else "no minor index"
        raise ValueError(f"{base} nodes take {want}, not {minor!r}")
    s = _facts()[2]
    return f"{s['DEV_DIR']}{base}{s['DEV_SEP']}{variant}{'' if minor is None else minor}"


def first_dev_path(base, variant):
    """The node every driver has: minor 0 of a numbered driver, the only node of the others."""
    return dev_path(base, variant, 0 if numbered(base) else None)


def parse_dev_path(path):
    """(base, variant, minor or None) of a node the rule makes, else None.

    Only the name after the last '/' counts; the variant follows the last
    separator (a base name may contain '_', never the separator)."""
    name = str(path).rsplit("/", 1)[-1]
    base, sep, rest = name.rpartition(_facts()[2]["DEV_SEP"])
    if not sep:
        return None
    m = re.fullmatch(r"(.*?)([0-9]*)", rest)
    variant, digits = m.group(1), m.group(2)
    if base not in drivers() or variant not in variants_of(base) or len(digits) > 9:
        return None
    minor = int(digits) if digits else None
    if numbered(base) != (minor is not None):
        return None
    return base, variant, minor
