#!/usr/bin/env bash
# hostspeed.sh - kmodlab-hostspeed on this host: options, JSON in range, and
# that it sees a slowdown that is there (busy loops on its CPU for the
# second half of the run: those chunks take about 8x).
# Usage: hostspeed.sh KMODLAB_HOSTSPEED
set -uo pipefail
HS=$1
PY=/usr/bin/python3
tmp=$(mktemp -d)
hog=
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$HS" --help >"$tmp/help" 2>&1 && grep -q -- --chunk-ms "$tmp/help" && ok "--help" || bad "--help"
"$HS" --seconds 0 >"$tmp/err" 2>&1
[ $? = 2 ] && grep -q seconds "$tmp/err" && ok "--seconds 0 refused (exit 2)" || { bad "--seconds 0 not refused"; cat "$tmp/err"; }

# The JSON's fields and their ranges.
check_json() {	# file
	"$PY" - "$1" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
s, a = j["slowdown"], j["fraction_slower_than"]
errs = []
if j["chunks"] < 10: errs.append(f"only {j['chunks']} chunks")
if not j["fastest_chunk_ns"] > 0: errs.append("fastest_chunk_ns not positive")
if not 1 <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"]: errs.append(f"slowdown quantiles out of order: {s}")
f = [a[k] for k in ("1.10", "1.25", "1.50", "2.00")]
if not all(0 <= x <= 1 for x in f) or f != sorted(f, reverse=True): errs.append(f"fractions: {a}")
if len(j["chunk_ns"]) != j["chunks"] or abs(min(j["chunk_ns"]) - j["fastest_chunk_ns"]) > 1e-6:
    errs.append("chunk_ns does not match chunks / fastest_chunk_ns")
print("; ".join(errs) or "ok"); sys.exit(1 if errs else 0)
PYEOF
}
"$HS" --seconds 0.5 --chunk-ms 5 --json >"$tmp/a.json" 2>"$tmp/err" && check_json "$tmp/a.json" \
	&& ok "JSON fields in range" || { bad "JSON"; cat "$tmp/err"; }
"$HS" --seconds 0.5 --chunk-ms 5 | grep -q "chunk time / fastest" && ok "human summary" || bad "human summary"

# Known answer: for the second half of a 2-second run, seven busy loops share
# CPU 0 with it, so its chunks there take about 8x.  The host's own slow
# phases are up to 2x (and can cover either half), and under a parallel
# ctest another test may share CPU 0 in the first half (2x there: with three
# loops the ratio then fell to about 2 and the check failed once), so the
# halves' medians must differ by more than 1.8x.
"$HS" --seconds 2 --chunk-ms 10 --cpu 0 --json >"$tmp/b.json" &
hs=$!
sleep 1
for _ in 1 2 3 4 5 6 7; do taskset -c 0 sh -c 'while :; do :; done' & hog="$hog $!"; done
wait "$hs"
kill $hog; hog=
check_json "$tmp/b.json" && "$PY" - "$tmp/b.json" <<'PYEOF' && ok "busy loops on its CPU show as a slowdown" || bad "the slowdown was not seen"
import json, statistics, sys
ns = json.load(open(sys.argv[1]))["chunk_ns"]
# The hogs start 1 s in: compare the chunks before 0.8 s with those after 1.2 s.
t, first, second = 0.0, [], []
for x in ns:
    (first if t + x / 1e9 < 0.8 else second if t > 1.2 else []).append(x)
    t += x / 1e9
got = statistics.median(second) / statistics.median(first)
print(f"median chunk after the busy loops started / before: {got:.2f} ({len(first)} and {len(second)} chunks)")
sys.exit(0 if got > 1.8 else 1)
PYEOF

echo "hostspeed.sh: $fails failure(s)"
[ "$fails" = 0 ]
