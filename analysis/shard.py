"""Sharding a bench over machines: which cells a shard runs, and who ran it.

One owner for the partition: scripts/bench_matrix.py asks `shard_cells` which
cells its shard runs, `python3 -m analysis merge` checks the recorded cell
lists against the same rule.  The unit of a shard is the matrix CELL
(driver/workload): C and C++ of a cell, all its pairs and all its boots,
and (when one machine runs several kernels) all its kernels stay together,
so no ratio ever divides numbers from two machines.

The partition: the cell names sorted, cell k goes to shard (k mod N) + 1.
Deterministic (a function of the matrix only, which the settings fix),
disjoint and complete by construction, and balanced (shard sizes differ by
at most one; every cell costs the same guest time, BENCH_DURATION_S per
run).  Shards are numbered 1..N as `make bench SHARD=i/N` spells them.
"""
from __future__ import annotations

import hashlib
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MACHINE_ID_FILE = Path("/etc/machine-id")


@dataclass(frozen=True)
class Shard:
    index: int   # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def as_json(self) -> dict:
        return {"index": self.index, "count": self.count}


WHOLE = Shard(1, 1)


def parse_shard(text: str | None) -> Shard:
    """'i/N' (1 <= i <= N) -> Shard; empty or None -> the whole matrix (1/1)."""
    if text is None or not text.strip():
        return WHOLE
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise InputError(f"SHARD={text!r}: expected i/N with 1 <= i <= N, e.g. SHARD=1/2")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= i <= n:
        raise InputError(f"SHARD={text!r}: shard index must be in 1..{n} (SHARD=i/N, shards count from 1)")
    return Shard(i, n)


def shard_of(names: list[str], shard_count: int) -> dict[str, int]:
    """Cell name -> its shard index (1..N): sorted names dealt round-robin."""
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"matrix has duplicate cell names {dup}: a cell must be one shard's")
    return {name: k % shard_count + 1 for k, name in enumerate(sorted(names))}


def shard_cells(names: list[str], shard: Shard) -> list[str]:
    """The cells of `names` this shard runs, in the matrix's own order."""
    owner = shard_of(names, shard.count)
    return [n for n in names if owner[n] == shard.index]


def machine() -> dict:
    """Who ran a shard: the hostname and a machine id.

    The id is a hash of /etc/machine-id (systemd's per-installation id,
    distinct per CI runner VM) rather than the id itself; without that file
    it is a hash of the hostname and says so.
    """
    host = socket.gethostname()
    try:
        raw = MACHINE_ID_FILE.read_text().strip()
        source = str(MACHINE_ID_FILE)
    except OSError:
        raw, source = host, "hostname (no /etc/machine-id)"
    return {"host": host, "id": hashlib.sha256(raw.encode()).hexdigest()[:16], "id_source": source}


def machine_key(m: dict | None) -> str:
    """A machine's identity for comparisons: its id (hostnames repeat across CI runners)."""
    if not m:
        return "unknown"
    return str(m.get("id") or m.get("host") or "unknown")


def kernel_label(release: str) -> str:
    """The kernel series a release belongs to: '6.1.0-57-amd64' -> '6.1', '6.12.117+deb12-amd64' -> '6.12'.

    Baselines and the cross-kernel comparison are keyed by the series, not
    the ABI: Debian moves the ABI (6.1.0-56 -> -57) within a week, and a
    baseline must survive that.
    """
    m = re.match(r"(\d+)\.(\d+)", release or "")
    if not m:
        raise InputError(f"kernel release {release!r}: cannot tell its series (expected MAJOR.MINOR...)")
    return f"{m.group(1)}.{m.group(2)}"


def main(argv=None) -> int:
    """python3 -m analysis.shard machine: this machine's record as JSON (scripts/bench.sh)."""
    import argparse
    import json
    ap = argparse.ArgumentParser(prog="python3 -m analysis.shard", description=main.__doc__)
    ap.add_argument("what", choices=["machine"])
    ap.parse_args(argv)
    print(json.dumps(machine()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
