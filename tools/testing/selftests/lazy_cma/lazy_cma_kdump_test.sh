#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lazy kdump in the guest (busybox sh), with Debian's kexec-tools and
# makedumpfile: arm a region as the crash-kernel range, load a capture
# kernel with kexec -p and kexec -s -p, every refusal with its errno, and -
# when the runner allows a crash (run --crash, which provides lazy_cma_crash)
# - a sysrq crash into the capture kernel, whose initramfs this script
# builds; there vmcore-dmesg and makedumpfile read /proc/vmcore and the
# suite's TAP goes on; the capture kernel also checks that its own memory
# is the armed range (and the first MiB).  Without run --crash (the debug
# kernel) everything but the crash runs, and the crash is one named skip,
# lazy_cma_kdump_test.crash_cycle.  Booted with crashkernel=, only the refusal
# to arm is tested.  Needs /boot/vmlinuz (run --kernel-image) and kexec
# (run --host-prog).  TAP, kselftest totals.
T=lazy_cma_tool
n=0 pass=0 fail=0 skip=0
out=/tmp/kd.out err=/tmp/kd.err
# the capture kernel: one CPU, quiet, powers off at the end.  Node 1's DIMM
# is in the ACPI tables, so the capture kernel adds that memory again, and
# kernels that online hot-added memory by default (6.12) would run in the
# crashed kernel's node 1: memhp_default_state=offline keeps it to the
# crash range (checked in the capture kernel)
cap_append="console=ttyS0 quiet loglevel=4 panic=-1 oops=panic nr_cpus=1 reset_devices memhp_default_state=offline"

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
t() { "$@" >$out 2>$err; rc=$?; }
addr() { sed -n 's/.* at \(0x[0-9a-f]*\)$/\1/p' $out; }
totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
}
loaded() { cat /sys/kernel/kexec_crash_loaded; }
crash_size() { cat /sys/kernel/kexec_crash_size; }
# the /proc/iomem line of a range, without its indentation
iomem_line() { # $1 = start, $2 = length
	grep "^ *$(printf '%x-%x' $(($1)) $(($1 + $2 - 1))) : " /proc/iomem | sed 's/^ *//'
}
# errno by its message (busybox and the tool print strerror())
EBUSY="Device or resource busy"
M256=268435456 M512=536870912

if grep -q 'crashkernel=' /proc/cmdline; then
	# the kernel has its own crash-kernel range: arming is refused
	before=$(crash_size)
	# each crash size file the kernel has, with its inode: a file removed
	# and created again (swapped for the driver's) has a new one
	files() {
		for f in /sys/kernel/kexec_crash_size /sys/kernel/kexec/crash_size; do
			[ ! -e $f ] || stat -c '%n %i' $f
		done
	}
	files_before=$(files)
	t $T --kdump 64 -N 0
	[ "$rc" = 2 ] && grep -q "File exists" $err && grep -q "crashkernel=" $err
	ok $? "with crashkernel= at boot, --kdump fails with EEXIST and says why"
	[ "$(crash_size)" = "$before" ] && [ "$before" != 0 ]
	ok $? "the kernel's own crash size ($before) is untouched"
	[ -n "$files_before" ] && [ "$(files)" = "$files_before" ]
	ok $? "the refusal leaves the kernel's crash size files in place: $(files | tr '\n' ' ')(before: $(echo "$files_before" | tr '\n' ' '))"
	t $T -l
	[ "$(grep -c '^0x' $out)" = 0 ]; ok $? "no region is left behind"
	[ "$(grep -c ': Crash kernel$' /proc/iomem)" = 1 ]; ok $? "one Crash kernel line in /proc/iomem"
	totals
	[ $fail = 0 ]
	exit
fi

[ -r /boot/vmlinuz ] || { echo "Bail out! no /boot/vmlinuz (run --kernel-image)"; exit 1; }
command -v kexec >/dev/null || { echo "Bail out! no kexec (run --host-prog kexec)"; exit 1; }
# run --crash provides lazy_cma_crash; the crash needs the dump tools too
crash=0 dumptools=""
if command -v lazy_cma_crash >/dev/null; then
	crash=1 dumptools="vmcore-dmesg makedumpfile"
	for p in $dumptools; do
		[ -x "/mnt/share/$p" ] ||
			{ echo "Bail out! no $p (run --host-prog $p)"; exit 1; }
	done
fi

# ---- the capture kernel's initramfs ----
cap=/tmp/capture
mkdir -p $cap/bin $cap/proc $cap/sys $cap/dev $cap/tmp $cap/mnt/share
cp /bin/busybox $cap/bin/
for p in $dumptools; do
	cp "/mnt/share/$p" $cap/mnt/share/
	# the shared libraries it needs (the loader lists them, as ldd does)
	LD_TRACE_LOADED_OBJECTS=1 "/mnt/share/$p" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p;s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' |
	while read -r lib; do
		mkdir -p "$cap$(dirname "$lib")"
		cp "$lib" "$cap$lib"
	done
done
[ -e /lib64/ld-linux-x86-64.so.2 ] && mkdir -p $cap/lib64 && cp /lib64/ld-linux-x86-64.so.2 $cap/lib64/
cat > $cap/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "@@LAZY_CMA_CAPTURE@@"
export PATH=/mnt/share:/bin
. /state
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok $n $2"
	else fail=$((fail + 1)); echo "not ok $n $2"; fi
}
[ "$(head -c 4 /proc/vmcore | tail -c 3)" = ELF ]
ok $? "capture kernel: /proc/vmcore is an ELF core ($(stat -c %s /proc/vmcore) bytes)"
vmcore-dmesg /proc/vmcore > /tmp/dmesg 2>/tmp/err
ok $? "capture kernel: vmcore-dmesg reads the crashed kernel's log"
grep -q 'Kernel panic - not syncing: sysrq triggered crash' /tmp/dmesg
ok $? "capture kernel: the crashed kernel's log has the sysrq panic line"
first=$(grep -E "$splat" /tmp/dmesg | head -n 1)
case "$first" in
*"Kernel panic - not syncing: sysrq triggered crash"*) r=0 ;;
*) r=1; echo "#   first report: $first" ;;
esac
ok $r "capture kernel: the panic is the crashed kernel's first report"
# the last arming or release in the crashed kernel's log is the arming of
# the range the crash used (the suite armed three regions before)
last=$(grep 'lazy_cma: kdump: crash kernel range' /tmp/dmesg | tail -n 1)
case "$last" in
*"crash kernel range [mem $arm_mem]"* | *"crash kernel range [mem $arm_mem "*) r=0 ;;
*) r=1; echo "#   last arming: $last" ;;
esac
ok $r "capture kernel: the crashed kernel's last arming is the crash range [mem $arm_mem]"
# the capture kernel's own memory is what the loader gave it: all its
# System RAM lies in the armed range, but for the first MiB (which both
# loaders pass on, as x86 needs it), and so do its kernel and elfcorehdr=.
# Node 1's DIMM is in the ACPI tables, so the capture kernel adds it again
# (System RAM); it must stay offline: not memory the capture kernel uses
bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
r=0 inside=0
for x in $(sed -nE 's/^([0-9a-f]+)-([0-9a-f]+) : System RAM$/\1-\2/p' /proc/iomem); do
	lo=$((0x${x%-*})) hi=$((0x${x#*-}))
	if [ $hi -lt 1048576 ]; then
		continue
	elif [ $lo -ge $arm_lo ] && [ $hi -le $arm_hi ]; then
		inside=$((inside + hi - lo + 1))
		continue
	fi
	i=$((lo / bs)) on=""
	while [ $i -le $((hi / bs)) ]; do
		[ "$(cat /sys/devices/system/memory/memory$i/state 2>/dev/null)" = offline ] ||
			on="$on memory$i"
		i=$((i + 1))
	done
	echo "#   System RAM outside the armed range: $x${on:+, online:$on}"
	[ -z "$on" ] || r=1
done
[ $r = 0 ] && [ $inside -ge $(((arm_hi - arm_lo + 1) / 4 * 3)) ]
ok $? "capture kernel: its online System RAM above 1 MiB ($((inside >> 20)) MiB) lies in the armed range, at least 3/4 of it"
total=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
[ -n "$total" ] && [ $((total * 1024)) -le $((arm_hi - arm_lo + 1 + 1048576)) ]
ok $? "capture kernel: MemTotal ($total kB) is no more than the armed range and the first MiB"
r=0 k=0
for x in $(sed -nE 's/^ *([0-9a-f]+)-([0-9a-f]+) : Kernel (code|data|bss)$/\1-\2/p' /proc/iomem); do
	lo=$((0x${x%-*})) hi=$((0x${x#*-})) k=$((k + 1))
	[ $lo -ge $arm_lo ] && [ $hi -le $arm_hi ] || { r=1; echo "#   kernel image at $x"; }
done
[ $k = 3 ] && [ $r = 0 ]; ok $? "capture kernel: its kernel image (code, data, bss) lies in the armed range"
# kexec_file_load writes elfcorehdr=0xADDR, kexec-tools elfcorehdr=NK
hdr=$(sed -nE 's/.*elfcorehdr=(0x[0-9a-f]+|[0-9]+K?).*/\1/p' /proc/cmdline)
case "$hdr" in
*K) h=$((${hdr%K} * 1024)) ;;
?*) h=$((hdr)) ;;
*) h=-1 ;;
esac
[ $h -ge $arm_lo ] && [ $h -le $arm_hi ]
ok $? "capture kernel: elfcorehdr=$hdr lies in the armed range"
makedumpfile -l -d 31 /proc/vmcore /tmp/dump > /tmp/mdf.log 2>&1
r=$?
sed 's/^/#   makedumpfile: /' /tmp/mdf.log | tail -n 5
[ $r = 0 ] && [ "$(head -c 8 /tmp/dump)" = "KDUMP   " ]
ok $? "capture kernel: makedumpfile -l -d 31 wrote a compressed dump ($(stat -c %s /tmp/dump) bytes)"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
echo "@@LAZY_CMA_SUITE_END lazy_cma_kdump_test.sh $fail@@"
echo "@@LAZY_CMA_DMESG_BEGIN@@"
dmesg
echo "@@LAZY_CMA_DMESG_END@@"
echo "@@LAZY_CMA_STATUS=$([ $fail = 0 ] && echo 0 || echo 1)@@"
poweroff -f
EOF
chmod +x $cap/init
# shellcheck disable=SC2016
printf 'n=0 pass=0 fail=0 splat=%s\n' "'$LAZY_CMA_SPLAT'" > $cap/state
(cd $cap && find . | cpio -o -H newc 2>/dev/null | gzip -1) > /tmp/capture.gz
[ -s /tmp/capture.gz ]; ok $? "built the capture initramfs ($(wc -c < /tmp/capture.gz) bytes)"

load() { # $1 = "" (kexec_load) or -s (kexec_file_load)
	t kexec $1 -p /boot/vmlinuz --initrd=/tmp/capture.gz --append="$cap_append"
}

refcnt() { cat /sys/module/lazy_cma/refcnt; }

# ---- nothing armed: the kernel has no crash-kernel range ----
[ "$(crash_size)" = 0 ]; ok $? "no crash-kernel range before arming"
ref0=$(refcnt)
refused() { # $1 = when
	load
	[ "$rc" != 0 ] && grep -q "crashkernel is not reserved" $err
	ok $? "$1: kexec -p refuses (no Crash kernel in /proc/iomem)"
	# kexec looks for the range in /proc/iomem before either syscall and
	# dies with status 1: that refusal, not a kexec that did not run (126,
	# 127) or died of a signal
	load -s
	echo "# kexec -s -p: status $rc: $(head -n 1 $err)"
	[ "$rc" = 1 ] && grep -q "crashkernel is not reserved" $err && [ "$(loaded)" = 0 ]
	ok $? "$1: kexec -s -p (kexec_file_load) refuses (no Crash kernel in /proc/iomem)"
}
refused "nothing armed"

# ---- arm 256 MB on node 0 ----
t $T --kdump 256 -N 0
grep -qE '^armed for kdump 256 MB at 0x[0-9a-f]+$' $out; ok $? "--kdump prints 'armed for kdump 256 MB at ADDR'"
# a series on the driver's verified list arms without the override, and
# the log says nothing of an unverified arming
[ "$(cat /sys/module/lazy_cma/parameters/kdump_unverified)" = N ] &&
	! dmesg | grep -qE 'lazy_cma: kdump: (refused|armed on kernel)'
ok $? "armed with kdump_unverified=N: $(uname -r) is of a verified kexec series"
a=$(addr)
[ "$(iomem_line "$a" $M256)" = "$(printf '%x-%x' $((a)) $((a + M256 - 1))) : Crash kernel" ]
ok $? "/proc/iomem shows the range as Crash kernel"
[ "$(grep -c ': Crash kernel$' /proc/iomem)" = 1 ]; ok $? "exactly one Crash kernel line"
[ "$(crash_size)" = $M256 ]; ok $? "kexec_crash_size is 256 MB"
[ "$(refcnt)" = $((ref0 + 1)) ]; ok $? "the module pins itself while armed (refcnt $ref0 -> $(refcnt))"
t $T -l
grep -qE "^$(printf '0x%016x' $((a))) .* 256 MB +0 +0  Crash kernel \[kdump\]$" $out
ok $? "-l marks the region [kdump]"
t $T -l --json
grep -q "\"start\": $((a)), .*\"kdump\": true, \"kdump_loaded\": false" $out && json_check < $out
ok $? "--json: kdump true, not loaded"

t $T --kdump 64 -N 0
[ "$rc" = 2 ] && grep -q "Operation already in progress" $err && grep -q "already armed" $err
ok $? "arming twice fails with EALREADY"
t $T -a 64 -N 0
b=$(addr)
[ "$rc" = 0 ] && [ "$(grep -c ': Crash kernel$' /proc/iomem)" = 1 ]
ok $? "a plain region meanwhile is no crash kernel"
t $T -f "$b"
[ "$rc" = 0 ] && [ -z "$(iomem_line "$b" 67108864)" ] && [ -n "$(iomem_line "$a" $M256)" ]
ok $? "the plain region is freed, the armed one stays"

# ---- shrink before load ----
for f in /sys/kernel/kexec_crash_size /sys/kernel/kexec/crash_size; do
	[ -e $f ] || continue
	echo 0 2>$err > $f
	[ $? != 0 ] && grep -q "$EBUSY" $err && [ "$(crash_size)" = $M256 ] &&
		[ -n "$(iomem_line "$a" $M256)" ]
	ok $? "before load: writing $f fails with EBUSY, nothing shrinks"
done
t $T -r "$a" 128
[ "$rc" = 2 ] && grep -q "$EBUSY" $err; ok $? "RESIZE of an armed region: EBUSY"
# the crash kernel's memory is never mapped: -d and -w (mmap) refuse
rm -f /tmp/kd.dump
t $T -d "$a" /tmp/kd.dump 4096
[ "$rc" = 2 ] && grep -q "mmap failed: $EBUSY" $err && ! grep -q '^dumped ' $out &&
	[ ! -s /tmp/kd.dump ]
ok $? "-d (mmap) of an armed region: EBUSY, nothing dumped"
head -c 4096 /dev/zero | tr '\0' 'k' > /tmp/kd.page
t $T -w "$a" /tmp/kd.page
[ "$rc" = 2 ] && grep -q "mmap failed: $EBUSY" $err && ! grep -q '^wrote ' $out
ok $? "-w (mmap) of an armed region: EBUSY, nothing written"

# ---- kexec_file_load, then kexec_load ----
load -s
if grep -q "syscall kexec_file_load not available" $err; then
	# a kernel built without CONFIG_KEXEC_FILE (the debug kernel's
	# defconfig): what follows loads with kexec_load
	fs=""
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n lazy_cma_kdump_test.kexec_file_load # SKIP kernel without kexec_file_load"
	load
	[ "$rc" = 0 ] && [ "$(loaded)" = 1 ]; ok $? "kexec -p (kexec_load) loads a capture kernel"
else
	fs=-s
	[ "$rc" = 0 ] && [ "$(loaded)" = 1 ]; ok $? "kexec -s -p (kexec_file_load) loads a capture kernel"
fi
t $T -l
grep -q ' Crash kernel \[kdump, loaded\]$' $out; ok $? "-l marks it [kdump, loaded]"
t kexec -p -u
[ "$rc" = 0 ] && [ "$(loaded)" = 0 ]; ok $? "kexec -p -u unloads it"
load
[ "$rc" = 0 ] && [ "$(loaded)" = 1 ]; ok $? "kexec -p (kexec_load) loads a capture kernel"

# ---- refusals while loaded ----
t $T -f "$a"
[ "$rc" = 2 ] && grep -q "$EBUSY" $err && [ -n "$(iomem_line "$a" $M256)" ]
ok $? "FREE while loaded: EBUSY, still armed"
t $T -r "$a" 512
[ "$rc" = 2 ] && grep -q "$EBUSY" $err; ok $? "RESIZE while loaded: EBUSY"
rmmod lazy_cma 2>$err
[ $? != 0 ] && [ -e /dev/lazy_cma ]; ok $? "rmmod while armed: refused (in use): $(cat $err)"
# node 0's blocks are ZONE_NORMAL: the kernel itself refuses to isolate the
# region's pages (unmovable), before it asks the driver; node 1 below is
# where the driver's veto is tested
bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
blk=/sys/devices/system/memory/memory$((a / bs))
echo offline 2>$err > $blk/state
[ $? != 0 ] && grep -q "$EBUSY" $err && [ "$(cat $blk/state)" = online ]
ok $? "node 0: offlining its memory block while loaded: EBUSY (ZONE_NORMAL: the kernel refuses)"
echo 0 2>$err > /sys/kernel/kexec_crash_size
[ $? != 0 ] && [ "$(crash_size)" = $M256 ]; ok $? "while loaded the size cannot change"

# ---- shrink after unload; unload, free, re-arm ----
t kexec -p -u
[ "$rc" = 0 ] && [ "$(loaded)" = 0 ]; ok $? "kexec -p -u unloads the kexec_load image"
echo 0 2>$err > /sys/kernel/kexec_crash_size
[ $? != 0 ] && grep -q "$EBUSY" $err && [ "$(crash_size)" = $M256 ]
ok $? "after unload: writing kexec_crash_size fails with EBUSY, nothing shrinks"

# ---- a kexec load in progress holds the kernel's kexec lock ----
# lazy_cma_kexec_hold keeps a kexec_load() of a crash segment waiting
# inside the kernel (on a userfaultfd page), with the kexec lock held:
# disarming must wait for that lock and give up with EBUSY, the range as it
# was; released, the load fails (EFAULT) and leaves no crash kernel
hold=/tmp/kd.hold
lazy_cma_kexec_hold "$a" 120 > $hold 2>&1 &
hpid=$!
i=0
while [ $i -lt 60 ] && ! grep -q '^holding' $hold && kill -0 $hpid 2>/dev/null; do
	sleep 1
	i=$((i + 1))
done
if grep -q '^holding' $hold; then
	# the kernel's own reader of the crash size takes the kexec lock
	# with a trylock too: it fails while the lock is held
	t cat /sys/kernel/kexec_crash_size
	[ "$rc" != 0 ] && grep -q "$EBUSY" $err
	ok $? "while the load waits, the kernel's kexec_crash_size read fails with EBUSY (the lock is held)"
	t0=$(date +%s)
	t $T -f "$a"
	secs=$(($(date +%s) - t0))
	[ "$rc" = 2 ] && grep -q "$EBUSY" $err && [ $secs -ge 4 ] &&
		[ "$(iomem_line "$a" $M256)" = "$(printf '%x-%x' $((a)) $((a + M256 - 1))) : Crash kernel" ]
	ok $? "FREE while a kexec load holds the kexec lock: EBUSY after ${secs} s, still armed"
fi
# let go (TERM), and if the helper is stuck, kill it: the fault it waits
# in is killable, and a killed load fails as well
kill -TERM $hpid 2>/dev/null
i=0
while [ $i -lt 30 ] && kill -0 $hpid 2>/dev/null; do
	sleep 1
	i=$((i + 1))
done
kill -KILL $hpid 2>/dev/null
wait $hpid
hrc=$?
cat $hold > $out
: > $err
if [ $hrc = 4 ] && grep -q '^no userfaultfd' $hold; then
	# the debug kernel's defconfig has no CONFIG_USERFAULTFD
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n lazy_cma_kdump_test.kexec_lock_held # SKIP kernel without userfaultfd"
else
	sed 's/^/# kexec hold: /' $hold
	[ $hrc = 0 ] && grep -q '^holding' $hold && grep -qx 'kexec_load: Bad address' $hold &&
		[ "$(loaded)" = 0 ] && [ "$(crash_size)" = $M256 ]
	ok $? "the held kexec load, released, fails with EFAULT: no crash kernel loaded, still 256 MB armed"
fi
# a load that went through after all must not stay behind for what follows
[ "$(loaded)" = 0 ] || kexec -p -u
t $T -f "$a"
[ "$rc" = 0 ] && [ "$(crash_size)" = 0 ] && [ "$(grep -c ': Crash kernel$' /proc/iomem)" = 0 ]
ok $? "FREE after unload disarms (size 0, no Crash kernel line) and frees"
[ "$(refcnt)" = "$ref0" ]; ok $? "disarmed: the module is no longer pinned (refcnt $(refcnt))"
refused "disarmed"
echo 0 > /sys/kernel/kexec_crash_size; ok $? "disarmed: the kernel's kexec_crash_size is writable again"

# ---- node 1 (hot-plugged, ZONE_MOVABLE, above 4 GiB) ----
t $T --kdump 256 -N 1
a1=$(addr)
[ "$rc" = 0 ] && [ -n "$(iomem_line "$a1" $M256)" ]; ok $? "a node-1 region can be armed"
load $fs
echo "# node 1: kexec $fs -p status $rc: $(cat $err)"
[ "$rc" = 0 ] && [ "$(loaded)" = 1 ]; ok $? "node 1: kexec $fs -p loads into it"
# a block wholly inside the region, in ZONE_MOVABLE: the kernel isolates
# its pages without looking (it takes them for movable) and asks the memory
# notifiers; only the driver's veto keeps it online.  Without the veto the
# kernel would retry migrating the pages until a signal came: a timeout ends
# that.  The kernel's pr_debug names the reason, where dynamic debug is on.
i1=$(((a1 + bs - 1) / bs))
blk1=/sys/devices/system/memory/memory$i1
[ $(((i1 + 1) * bs)) -le $((a1 + M256)) ] && grep -q '^Movable$' $blk1/valid_zones &&
	[ "$(cat $blk1/state)" = online ]
ok $? "node 1: memory$i1 lies inside the armed region, online in ZONE_MOVABLE"
ddc=/proc/dynamic_debug/control
[ -w $ddc ] || ddc=/sys/kernel/debug/dynamic_debug/control
echo 'func offline_pages +p' 2>/dev/null > $ddc
lines=$(dmesg | wc -l)
timeout 30 sh -c "echo offline > $blk1/state" 2>$err
r=$?
echo "# node 1: offlining memory$i1 (status $r): $(cat $err)"
[ $r != 0 ] && grep -q "$EBUSY" $err && [ "$(cat $blk1/state)" = online ]
ok $? "node 1: offlining its memory block while loaded: EBUSY, still online"
why=$(dmesg | tail -n +$((lines + 1)) |
	grep -F "memory offlining [mem $(printf '0x%08x-0x%08x' $((i1 * bs)) $(((i1 + 1) * bs - 1)))] failed due to")
echo 'func offline_pages -p' 2>/dev/null > $ddc
echo "# ${why:-no reason logged}"
if [ -w $ddc ]; then
	case "$why" in *"failed due to notifier failure") r=0 ;; *) r=1 ;; esac
	ok $r "node 1: the offlining was vetoed by the driver's memory notifier"
else
	# (the debug kernel's defconfig has no CONFIG_DYNAMIC_DEBUG)
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n lazy_cma_kdump_test.offline_reason # SKIP kernel without dynamic debug"
fi
t kexec -p -u
[ "$rc" = 0 ] && [ "$(loaded)" = 0 ]; ok $? "node 1: kexec -p -u unloads it"
t $T -f "$a1"
[ "$rc" = 0 ] && [ "$(crash_size)" = 0 ]; ok $? "node 1: FREE disarms and frees"

# ---- re-arm on node 0, for the crash: 512 MB ----
# the capture kernel keeps the dump in its tmpfs (half of its memory): on
# 7.3, makedumpfile -d 31 writes more than 70 MB
t $T --kdump 512 -N 0
a=$(addr)
[ "$rc" = 0 ] && [ "$(crash_size)" = $M512 ]; ok $? "re-armed on node 0 after a free (512 MB)"

if [ $crash = 0 ]; then
	# not booted with run --crash (the debug kernel): no crash cycle
	t $T -f "$a"
	[ "$rc" = 0 ] && [ "$(crash_size)" = 0 ]; ok $? "FREE disarms and frees"
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n lazy_cma_kdump_test.crash_cycle # SKIP not booted with run --crash"
	totals
	[ $fail = 0 ]
	exit
fi

# ---- the crash: one kernel per syscall, alternating by kernel series ----
case "$LAZY_CMA_KERNEL" in
6.12*) how="" ;;
*) how=-s ;;
esac
load $how
[ "$rc" = 0 ] && [ "$(loaded)" = 1 ]; ok $? "kexec ${how:+$how }-p: capture kernel loaded for the crash"
# the capture kernel goes on counting from here, and knows the range
printf 'n=%s pass=%s fail=%s splat=%s arm_lo=%s arm_hi=%s arm_mem=%s\n' $n $pass $fail \
	"'$LAZY_CMA_SPLAT'" $((a)) $((a + M512 - 1)) \
	"$(printf '0x%08x-0x%08x' $((a)) $((a + M512 - 1)))" > $cap/state
(cd $cap && find . | cpio -o -H newc 2>/dev/null | gzip -1) > /tmp/capture.gz
t kexec -p -u
[ "$rc" = 0 ] && [ "$(loaded)" = 0 ] || { echo "Bail out! unload failed"; totals; exit 1; }
load $how
[ "$rc" = 0 ] && [ "$(loaded)" = 1 ] || { echo "Bail out! reload failed"; totals; exit 1; }
sync
lazy_cma_crash
echo "Bail out! still alive after the crash"
exit 1
