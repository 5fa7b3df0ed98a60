#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Ordinary commands that must print the same with and without the shim.
set -u
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

printf 'pear\napple\nfig\napple\n' | sort | uniq -c
head -c 300000 /dev/zero | tr '\0' 'z' >zs
wc -c zs
sha256sum zs
cp zs copy && cmp zs copy && echo "cp and cmp agree"
dd if=zs of=dd.out bs=4096 count=10 2>/dev/null && wc -c dd.out
gzip -c zs | gzip -dc | md5sum
seq 1 1000 | awk '{ s += $1 } END { print s }'
ls -l | awk 'NF > 2 { print $1, $5, $NF }' | sort
stat -c '%s %F' zs
find . -name 'c*' | sort
(sleep 0.1 && echo late) &
wait
sh -c 'exit 7'
echo "status $?"
ls /proc/self/fd | wc -l
