// Command vmcheck exercises the nlhello kernel module (kmod/nlhello) from
// inside a VM, through the nlkit library as a user would (package hello
// for hello, stats and packet subscriptions on both the raw protocol and
// the generic netlink family; netlink.Conn's Send and Receive where a
// check looks at the wire format) and through the nlkit command itself.
// Raw syscalls from golang.org/x/sys/unix remain only for the hostile
// input the library refuses to build: broken headers, lengths past the
// end, random datagrams, a spoofed multicast.
//
// It runs as root in the guest that internal/vmtest boots (see
// TestNLHelloVM), after /init has loaded nlhello.ko with its defaults. The
// checks cover the module's raw netlink protocol (hello, malformed and
// hostile input, control messages, batches, stats, fuzzing), its generic
// netlink family, unprivileged access, the packet notifications on both
// (no listener, two raw subscribers and a genl one, full receive
// buffers), `nlkit hello` and its subcommands, 8 clients x 10,000
// concurrent hellos, and unloading and reloading the module under load
// and with bad parameters.
//
// Usage:
//
//	vmcheck [-ko /modules/nlhello.ko] [-nlkit /bin/nlkit] [-ifname my_if0] [-protocol 31] [-run regexp] [-seed n]
//
// It prints one "--- PASS name" or "--- FAIL name: reason" line per check
// and exits with status 1 if any check failed.
package main
