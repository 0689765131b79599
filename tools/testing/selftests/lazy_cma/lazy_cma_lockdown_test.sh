#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Kernel lockdown, as README's "Secure Boot" describes it.  Debian's kernels
# lock themselves down (integrity) when booted under UEFI Secure Boot; the
# guests boot without UEFI, so this suite raises the same level at run time
# (it cannot be lowered again: run it last in its boot).  Booted with
# crashkernel= so that kexec-tools find a crash range and reach the
# syscalls, with lazy_cma loaded before the lockdown.  Then:
#   - an unsigned lazy_cma.ko is refused (EPERM; the log says why);
#   - kexec -p (kexec_load) is refused (EPERM);
#   - kexec -s -p (kexec_file_load) is refused for an image whose signature
#     the kernel cannot verify (the guest has no UEFI keys, so Debian's own
#     signature on 7.3's image does not verify either; 6.1's and 6.12's
#     images are unsigned);
#   - the module loaded before keeps working (a region is made and freed).
# Needs /boot/vmlinuz (run --kernel-image), kexec (run --host-prog) and
# $LAZY_CMA_KO (the runner's copy of the module).  TAP, kselftest totals.
T=lazy_cma_tool
n=0 pass=0 fail=0
out=/tmp/ld.out err=/tmp/ld.err
EPERM="Operation not permitted"
lockdown=/sys/kernel/security/lockdown

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
: >$out; : >$err
loaded() { cat /sys/kernel/kexec_crash_loaded; }

[ -e $lockdown ] || mount -t securityfs securityfs /sys/kernel/security
grep -q 'Crash kernel' /proc/iomem && [ "$(loaded)" = 0 ]
ok $? "booted with a crash range (crashkernel=), nothing loaded"
grep -q '^\[none\]' $lockdown; ok $? "not locked down at boot ($(cat $lockdown 2>&1))"
echo integrity > $lockdown 2>$err
grep -q '\[integrity\]' $lockdown; ok $? "lockdown raised to integrity ($(cat $lockdown 2>&1))"

# the signature check comes before the name check: the same module, loaded
# already, is refused for its missing signature, not as a duplicate
t insmod "$LAZY_CMA_KO"
[ "$rc" != 0 ] && grep -q "$EPERM" $err &&
	dmesg | grep -q 'Lockdown: insmod: unsigned module loading is restricted'
ok $? "insmod of an unsigned lazy_cma.ko: EPERM, 'unsigned module loading is restricted'"

t kexec -p /boot/vmlinuz --append="console=ttyS0"
[ "$rc" != 0 ] && grep -q "kexec_load failed: $EPERM" $err && [ "$(loaded)" = 0 ]
ok $? "kexec -p (kexec_load): EPERM, nothing loaded"

# kexec_load said the same line just now: this call must add one
restricted() { dmesg | grep -c 'Lockdown: kexec: kexec of unsigned images is restricted'; }
before=$(restricted)
t kexec -s -p /boot/vmlinuz --append="console=ttyS0"
[ "$rc" != 0 ] && grep -q "kexec_file_load failed: $EPERM" $err && [ "$(loaded)" = 0 ] &&
	[ "$(restricted)" -gt "$before" ]
ok $? "kexec -s -p of an image the kernel cannot verify: EPERM, 'kexec of unsigned images is restricted'"

# what was loaded before the lockdown is not touched by it
t $T -a 4 -n lockdown
addr=$(sed -n 's/.* at \(0x[0-9a-f]*\)$/\1/p' $out)
[ "$rc" = 0 ] && [ -n "$addr" ] && grep -q ' : lockdown$' /proc/iomem
ok $? "the module loaded before the lockdown still makes regions"
t $T -f "$addr"
[ "$rc" = 0 ] && ! grep -q ' : lockdown$' /proc/iomem
ok $? "and frees them"

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
