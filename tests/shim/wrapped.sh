#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# wrapped.sh LIBRARY: no call made inside libuffdemu-preload.so may reach
# one of its own wrappers.  Such a call shows as a dynamic relocation
# against a function the library itself exports; the only ones allowed
# are the shim's calls to the emulator's public uffdemu_* functions.  A
# name listed here is missing from UFFDEMU_SHIM_WRAPPED (tools/shim).
set -u
lib=$1
exported=$(mktemp) referenced=$(mktemp)
trap 'rm -f "$exported" "$referenced"' EXIT

nm -D --defined-only "$lib" | awk '{ print $3 }' | sort -u >"$exported"
readelf -rW "$lib" | awk '$3 ~ /JUMP_SLOT|GLOB_DAT/ { print $5 }' |
	sed 's/@.*//' | sort -u >"$referenced"
bad=$(comm -12 "$exported" "$referenced" | grep -v '^uffdemu_')
leaked=$(grep -E '^(sigsegv_|stackoverflow_)' "$exported")
if [ -n "$bad" ]; then
	echo "FAIL: calls inside the library reach its own wrappers:" \
		"$(echo "$bad" | tr '\n' ' ')"
	exit 1
fi
if [ -n "$leaked" ]; then
	echo "FAIL: libsigsegv's functions are exported:" \
		"$(echo "$leaked" | tr '\n' ' ')"
	exit 1
fi
echo "every call inside the library goes to the C library ($(wc -l <"$referenced") functions)"
