#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# compare.sh UFFDEMU EXPECTED PROGRAM [ARGS...]
#
# Runs PROGRAM twice, as it is (on the kernel's userfaultfd) and under
# `UFFDEMU run`, and fails unless both succeed and print the same on
# stdout.  A program that exits 77 on the kernel found the kernel's
# userfaultfd unavailable: that run is skipped.  EXPECTED, unless it is
# "-", is the text both runs must print, so the emulator is checked even
# where the kernel cannot be.  With COMPARE_NEEDS_HUGEPAGES=N in the
# environment, fewer than N free 2 MiB huge pages skip the test (77).
set -u
uffdemu=$1
expected=$2
shift 2
need=${COMPARE_NEEDS_HUGEPAGES:-0}
if [ "$need" -gt 0 ]; then
	free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages \
		2>/dev/null || echo 0)
	if [ "$free" -lt "$need" ]; then
		echo "SKIP: $free free 2 MiB huge pages, $need needed" \
			"(vm.nr_hugepages; tools/setup.sh test reserves them as root)"
		exit 77
	fi
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

"$@" >"$dir/kernel.out" 2>"$dir/kernel.err"
kernel=$?
"$uffdemu" run -- "$@" >"$dir/emu.out" 2>"$dir/emu.err"
emu=$?

failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

if [ "$emu" -eq 77 ]; then
	fail "under uffdemu run the program skipped: $(cat "$dir/emu.err")"
elif [ "$emu" -ne 0 ]; then
	fail "under uffdemu run the program exited $emu"
elif [ "$kernel" -eq 77 ]; then
	echo "kernel run skipped: $(cat "$dir/kernel.err")"
	[ "$expected" = - ] && fail "nothing to compare the emulator with"
else
	[ "$kernel" -eq "$emu" ] ||
		fail "exit status $kernel on the kernel, $emu under uffdemu run"
	diff -u --label kernel --label "uffdemu run" \
		"$dir/kernel.out" "$dir/emu.out" ||
		fail "the outputs differ"
fi
if [ "$expected" != - ]; then
	diff -u --label expected --label "uffdemu run" \
		"$expected" "$dir/emu.out" ||
		fail "the output under uffdemu run is not the expected one"
fi

if [ "$failed" -ne 0 ]; then
	for f in kernel.err emu.err; do
		[ -s "$dir/$f" ] && { echo "--- $f"; cat "$dir/$f"; }
	done
	exit 1
fi
echo "same output on the kernel and under uffdemu run ($(wc -l <"$dir/emu.out") lines)"
exit 0
