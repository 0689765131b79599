#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lazy_cma_tool --apply, --status and the opt-in heap alias udev rule, in the
# guest (busybox sh), against the real module.  TAP, with a kselftest-style
# totals line.  Needs node 0 and node 1 with memory (the runner's default);
# the udev part needs udevadm and 70-lazy_cma-heap-alias.rules next to it.
T=lazy_cma_tool
n=0 pass=0 fail=0 skip=0
out=/tmp/apply.out err=/tmp/apply.err
conf=/tmp/lazy_cma.conf

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
t() { "$T" "$@" >$out 2>$err; rc=$?; }
# the live regions, one line each (start size node name), for comparisons
regions() { "$T" -l | sed 1d | awk '{$2=""; $6=""; print}'; }
# "NAME node" of a live region, from -l
node_of() { "$T" -l | grep " $1\$" | awk '{print $5}'; }

cat > $conf <<'EOF'
# three named regions on two nodes
[apply one]
size = 64M
node = 0

[apply two]
size = 32
node = 1

[apply three]
size = 16M
EOF
t --apply $conf
[ "$rc" = 0 ] && [ "$(grep -c '^created ' $out)" = 3 ]; ok $? "--apply makes three regions"
grep -qE '^created "apply one": 64 MB on node 0 at 0x[0-9a-f]+$' $out &&
	grep -qE '^created "apply two": 32 MB on node 1 at 0x[0-9a-f]+$' $out
ok $? "--apply prints 'created \"NAME\": SIZE on node N at ADDR'"
grep -qx '3 created, 0 existing, 0 resized, 0 extra, 0 freed, 0 failed' $out; ok $? "--apply summary line"
[ "$(node_of 'apply one')" = 0 ] && [ "$(node_of 'apply two')" = 1 ] && [ -n "$(node_of 'apply three')" ]
ok $? "the regions live on the nodes the file names"
grep -q ' : apply two$' /proc/iomem; ok $? "the regions are named in /proc/iomem"

before=$(regions)
t --apply $conf
[ "$rc" = 0 ] && [ "$(grep -c '^exists ' $out)" = 3 ] && ! grep -q '^created ' $out
ok $? "a second --apply reports three existing, creates nothing"
grep -qx '0 created, 3 existing, 0 resized, 0 extra, 0 freed, 0 failed' $out; ok $? "second run summary"
[ "$before" = "$(regions)" ]; ok $? "a second --apply changes nothing (same addresses)"

# edited: one more region, one dropped from the file
cat > $conf <<'EOF'
[apply one]
size = 64M
node = 0
[apply two]
size = 32M
node = 1
[apply four]
size = 8M
node = 1
EOF
t --apply $conf
[ "$rc" = 0 ] && grep -qE '^created "apply four": 8 MB on node 1 at 0x' $out; ok $? "an edited file adds one region"
grep -qE '^extra "apply three": 16 MB on node [0-9]+ at 0x[0-9a-f]+ \(not in /tmp/lazy_cma.conf; kept, --prune frees it\)$' $out
ok $? "a region the file does not name is reported extra"
[ -n "$(node_of 'apply three')" ]; ok $? "... and kept"
grep -qx '1 created, 2 existing, 0 resized, 1 extra, 0 freed, 0 failed' $out; ok $? "edited run summary"

# an unnamed region is never freed unless asked
t -a 4
unnamed=$(sed -n 's/.* at \(0x[0-9a-f]*\)$/\1/p' $out)
t --apply $conf
[ "$rc" = 0 ] && "$T" -l | grep -q "^$(printf '0x%016x' $((unnamed))) "; ok $? "an unnamed region survives --apply"
sed -i 's/^size = 8M$/size = 12M/' $conf
t --apply $conf
[ "$rc" = 0 ] && grep -qE '^resized "apply four": 12 MB on node 1 at 0x' $out; ok $? "a changed size resizes the region"
t --apply $conf --prune
[ "$rc" = 0 ] && grep -qE '^freed "apply three": 16 MB' $out && grep -qE "^freed \"lazy_cma\": 4 MB on node [0-9]+ at $unnamed\$" $out
ok $? "--prune frees the regions the file does not name"
[ -z "$(node_of 'apply three')" ] && ! "$T" -l | grep -q "^$(printf '0x%016x' $((unnamed))) "
ok $? "... and they are gone"
grep -qx '0 created, 3 existing, 0 resized, 0 extra, 2 freed, 0 failed' $out; ok $? "prune run summary"

# the region armed for kdump is --kdump's: --prune names it and keeps it
t --kdump 64 -N 0
kd=$(sed -n 's/^armed for kdump 64 MB at \(0x[0-9a-f]*\)$/\1/p' $out)
[ "$rc" = 0 ] && [ -n "$kd" ]; ok $? "--kdump 64 -N 0 arms a region"
kd_iomem="$(printf '%x-%x' $((kd)) $((kd + 67108864 - 1))) : Crash kernel"
t --apply $conf --prune
[ "$rc" = 0 ] && grep -qx "extra \"Crash kernel\": 64 MB on node 0 at $kd (armed for kdump; kept)" $out &&
	! grep -q '^freed ' $out
ok $? "--prune reports the armed region as armed for kdump and kept"
grep -qx '0 created, 3 existing, 0 resized, 1 extra, 0 freed, 0 failed' $out; ok $? "... summary: 1 extra, 0 freed"
"$T" -l > $out 2>$err
grep -q "^$(printf '0x%016x' $((kd))) .* Crash kernel \[kdump\]\$" $out &&
	grep -q "^ *$kd_iomem\$" /proc/iomem
ok $? "... and it is still armed (-l [kdump], /proc/iomem Crash kernel)"
t -f "$kd"
[ "$rc" = 0 ] && ! grep -q ': Crash kernel$' /proc/iomem && [ "$(cat /sys/kernel/kexec_crash_size)" = 0 ]
ok $? "FREE disarms and frees it"

# bad files: a line-numbered error each, exit status 1, nothing changed
name64=$(printf 'x%.0s' $(seq 64))
bad() { # $1 = description, $2 = expected "LINE: message" (grep -F), file on stdin
	cat > /tmp/bad.conf
	before=$(regions)
	t --apply /tmp/bad.conf
	[ "$rc" = 1 ] && grep -qF "lazy_cma_tool: /tmp/bad.conf:$2" $err &&
		grep -qF 'nothing changed' $err && [ "$before" = "$(regions)" ] &&
		[ -z "$(node_of 'must not appear')" ]
	ok $? "bad file: $1"
}
bad "unknown key" '4: unknown key "colour" (known: size, node)' <<'EOF'
[must not appear]
size = 4M
[apply five]
colour = blue
size = 4M
EOF
bad "size 0" '5: size 0: a region needs at least one byte' <<'EOF'
[must not appear]
size = 4M

[apply five]
size = 0
EOF
bad "node that does not exist" '3: node 7 has no memory; nodes with memory: 0-1' <<'EOF'
[must not appear]
size = 4M
node = 7
EOF
bad "duplicate names" '4: duplicate region name "must not appear" (first at line 1)' <<'EOF'
[must not appear]
size = 4M
# again
[must not appear]
size = 8M
EOF
bad "a name of 64 bytes" '3: region name is 64 bytes, at most 63' <<EOF
[must not appear]
size = 4M
[$name64]
size = 4M
EOF
bad "a section without size" '2: region "apply five" has no size' <<'EOF'
# nothing here
[apply five]
[must not appear]
size = 4M
EOF
# every bad line of one file is reported, with its own line number
cat > /tmp/bad.conf <<EOF
[must not appear]
size = 4M
flavour = x
[$name64]
[y]
size = 0
EOF
t --apply /tmp/bad.conf
[ "$rc" = 1 ] && grep -qF 'bad.conf:3: unknown key' $err && grep -qF 'bad.conf:4: region name is 64' $err &&
	grep -qF 'bad.conf:6: size 0' $err && grep -qF '3 errors, nothing changed' $err
ok $? "each bad line of a file gets its own error"
t --apply /tmp/no-such.conf
[ "$rc" = 1 ] && grep -qF '/tmp/no-such.conf: No such file or directory' $err; ok $? "a missing file: status 1"
t --prune -l; [ "$rc" = 1 ]; ok $? "--prune without --apply: status 1"

# a region that cannot be had: status 2, the others still made
cat > $conf <<'EOF'
[apply one]
size = 64M
[too big]
size = 1T
node = 0
[apply six]
size = 4M
EOF
t --apply $conf
[ "$rc" = 2 ] && grep -qF '/tmp/lazy_cma.conf:3: "too big" could not be had:' $err &&
	grep -qF 'node 0 is too fragmented or has too little free memory' $err &&
	grep -qE '^created "apply six": 4 MB' $out && grep -qE ', 1 failed$' $out
ok $? "an entry that cannot be had: message, status 2, the rest applied"

# --status
t --status
[ "$rc" = 0 ] && grep -qx 'module:     loaded' $out && grep -qE '^parameters: .*reserve_mb=64' $out
ok $? "--status: module loaded, parameters"
grep -qE '^ +0 +[0-9]+ MB +[0-9]+ MB +[0-9]+ (KB|MB) +[0-9]+ MB$' $out &&
	grep -qE '^ +1 +[0-9]+ MB +[0-9]+ MB +[0-9]+ (KB|MB) +[0-9]+ MB$' $out
ok $? "--status: a line per node (total, free, largest block, estimate)"
[ "$(sed -n 's/^regions: *//p' $out)" = "$("$T" -l | grep -c '^0x')" ] && grep -qE ' apply six$' $out
ok $? "--status: the regions"
# the runner mounts debugfs: the driver's counters file must be there, and
# --status must show it; without debugfs (a mount namespace of its own) the
# tool says what is missing
grep -q ' /sys/kernel/debug debugfs ' /proc/mounts && [ -r /sys/kernel/debug/lazy_cma/heaps ] &&
	grep -qE '^lazy_cma-node0 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' /sys/kernel/debug/lazy_cma/heaps &&
	grep -qE '^lazy_cma-node0 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' $out
ok $? "--status: heap counters from the driver's debugfs file"
unshare -m sh -c "umount /sys/kernel/debug && $T --status" >$out 2>$err
[ $? = 0 ] && grep -qF 'counters need debugfs' $out && ! grep -q '^lazy_cma-node0 ' $out &&
	[ -r /sys/kernel/debug/lazy_cma/heaps ]
ok $? "--status without debugfs: says heap counters need debugfs"
t --status --json
[ "$rc" = 0 ] && json_check < $out; ok $? "--status --json is valid JSON"
grep -qF '"module": {"loaded": true, "parameters": {' $out && grep -qF '"reserve_mb": 64' $out &&
	grep -qE '\{"node": 1, "has_memory": true, "total": [0-9]+, "free": [0-9]+, "largest_free_block": [0-9]+, "max_alloc_estimate": [0-9]+\}' $out &&
	grep -qE '"size": 4194304, "node": [0-9]+, "name": "apply six"' $out
ok $? "--status --json fields"
free1=$(sed -n 's/.*"node": 1, "has_memory": true, "total": [0-9]*, "free": \([0-9]*\).*/\1/p' $out)
kb=$(sed -n 's/.*MemFree: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node1/meminfo)
[ -n "$free1" ] && [ $((free1 / 1048576)) -ge $((kb / 1024 - 8)) ] && [ $((free1 / 1048576)) -le $((kb / 1024 + 8)) ]
ok $? "--status: node 1 free memory matches its meminfo"

# clean up, then a node without memory: node 1 offline
t --apply /dev/null --prune
[ "$rc" = 0 ] && [ "$("$T" -l | grep -c '^0x')" = 0 ]; ok $? "--apply of an empty file with --prune frees everything"
for b in /sys/devices/system/node/node1/memory*/state; do echo offline > "$b"; done
bad "a node without memory" '3: node 1 has no memory; nodes with memory: 0' <<'EOF'
[must not appear]
size = 4M
node = 1
EOF
for b in /sys/devices/system/node/node1/memory*/state; do echo online_movable > "$b"; done

# the opt-in alias rule, through udevadm test
heapdev=""
for c in dma_heap misc; do
	[ -e /sys/class/$c/lazy_cma-node0 ] && heapdev=/sys/class/$c/lazy_cma-node0
done
if command -v udevadm >/dev/null && [ -f ./70-lazy_cma-heap-alias.rules ] && [ -n "$heapdev" ]; then
	mkdir -p /etc/udev/rules.d /run/udev
	cp ./70-lazy_cma-heap-alias.rules /etc/udev/rules.d/
	# udevadm test runs the rules and makes the links, as udevd would
	udevadm test --action=add "$heapdev" >$out 2>$err
	links=$(sed -n 's/^DEVLINKS=//p' $out $err | head -n 1)
	echo "# DEVLINKS=$links"
	missing=""
	for l in linux,cma reserved vidbuf_cached; do
		case " $links " in *" /dev/dma_heap/$l "*) ;; *) missing="$missing $l" ;; esac
	done
	[ -z "$missing" ]; ok $? "alias rule: linux,cma, reserved, vidbuf_cached in DEVLINKS${missing:+ (missing:$missing)}"
	missing=""
	for l in linux,cma reserved vidbuf_cached; do
		[ -L "/dev/dma_heap/$l" ] && [ "$(readlink -f "/dev/dma_heap/$l")" = /dev/dma_heap/lazy_cma-node0 ] ||
			missing="$missing $l"
	done
	[ -z "$missing" ]; ok $? "alias rule: the links lead to /dev/dma_heap/lazy_cma-node0${missing:+ (not:$missing)}"
	# a real heap of the name exists: the kernel's own system heap stands in
	# for a real linux,cma (the rule with "system" for "linux,cma")
	if [ ! -d /sys/class/dma_heap ]; then
		# 6.1 as Debian builds it: CONFIG_DMABUF_HEAPS off, no real heap can exist
		n=$((n + 1)) skip=$((skip + 1))
		echo "ok $n lazy_cma_apply_test.alias_rule_vs_real_heap # SKIP kernel without the dma-heap framework"
	else
	[ -e /sys/class/dma_heap/system ] && [ -c /dev/dma_heap/system ]
	ok $? "the kernel's own heap 'system' is registered"
	sed 's/linux,cma/system/g' ./70-lazy_cma-heap-alias.rules > /etc/udev/rules.d/70-lazy_cma-heap-alias.rules
	# udev never puts a link over a device node, so with the node in place
	# nothing would show whether the rule asked for one: the node goes
	# for a moment, and only the rule's own test of the heap in sysfs can
	# keep the link out of its place
	mode=$(stat -c %a /dev/dma_heap/system)
	majmin=$(cat /sys/class/dma_heap/system/dev)
	rm /dev/dma_heap/system
	udevadm test --action=add "$heapdev" >$out 2>$err
	links=$(sed -n 's/^DEVLINKS=//p' $out $err | head -n 1)
	echo "# DEVLINKS=$links"
	case " $links " in *" /dev/dma_heap/system "*) false ;; *" /dev/dma_heap/reserved "*) true ;; *) false ;; esac
	ok $? "alias rule: no link where a real heap of the name exists"
	[ ! -e /dev/dma_heap/system ] && [ ! -L /dev/dma_heap/system ]
	ok $? "... not even where the real heap's node is missing"
	rm -f /dev/dma_heap/system
	mknod -m "$mode" /dev/dma_heap/system c "${majmin%:*}" "${majmin#*:}"
	[ -c /dev/dma_heap/system ] && [ "$(stat -c '%t:%T' /dev/dma_heap/system)" = \
		"$(printf '%x:%x' "${majmin%:*}" "${majmin#*:}")" ]
	ok $? "the real heap's node is back ($majmin, mode $mode)"
	fi
	rm -f /etc/udev/rules.d/70-lazy_cma-heap-alias.rules
	udevadm test --action=add "$heapdev" >$out 2>$err
	! grep -q 'DEVLINKS=.*dma_heap/' $out $err && [ ! -e /dev/dma_heap/reserved ]
	ok $? "alias rule not installed: no links"
else
	echo "# udev part: udevadm, the rule or the heap missing"
	ok 1 "alias rule: udevadm test"
fi

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
