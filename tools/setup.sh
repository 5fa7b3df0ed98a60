#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs what the build needs (Debian packages), builds uffdemu in build/,
# then runs one job:
#   tools/setup.sh demo    the demo monitor on the emulator (default)
#   tools/setup.sh test    every test (ctest; as root it reserves 8 huge
#                          pages of 2 MiB and one of 1 GiB for the run and
#                          gives them back)
#   tools/setup.sh bench   the benchmark: emulator against kernel (minutes;
#                          huge pages reserved as for test)
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

# The hugetlb tests and benchmark rows need a few free 2 MiB huge pages
# and one of 1 GiB: as root, reserve them for the run and give them back
# afterwards (a 1 GiB page may not be had where memory is fragmented: those
# rows are skipped then).
reserve_huge_pages() {
	hp=/proc/sys/vm/nr_hugepages
	gp=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
	if [ "$(id -u)" -ne 0 ] || [ ! -w "$hp" ]; then
		return 0
	fi
	before=$(cat "$hp")
	gbefore=$(cat "$gp" 2>/dev/null || echo "")
	trap 'echo "$before" >"$hp"; [ -z "$gbefore" ] ||
		echo "$gbefore" >"$gp"' EXIT
	trap 'exit 130' INT TERM
	echo $((before + 8)) >"$hp" 2>/dev/null || true
	if [ -n "$gbefore" ]; then
		echo $((gbefore + 1)) >"$gp" 2>/dev/null || true
	fi
}

case "$job" in
demo)
	exec "$build/tools/uffdemu-demo" "${2:-4}"
	;;
test)
	cd "$build"
	reserve_huge_pages
	status=0
	ctest --output-on-failure --timeout 300 -j1 || status=$?
	exit "$status"
	;;
bench)
	shift
	reserve_huge_pages
	status=0
	"$build/tools/bench/uffdemu-bench" "$@" || status=$?
	exit "$status"
	;;
build) ;;
*)
	echo "uffdemu: unknown job '$job' (demo, test, bench or build)" >&2
	exit 2
	;;
esac
