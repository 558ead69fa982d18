#!/usr/bin/env bash
# cli.sh - kmodlab-load end to end on the host: /dev/null, /dev/zero and a
# regular file (no module needed).  Exercises closed and open loop, mixes,
# --check (and that it catches corruption), --json fields, error messages.
# Usage: cli.sh KMODLAB_LOAD NULLLOOP
set -uo pipefail
LOAD=$1
NULLLOOP=$2
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
t() { local name=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/    /' "$tmp/out"; fi; }
tf() { local name=$1; shift; if "$@" >"$tmp/out" 2>&1; then bad "$name (succeeded)"; sed 's/^/    /' "$tmp/out"; else ok "$name"; fi; }
has() { grep -q -- "$1" "$tmp/out" || { bad "message '$1' missing"; sed 's/^/    /' "$tmp/out"; }; }

# The JSON must have every documented field and consistent figures.
validate() {	# file ops-expected(or -) mode
	$PY - "$@" <<'PYEOF'
import json, sys
f, want_ops, mode = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(f))
for k in ["tool","version","env","device","driver","variant","module_params","op","mix","threads","mode","rate",
          "duration_s","warmup_s","ops","errors","bytes","ops_per_s","bytes_per_s","latency_ns","histogram","check","bpf"]:
    assert k in d, "missing " + k
assert d["tool"] == "kmodlab-load" and d["version"] == 1
for k in ["kernel","accel","cpus","cmdline"]:
    assert k in d["env"], "env missing " + k
assert d["mode"] == mode, d["mode"]
if want_ops != "-":
    assert d["ops"] == int(want_ops), (d["ops"], want_ops)
assert d["ops"] > 0
lat = d["latency_ns"]
seq = [lat[k] for k in ["min","p50","p90","p99","p999","p9999","max"]]
assert all(a <= b for a, b in zip(seq, seq[1:])), seq
assert lat["min"] <= lat["mean"] <= lat["max"], lat
assert sum(b[2] for b in d["histogram"]) == d["ops"]
assert all(b[0] < b[1] for b in d["histogram"])
assert all(a[1] <= b[0] for a, b in zip(d["histogram"], d["histogram"][1:]))
assert abs(d["ops_per_s"] * d["duration_s"] - d["ops"]) <= 0.01 * d["ops"] + 1
print("json ok:", d["ops"], "ops", round(d["ops_per_s"]), "ops/s")
PYEOF
}

t "help" "$LOAD" --help
t "read /dev/zero closed loop, ops" "$LOAD" -d /dev/zero --op read --size 1 --ops 20000 --warmup 0 --json "$tmp/a.json" -q
t "  json" validate "$tmp/a.json" 20000 closed
t "write /dev/null 2 threads, duration" "$LOAD" -d /dev/null --op write --threads 2 --duration 300ms --warmup 50ms --json "$tmp/b.json" -q
t "  json" validate "$tmp/b.json" - closed
t "open loop at 5000/s" "$LOAD" -d /dev/zero --op read --rate 5000 --duration 400ms --warmup 100ms --json "$tmp/c.json" -q
t "  json" validate "$tmp/c.json" - open
t "  rate kept" $PY -c "import json;d=json.load(open('$tmp/c.json'));r=d['ops']/0.4;assert 4500<r<5500,r;assert 'service_latency_ns' in d"
t "open loop 2 threads, ops" "$LOAD" -d /dev/zero --op read --rate 4000 --threads 2 --ops 1000 --warmup 0 --json "$tmp/c2.json" -q
t "  json" validate "$tmp/c2.json" 1000 open
: >"$tmp/file"; : >"$tmp/file3"
t "mix on a file, --check, rand offsets" "$LOAD" -d "$tmp/file" --mix read=70,pwrite=20,pread=10 --threads 2 --ops 4000 --size 4k --span 256k --offsets rand --check --json "$tmp/d.json" -q
t "  json" validate "$tmp/d.json" 4000 closed
t "  check ok in json" $PY -c "import json;d=json.load(open('$tmp/d.json'));assert d['check']=={'enabled':True,'ok':True,'detail':d['check']['detail']};assert set(d['per_op'])=={'read','pwrite','pread'}"
: >"$tmp/file2"
t "write-only --check on a file" "$LOAD" -d "$tmp/file2" --op write --ops 500 --size 1000 --span 64k --check -q
# --check must be able to fail: corrupt the file behind the tool's back
# while it runs (a reader that sees foreign bytes).
t "make a file" "$LOAD" -d "$tmp/file3" --op pwrite --ops 10 --size 4k --span 64k -q
(
	sleep 0.3
	printf 'CORRUPT' | dd of="$tmp/file3" bs=1 seek=100 conv=notrunc status=none
) &
tf "--check catches corruption" "$LOAD" -d "$tmp/file3" --op pread --duration 800ms --warmup 0 --size 4k --span 64k --check -q
has "check FAILED"
wait
tf "missing device" "$LOAD" -d /dev/scull-c7 --op read --ops 10
has "/dev/scull-c7 not found: is the module loaded? (module scull_c)"
tf "unknown op for device" "$LOAD" -d /dev/zero --op encrypt --ops 10
has "unknown operation 'encrypt' for a generic device; valid: read, write, pread, pwrite"
tf "--check on /dev/null" "$LOAD" -d /dev/null --op write --ops 10 --check
has "keeps data"
if [ "$(id -u)" != 0 ]; then
	touch "$tmp/noperm"; chmod 000 "$tmp/noperm"
	tf "permission denied" "$LOAD" -d "$tmp/noperm" --op read --ops 10
	has "permission denied"
fi
t "nullloop" "$NULLLOOP" read /dev/zero 1000
echo "$fails failure(s)"
[ "$fails" = 0 ]
