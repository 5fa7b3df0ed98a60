#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs what the build needs (Debian packages), builds uffdemu in build/,
# then runs one job:
#   tools/setup.sh demo    the demo monitor on the emulator (default)
#   tools/setup.sh test    every test (ctest; as root it reserves 8 huge
#                          pages for the run and gives them back)
#   tools/setup.sh bench   the benchmark: emulator against kernel (minutes)
#   tools/setup.sh build   nothing more
set -eu

job=${1:-demo}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${UFFDEMU_BUILD:-$top/build}
packages="build-essential cmake pkg-config libsigsegv-dev check"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "uffdemu: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "uffdemu: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

case "$job" in
demo)
	exec "$build/tools/uffdemu-demo" "${2:-4}"
	;;
test)
	cd "$build"
	# The hugetlb rows need a few free 2 MiB huge pages: as root, reserve
	# 8 more for the run and give them back afterwards.
	hp=/proc/sys/vm/nr_hugepages
	before=""
	if [ "$(id -u)" -eq 0 ] && [ -w "$hp" ]; then
		before=$(cat "$hp")
		trap 'echo "$before" >"$hp"' EXIT
		trap 'exit 130' INT TERM
		echo $((before + 8)) >"$hp" 2>/dev/null || true
	fi
	status=0
	ctest --output-on-failure --timeout 300 -j1 || status=$?
	exit "$status"
	;;
bench)
	shift
	exec "$build/tools/bench/uffdemu-bench" "$@"
	;;
build) ;;
*)
	echo "uffdemu: unknown job '$job' (demo, test, bench or build)" >&2
	exit 2
	;;
esac
