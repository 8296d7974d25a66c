// Package vmtest boots a Debian kernel in QEMU to test code that must run
// inside a kernel we control: the nlhello kernel module in kmod/nlhello and
// the Go programs that talk to it.
//
// It is a test helper, not part of the library. The host kernel cannot load
// modules, so each test:
//
//  1. finds the tools (EnsureTools): Debian's linux-image-amd64 kernel, the
//     matching linux-headers-amd64, qemu-system-x86_64 and a static busybox;
//  2. builds the module with kbuild against those headers (BuildModule; the
//     result is cached by content) and a static Go binary (BuildGo,
//     BuildGoTest);
//  3. packs both with busybox and a generated /init into a gzip'd newc cpio
//     initramfs, written in pure Go (Initramfs);
//  4. boots qemu-system-x86_64 -accel tcg (Boot, Run), streams the serial
//     console to the test log, and turns the in-guest exit code and any
//     kernel BUG/WARNING/Oops/Call Trace in the guest's dmesg into a test
//     failure.
//
// If the tools are missing, EnsureTools fails the test with the apt-get
// command that installs them (see scripts/install-deps.sh (make deps)); setting
// NLKIT_SKIP_VM=1 turns every VM test into a skip instead.
//
// Environment overrides: NLKIT_VM_KERNEL (path of a vmlinuz),
// NLKIT_VM_KDIR (kbuild directory), NLKIT_VM_QEMU, NLKIT_VM_BUSYBOX,
// NLKIT_VM_ACCEL (default "tcg"), NLKIT_VM_CACHE (module build cache),
// NLKIT_VMCHECK_ARGS (extra flags for vmcheck in TestNLHelloVM, e.g.
// "-run raw/").
//
// TestNLHelloVM puts three things into the guest: nlhello.ko (loaded by
// /init), /bin/vmcheck (the checks, written on the nlkit library) and
// /bin/nlkit (the command, which vmcheck's "cli" and "netns" checks run
// as a user would), all built on the host; the whole test takes some
// 20-35 s with TCG.
//
// Run the VM test with:
//
//	go test -v -run TestNLHelloVM ./internal/vmtest
package vmtest
