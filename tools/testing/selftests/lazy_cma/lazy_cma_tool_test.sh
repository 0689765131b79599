#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lazy_cma_tool against the real module, in the guest (busybox sh): output
# lines that scripts parse, units, list and JSON, load/dump round trip, and
# every error message.  TAP, with a kselftest-style totals line.
T=lazy_cma_tool
n=0 pass=0 fail=0
out=/tmp/tool.out err=/tmp/tool.err

echo "TAP version 13"
ok() { # $1 = 0 for success, $2 = description
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1)); echo "ok $n $2"
	else
		fail=$((fail + 1)); echo "not ok $n $2"
		sed 's/^/#   stdout: /' $out; sed 's/^/#   stderr: /' $err
	fi
}
# run the tool; status in $rc
t() { "$T" "$@" >$out 2>$err; rc=$?; }
# expect status $1 and stdout matching $2 (grep -E)
expect_out() { [ "$rc" = "$1" ] && grep -qE "$2" $out; }
expect_err() { [ "$rc" = "$1" ] && grep -qF "$2" $err; }
addr() { sed -n 's/.* at \(0x[0-9a-f]*\)$/\1/p' $out; }

t -a 64 -n "tool test"
expect_out 0 '^allocated 64 MB at 0x[0-9a-f]+$'; ok $? "-a 64 prints 'allocated 64 MB at ADDR'"
a64=$(addr)
grep -q "$(printf '%x' $((a64)))-.* : tool test" /proc/iomem; ok $? "the region is in /proc/iomem under its name"

t -a 4096K -n "unit k"
expect_out 0 '^allocated 4 MB at 0x'; ok $? "4096K is 4 MB"
ak=$(addr)
t -a 100K
expect_out 0 '^allocated 100 KB at 0x'; ok $? "100K is 100 KB"
a100=$(addr)
t --alloc 1G --node 0 --name "a gig"
expect_out 0 '^allocated 1024 MB at 0x'; ok $? "long options and G units"
ag=$(addr)
t -a 128M -N 1 -n "node one"
expect_out 0 '^allocated 128 MB at 0x'; ok $? "-N 1 allocates from the hot-plugged node"
a1=$(addr)

t -l
expect_out 0 '^START +END +SIZE +NODE +MAPPED +NAME$'; ok $? "-l prints a header"
grep -qE "^$(printf '0x%016x' $((a1))) .* 128 MB +1 +0  node one$" $out; ok $? "-l row: start, size, node, mapped, name"
[ "$(grep -c '^0x' $out)" = 5 ]; ok $? "-l lists the five regions"

t -l --json
[ "$rc" = 0 ] && json_check < $out; ok $? "--json is valid JSON"
grep -q "\"start\": $((a1)), \"end\": $((a1 + 134217727)), \"size\": 134217728, \"node\": 1, \"name\": \"node one\", \"mapped\": 0" $out
ok $? "--json fields of a region"

t -r "$a64" 128
expect_out 0 '^resized to 128 MB at 0x[0-9a-f]+$'; ok $? "-r prints 'resized to 128 MB at ADDR'"
a64=$(addr)
t -r "$a64" 32M
expect_out 0 "^resized to 32 MB at $a64\$"; ok $? "shrinking keeps the address"

# load and dump through mmap, checksums compared
dd if=/dev/urandom of=/tmp/img bs=4096 count=1000 2>/dev/null
t -w "$a64" /tmp/img
expect_out 0 "^wrote 4096000 bytes to $a64\$"; ok $? "-w loads a file"
t -d "$a64" /tmp/img.back 4096000
expect_out 0 "^dumped 4096000 bytes from $a64\$"; ok $? "-d dumps LEN bytes"
[ "$(md5sum < /tmp/img)" = "$(md5sum < /tmp/img.back)" ]; ok $? "dump equals what was loaded (md5)"
t -r "$a64" 64
a64=$(addr)
t -d "$a64" /tmp/img.moved 4096000
[ "$(md5sum < /tmp/img)" = "$(md5sum < /tmp/img.moved)" ]; ok $? "contents survive a resize (md5)"
t -d "$a64" /tmp/whole
[ "$rc" = 0 ] && [ "$(wc -c < /tmp/whole)" = 67108864 ]; ok $? "-d without LEN dumps the whole region"
dd if=/dev/zero of=/tmp/big bs=1M count=65 2>/dev/null
t -w "$a64" /tmp/big
expect_err 2 "resize it first (-r)"; ok $? "-w of a file larger than the region fails with a hint"
t -d "$a64" /tmp/x 0x10000000000
[ "$rc" = 1 ]; ok $? "-d LEN beyond the region is a usage error"

# errors: what happened and what to try
t -f 0x1234000
expect_err 2 "no region starts at that address; see lazy_cma_tool -l"; ok $? "ENOENT hint"
t -a 1T -N 0
expect_err 2 "node 0 is too fragmented or has too little free memory"; ok $? "ENOMEM names the node and its free memory"
grep -qE '\([0-9]+ MB free\)' $err; ok $? "ENOMEM shows the free MB"
t -a 1T
expect_err 2 "no node could supply it; free memory: node 0"; ok $? "ENOMEM for any node lists the nodes"
t -a 1 -N 9
expect_err 2 "rejected an argument"; ok $? "a node beyond the possible ones is EINVAL"
su -s /bin/sh nobody -c "$(command -v $T) -l" >$out 2>$err; rc=$?
expect_err 2 "this needs root (CAP_SYS_ADMIN)"; ok $? "non-root: needs root"
LAZY_CMA_DEV=/dev/lazy_cma_missing "$T" -l >$out 2>$err; rc=$?
expect_err 2 "the lazy_cma module is not loaded"; ok $? "missing device: module not loaded"

# usage
t; [ "$rc" = 1 ]; ok $? "no arguments: usage, status 1"
t -a 12Q; expect_err 1 "bad size"; ok $? "bad size: status 1"
t -a 0; expect_err 1 "bad size"; ok $? "size 0: status 1"
t -r 0x1000; [ "$rc" = 1 ]; ok $? "-r without SIZE: status 1"
t -f zz; expect_err 1 "bad address"; ok $? "bad address: status 1"
t -a 1 -N x; expect_err 1 "bad node"; ok $? "bad node: status 1"
t -a 1 -n "$(printf 'bad\tname')"; expect_err 1 "printable ASCII"; ok $? "unprintable name: status 1"
t -l -n x; [ "$rc" = 1 ]; ok $? "-n without -a: status 1"
t --json -a 1; [ "$rc" = 1 ]; ok $? "--json without -l: status 1"
t --help; expect_out 0 "^Usage: lazy_cma_tool"; ok $? "--help: status 0"
t --version; expect_out 0 "^lazy_cma_tool "; ok $? "--version: status 0"

# every one of the five must print it (a loop's status is its last command's)
freed=0
for a in $a64 $ak $a100 $ag $a1; do
	t -f "$a"
	expect_out 0 "^freed allocation at $a\$" && freed=$((freed + 1))
done
[ "$freed" = 5 ]; ok $? "-f prints 'freed allocation at ADDR' for each of the five"
t -l
[ "$(grep -c '^0x' $out)" = 0 ]; ok $? "nothing left"

# ENODEV: take node 1's memory away (as unplugging CXL memory would), then back
for b in /sys/devices/system/node/node1/memory*/state; do
	echo offline > "$b"
done
t -a 1 -N 1
expect_err 2 "node 1 has no memory; nodes with memory: 0"; ok $? "ENODEV lists the nodes with memory"
for b in /sys/devices/system/node/node1/memory*/state; do
	echo online_movable > "$b"
done
grep -q 0-1 /sys/devices/system/node/has_memory; ok $? "node 1 back online"

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
