#!/usr/bin/env bash
# check-raw-calls-test.sh CHECKER - the no-raw-calls build check rejects what
# it exists to reject (a kernel function from bindings.def, kcxx's raw
# allocation, an atomic builtin, container_of) and accepts kcxx calls,
# member calls, comments and strings that merely mention those names.
set -uo pipefail
checker=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
expect() {	# pass|fail name source
	printf '%s\n' "$3" >"$dir/$2.cpp"
	if "$checker" --quiet "$dir/$2.cpp" >"$dir/$2.log" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$1" ]; then
		echo "ok: $2 -> $got"
	else
		echo "FAIL: $2: checker said $got, expected $1"; cat "$dir/$2.log"; fails=$((fails + 1))
	fi
}
expect pass clean '// kfree(p) in a comment, mutex_lock( too
int f(Q &q) { q.cache.free(p); q->alloc(3); str::match(names, "kfree(x)"); return has_capability(Cap::sys_admin); }'
expect fail kernel_fn 'void f(void *p) { kfree(p); }'
expect fail kernel_fn_global 'void f(void *p) { ::kfree(p); }'
expect fail kernel_fn_spaced 'int f() { return capable (21); }'
expect fail raw_alloc 'void *f() { return kzalloc(8, gfp::kernel); }'
expect fail atomic 'int f(int *p) { return __atomic_load_n(p, 0); }'
expect fail container 'T *f(M *m) { return KCXX_CONTAINER_OF(m, T, misc); }'
expect fail user_copy 'int f(uptr a, char *b) { return copy_to_user(a, b, 1); }'
# --pending reports and passes
printf 'void f(void *p) { kfree(p); }\n' >"$dir/pend.cpp"
if "$checker" --pending "$dir/pend.cpp" | grep -q PENDING; then echo "ok: pending -> reported"; else echo "FAIL: --pending did not report"; fails=$((fails + 1)); fi
[ "$fails" = 0 ] && echo "all ok" || { echo "$fails failure(s)"; exit 1; }
