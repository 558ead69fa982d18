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

V=$(dirname "$0")/validate.py
validate() {	# file ops-expected(or -) mode
	local ops=()
	[ "$2" = - ] || ops=(--ops "$2")
	"$PY" "$V" load "$1" "${ops[@]}" --mode "$3"
}

t "help" "$LOAD" --help
t "read /dev/zero closed loop, ops" "$LOAD" -d /dev/zero --op read --size 1 --ops 20000 --warmup 0 --json "$tmp/a.json" -q
t "  json" validate "$tmp/a.json" 20000 closed
t "write /dev/null 2 threads, duration" "$LOAD" -d /dev/null --op write --threads 2 --duration 300ms --warmup 50ms --json "$tmp/b.json" -q
t "  json" validate "$tmp/b.json" - closed
t "open loop at 5000/s" "$LOAD" -d /dev/zero --op read --rate 5000 --duration 400ms --warmup 100ms --json "$tmp/c.json" -q
t "  json" validate "$tmp/c.json" - open
t "  rate kept" "$PY" "$V" load "$tmp/c.json" --mode open --rate 5000 --rate-tol 0.1
t "open loop 2 threads, ops" "$LOAD" -d /dev/zero --op read --rate 4000 --threads 2 --ops 1000 --warmup 0 --json "$tmp/c2.json" -q
t "  json" validate "$tmp/c2.json" 1000 open
: >"$tmp/file"; : >"$tmp/file3"
t "mix on a file, --check, rand offsets" "$LOAD" -d "$tmp/file" --mix read=70,pwrite=20,pread=10 --threads 2 --ops 4000 --size 4k --span 256k --offsets rand --check --json "$tmp/d.json" -q
t "  json" validate "$tmp/d.json" 4000 closed
t "  check ok in json" "$PY" "$V" load "$tmp/d.json" --check-ok
: >"$tmp/file2"
t "write-only --check on a file" "$LOAD" -d "$tmp/file2" --op write --ops 500 --size 1000 --span 64k --check -q
# --check must be able to fail: corrupt the file behind the tool's back
# while it runs, once its first progress line shows it is measuring.
t "make a file" "$LOAD" -d "$tmp/file3" --op pwrite --ops 10 --size 4k --span 64k -q
"$LOAD" -d "$tmp/file3" --op pread --duration 3s --warmup 0 --size 4k --span 64k --check >"$tmp/c3.out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "ops/s" "$tmp/c3.out" && break; sleep 0.05; done
printf 'CORRUPT' | dd of="$tmp/file3" bs=1 seek=100 conv=notrunc status=none
if wait $pid; then bad "--check catches corruption (succeeded)"; cat "$tmp/c3.out"; else ok "--check catches corruption"; fi
cp "$tmp/c3.out" "$tmp/out"
has "check FAILED"
tf "missing device" "$LOAD" -d /dev/scull-c7 --op read --ops 10
has "/dev/scull-c7 not found: is the module loaded? (module scull_c)"
tf "unknown op for device" "$LOAD" -d /dev/zero --op encrypt --ops 10
has "unknown operation 'encrypt' for a generic device; valid: read, write, pread, pwrite"
tf "--check on /dev/null" "$LOAD" -d /dev/null --op write --ops 10 --check
has "keeps data"
# Root reads a mode-000 file anyway, so as root the tool runs as nobody
# (setpriv): the message must be checked on every machine, not only as a user.
touch "$tmp/noperm"; chmod 000 "$tmp/noperm"; chmod 755 "$tmp"
as_user=()
[ "$(id -u)" != 0 ] || as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
tf "permission denied" "${as_user[@]}" "$LOAD" -d "$tmp/noperm" --op read --ops 10
has "permission denied"
t "nullloop" "$NULLLOOP" read /dev/zero 1000
echo "$fails failure(s)"
[ "$fails" = 0 ]
