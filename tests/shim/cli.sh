#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cli.sh UFFDEMU MONITOR: the `uffdemu` command's usage, errors and options.
set -u
uffdemu=$1
monitor=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
failed=0

# expect STATUS PATTERN-ON-STDOUT PATTERN-ON-STDERR COMMAND...
expect() {
	status=$1 want_out=$2 want_err=$3
	shift 3
	"$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -ne "$status" ] ||
		{ [ -n "$want_out" ] && ! grep -q -e "$want_out" "$out"; } ||
		{ [ -n "$want_err" ] && ! grep -q -e "$want_err" "$err"; }; then
		echo "FAIL: $* (exit $got, expected $status)"
		echo "--- stdout"
		cat "$out"
		echo "--- stderr"
		cat "$err"
		failed=1
	fi
}

expect 2 '' '^usage: uffdemu run' "$uffdemu"
expect 0 '^usage: uffdemu run' '' "$uffdemu" --help
expect 0 '^uffdemu [0-9]' '' "$uffdemu" version
expect 2 '' '^uffdemu: frobnicate: unknown command' "$uffdemu" frobnicate
expect 2 '' '^uffdemu: run: no program given' "$uffdemu" run
expect 2 '' '^uffdemu: run: no program given' "$uffdemu" run --trace --
expect 2 '' '^uffdemu: --bogus: unknown option' "$uffdemu" run --bogus true
expect 2 '' '^uffdemu: --trace: needs the emulator' \
	"$uffdemu" run --kernel --trace true
expect 127 '' '^uffdemu: /nonexistent/program: No such file or directory' \
	"$uffdemu" run -- /nonexistent/program
expect 125 '' '^uffdemu: /nonexistent.so: No such file or directory' \
	env UFFDEMU_PRELOAD=/nonexistent.so "$uffdemu" run true
expect 3 '' '' "$uffdemu" run -- sh -c 'exit 3'

# LD_PRELOAD: ours first, the program's own kept, ours gone with --kernel.
expect 0 '^/.*/libuffdemu-preload\.so$' '' \
	"$uffdemu" run sh -c 'echo "$LD_PRELOAD"'
expect 0 '^/.*/libuffdemu-preload\.so:libother\.so$' '' \
	env LD_PRELOAD=libother.so "$uffdemu" run sh -c 'echo "$LD_PRELOAD"'
expect 0 '^\[libother\.so\]$' '' \
	"$uffdemu" run sh -c \
	"LD_PRELOAD=\"\$LD_PRELOAD libother.so\" \"$uffdemu\" run --kernel \
	sh -c 'echo \"[\$LD_PRELOAD]\"'"

# The trace: the uffd, its ioctls and the messages read, on stderr only.
expect 0 'registered 8 pages' \
	'^uffdemu\[[0-9]*\] [0-9.]* userfaultfd(O_CLOEXEC|O_NONBLOCK) = [0-9]*$' \
	"$uffdemu" run --trace -- "$monitor"
grep -q 'ioctl([0-9]*, UFFDIO_API, api=0xaa, features=0x100) = 0' "$err" ||
	{ echo "FAIL: no UFFDIO_API line in the trace"; failed=1; }
grep -q 'read([0-9]*) = PAGEFAULT address=0x[0-9a-f]* flags=WRITE' "$err" ||
	{ echo "FAIL: no message line in the trace"; failed=1; }
grep -q 'ioctl([0-9]*, UFFDIO_COPY, dst=0x[0-9a-f]*, .*= 0 (copy=4096)' "$err" ||
	{ echo "FAIL: no UFFDIO_COPY line in the trace"; failed=1; }
grep -q uffdemu "$out" &&
	{ echo "FAIL: trace lines on stdout"; failed=1; }

# --auto: the kernel's userfaultfd where it works, else the emulator.
expect 0 'registered 8 pages' '' "$uffdemu" run --auto -- "$monitor"

exit $failed
