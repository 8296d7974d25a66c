//go:build linux

package netlink_test

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// On Linux the errnos of golang.org/x/sys/unix are the syscall.Errno
// values the package returns, so callers can match either.
func TestErrorsMatchUnix(t *testing.T) {
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(*nltest.Request) error {
		return &nltest.Error{Errno: unix.ENOENT, Message: "no such widget"}
	}})
	c := dialFake(t, ep, nil)
	_, err := executeT(t, c, context.Background(), fakeMsg(typeGet, ""))
	if !errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EEXIST) {
		t.Fatalf("kernel error %v does not match unix.ENOENT (only)", err)
	}
	if !errors.Is(netlink.ErrOverrun, unix.ENOBUFS) {
		t.Fatal("errors.Is(ErrOverrun, unix.ENOBUFS) = false")
	}
	oe := &netlink.OpError{Op: "receive", Err: netlink.ErrOverrun, Offset: -1}
	if !errors.Is(oe, unix.ENOBUFS) {
		t.Fatal("an *OpError wrapping ErrOverrun does not match unix.ENOBUFS")
	}
}
