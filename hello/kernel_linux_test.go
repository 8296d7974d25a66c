//go:build linux

package hello_test

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/hello"
)

// requireNoModule skips unless nothing serves protocol on this kernel (the
// module's own tests run in the VM, see internal/vmtest).
func requireNoModule(t *testing.T, protocol int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, protocol)
	if err == nil {
		unix.Close(fd)
		t.Skipf("something serves netlink protocol %d on this kernel (nlhello loaded?)", protocol)
	}
	if !errors.Is(err, unix.EPROTONOSUPPORT) {
		t.Fatalf("socket(AF_NETLINK, %d): %v", protocol, err)
	}
}

func TestNotLoaded(t *testing.T) {
	requireNoModule(t, hello.DefaultProtocol)
	ctx := ctxT(t)
	_, err := hello.Dial(0, nil)
	if !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Fatalf("Dial: %v", err)
	}
	if want := "hello: no kernel endpoint on netlink protocol 31: is nlhello.ko loaded?"; err.Error() != want {
		t.Errorf("Dial: %q, want %q", err, want)
	}
	if _, err := hello.Watch(0, nil); !errors.Is(err, hello.ErrNotLoaded) {
		t.Errorf("Watch: %v", err)
	}
	requireNoModule(t, 30)
	if _, err := hello.Dial(30, nil); err == nil || err.Error() != "hello: no kernel endpoint on netlink protocol 30: is nlhello.ko loaded?" {
		t.Errorf("Dial(30): %v", err)
	}

	_, err = hello.DialGeneric(ctx, nil)
	if !errors.Is(err, hello.ErrNotLoaded) || !errors.Is(err, genl.ErrFamilyNotFound) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("DialGeneric: %v", err)
	}
	if want := `hello: no generic netlink family "nlhello": is nlhello.ko loaded? (it exists in the initial namespace only)`; err.Error() != want {
		t.Errorf("DialGeneric: %q, want %q", err, want)
	}
	if _, err := hello.WatchGeneric(ctx, nil); !errors.Is(err, hello.ErrNotLoaded) {
		t.Errorf("WatchGeneric: %v", err)
	}
}
