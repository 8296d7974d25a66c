//go:build linux

package netlink

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func inNamedNetNS(name string, fn func() error) error {
	fd, err := unix.Open(NetNSPath(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network namespace %q: %w", name, err)
	}
	defer unix.Close(fd)
	return inNetNS(fd, fn)
}

// inNetNS runs fn on a fresh OS thread switched into the namespace fd. The
// thread is locked for the duration; if it cannot be switched back, it is
// left locked so the runtime destroys it with its goroutine instead of
// reusing a thread in the wrong namespace.
func inNetNS(fd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open current network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns: %w", os.NewSyscallError("setns", err))
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Do not unlock: the thread dies with this goroutine.
			errc <- fmt.Errorf("restore network namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// RunInNetNS runs fn inside the network namespace cfg names (NetNSFD, or
// NetNS), on a dedicated OS thread that enters the namespace and returns
// to the original, as Dial does; with neither set it just runs fn. Use it
// for setup that needs a system call made in the namespace (opening
// /dev/net/tun, binding a packet socket). fn must not start goroutines
// that expect to stay in the namespace.
func RunInNetNS(cfg *Config, fn func() error) error {
	switch {
	case cfg == nil:
		return fn()
	case cfg.NetNSFD > 0:
		return inNetNS(cfg.NetNSFD, fn)
	case cfg.NetNS != "":
		return inNamedNetNS(cfg.NetNS, fn)
	}
	return fn()
}
