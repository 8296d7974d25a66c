package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// newNetNS creates a network namespace and mounts it as /run/netns/NAME,
// as `ip netns add NAME` does (busybox's ip cannot). The thread that
// created it is locked and ends with its goroutine, so no other goroutine
// runs in it.
func newNetNS(name string) (path string, remove func(), err error) {
	path = "/run/netns/" + name
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		return "", nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return "", nil, err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount %s: %w", self, err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return "", nil, err
	}
	return path, func() { unix.Unmount(path, unix.MNT_DETACH); os.Remove(path) }, nil
}

// checkNetNS: the module serves the initial network namespace only. In
// another one a socket of its protocol can be created, but requests fail
// with ECONNREFUSED, and the family is not visible (ENOENT); the library
// and `nlkit -n` say so.
func checkNetNS(e *env) error {
	path, remove, err := newNetNS("nlhello-other")
	if err != nil {
		return err
	}
	defer remove()
	cfg := &netlink.Config{NetNS: path}
	c, err := hello.Dial(e.protocol, cfg)
	if err != nil {
		return fmt.Errorf("hello.Dial in another namespace: %w", err)
	}
	defer c.Close()
	ctx, cancel := timeout(0)
	defer cancel()
	_, err = c.Hello(ctx, "anyone?")
	if !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, unix.ECONNREFUSED) {
		return fmt.Errorf("Hello in another namespace: %v, want ErrNotLoaded (ECONNREFUSED)", err)
	}
	logf("hello.Client.Hello in another namespace -> %v", err)
	_, err = hello.DialGeneric(ctx, cfg)
	if !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("DialGeneric in another namespace: %v, want ErrNotLoaded (ENOENT)", err)
	}
	logf("hello.DialGeneric in another namespace -> %v", err)
	if _, errOut, err := runNlkit(e, "-n", "nlhello-other", "hello"); err == nil || !strings.Contains(errOut, "initial network namespace only") {
		return fmt.Errorf("nlkit -n nlhello-other hello: %v, stderr %q", err, errOut)
	}
	// The initial namespace is unaffected.
	r, err := client(e)
	if err != nil {
		return err
	}
	defer r.Close()
	return sayHello(r, "still here")
}
