//go:build linux

package ethtool_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// captureExchange sends one request of the ethtool family with NLM_F_ACK
// and returns every message the kernel answered with, up to and
// including the NLMSG_ERROR that ends it.
func captureExchange(t *testing.T, c *netlink.Conn, family uint16, cmd uint8, attrs []byte) []netlink.Message {
	t.Helper()
	sent, err := c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(family), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append([]byte{cmd, 1, 0, 0}, attrs...),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []netlink.Message
	for len(got) == 0 || got[len(got)-1].Header.Type != netlink.Error {
		msgs, err := c.Receive(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Sequence == sent.Header.Sequence {
				m.Data = append([]byte(nil), m.Data...)
				got = append(got, m)
			}
		}
	}
	return got
}

// devRequest is a request header for the device name, with flags.
func devRequest(name string, flags uint32) []byte {
	var e netlink.AttributeEncoder
	e.Nest(1) // ETHTOOL_A_*_HEADER
	e.String(2, name)
	if flags != 0 {
		e.Uint32(3, flags)
	}
	e.End()
	b, _ := e.Encode()
	return b
}

// strsetRequest asks for a global string set.
func strsetRequest(id uint32) []byte {
	var e netlink.AttributeEncoder
	e.Nest(1)
	e.End()
	e.Nest(2) // ETHTOOL_A_STRSET_STRINGSETS
	e.Nest(1) // ETHTOOL_A_STRINGSETS_STRINGSET
	e.Uint32(1, id)
	e.End()
	e.End()
	b, _ := e.Encode()
	return b
}

// TestCaptureEthtool regenerates testdata/ from this machine's kernel:
// the replies to the requests Client sends, for a veth "va" (up, with
// its peer up) in a throwaway namespace, in both bit set forms, and what
// the ethtool tool prints for it at the same moment. It runs only with
// NLKIT_ETHTOOL_CAPTURE=1, as root, with ethtool installed:
//
//	NLKIT_ETHTOOL_CAPTURE=1 go test -run TestCaptureEthtool ./ethtool
func TestCaptureEthtool(t *testing.T) {
	if os.Getenv("NLKIT_ETHTOOL_CAPTURE") != "1" {
		t.Skip("set NLKIT_ETHTOOL_CAPTURE=1 to regenerate testdata/ from this kernel")
	}
	ns := nstest.New(t)
	ns.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	ns.IP(t, "link", "set", "va", "up")
	ns.IP(t, "link", "set", "vb", "up")
	ctx := context.Background()
	cfg := &netlink.Config{NetNS: ns.Name}
	g, err := genl.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	f, err := g.Family(ctx, "ethtool")
	if err != nil {
		t.Fatal(err)
	}
	c, err := netlink.Dial(netlink.Generic, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	save := func(name string, msgs []netlink.Message) {
		var b []byte
		for _, m := range msgs {
			if b, err = m.AppendBinary(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const compact = 1                                                              // ETHTOOL_FLAG_COMPACT_BITSETS
	save("strset_features.bin", captureExchange(t, c, f.ID, 1, strsetRequest(4)))  // ETH_SS_FEATURES
	save("strset_linkmodes.bin", captureExchange(t, c, f.ID, 1, strsetRequest(9))) // ETH_SS_LINK_MODES
	save("linkinfo.bin", captureExchange(t, c, f.ID, 2, devRequest("va", 0)))      // LINKINFO_GET
	save("linkmodes_compact.bin", captureExchange(t, c, f.ID, 4, devRequest("va", compact)))
	save("linkmodes_verbose.bin", captureExchange(t, c, f.ID, 4, devRequest("va", 0)))
	save("linkstate.bin", captureExchange(t, c, f.ID, 6, devRequest("va", 0))) // LINKSTATE_GET
	save("features_compact.bin", captureExchange(t, c, f.ID, 11, devRequest("va", compact)))
	save("features_verbose.bin", captureExchange(t, c, f.ID, 11, devRequest("va", 0)))
	save("nodev.bin", captureExchange(t, c, f.ID, 2, devRequest("nosuch", 0)))
	for name, args := range map[string][]string{
		"ethtool.txt":     {"ethtool", "va"},
		"ethtool_k.txt":   {"ethtool", "-k", "va"},
		"ethtool_k.json":  {"ethtool", "--json", "-k", "va"},
		"ethtool_version": {"ethtool", "--version"},
	} {
		if err := os.WriteFile(filepath.Join("testdata", name), ns.Exec(t, args[0], args[1:]...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	uname, _ := exec.Command("uname", "-srm").Output()
	if err := os.WriteFile(filepath.Join("testdata", "KERNEL"), uname, 0o644); err != nil {
		t.Fatal(err)
	}
}
