//go:build linux

package netlink_test

import (
	"errors"
	"testing"

	"github.com/nlkit/nlkit/netlink"
)

func TestDialProtocolRange(t *testing.T) {
	for _, p := range []int{-1, netlink.MaxProtocol + 1, 1 << 20} {
		c, err := netlink.Dial(p, nil)
		if err == nil {
			c.Close()
			t.Fatalf("Dial(%d) succeeded", p)
		}
		var oe *netlink.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" {
			t.Errorf("Dial(%d): %#v, want a dial *OpError", p, err)
		}
	}
}
