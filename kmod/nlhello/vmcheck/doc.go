// Command vmcheck exercises the nlhello kernel module (kmod/nlhello) from
// inside a VM, with nothing but raw syscalls from golang.org/x/sys/unix: it
// does not use the nlkit library, so it can prove the module before the
// library exists and serve as an independent oracle afterwards.
//
// It runs as root in the guest that internal/vmtest boots (see
// TestNLHelloVM), after /init has loaded nlhello.ko with its defaults. The
// checks cover the module's raw netlink protocol (hello, malformed and
// hostile input, batches, stats, fuzzing), its generic netlink family, the
// packet notifications on both (no listener, two raw listeners and a genl
// one, full receive buffers), a flood of 8 x 10,000 concurrent hellos, and
// unloading and reloading the module under load and with bad parameters.
//
// Usage:
//
//	vmcheck [-ko /modules/nlhello.ko] [-ifname my_if0] [-protocol 31] [-run regexp] [-seed n]
//
// It prints one "--- PASS name" or "--- FAIL name: reason" line per check
// and exits with status 1 if any check failed.
package main
