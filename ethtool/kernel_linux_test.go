//go:build linux

package ethtool_test

import (
	"errors"
	"os/exec"
	"reflect"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/ethtool"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
)

// vethNS returns a namespace with a veth pair va/vb, both up, and a
// Client dialled in it. ethtool(8) must be installed: it is the oracle.
func vethNS(t *testing.T) (*nstest.NS, *ethtool.Client) {
	t.Helper()
	if _, err := exec.LookPath("ethtool"); err != nil {
		t.Fatalf("ethtool(8) is the oracle of these tests: %v (apt-get install ethtool; scripts/install-deps.sh)", err)
	}
	ns := nstest.New(t)
	ns.Batch(t, "link add va type veth peer name vb\nlink set va up\nlink set vb up\n")
	c, err := ethtool.Dial(ctxT(t), &netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ns, c
}

// TestFeaturesKernel compares the features of a veth, compact and
// verbose, with `ethtool -k`, before and after changing some with
// `ethtool -K`.
func TestFeaturesKernel(t *testing.T) {
	ns, c := vethNS(t)
	check := func(step string) {
		t.Helper()
		want := string(ns.Exec(t, "ethtool", "-k", "va"))
		var lists [2][]ethtool.Feature
		for i, compact := range []bool{true, false} {
			c.SetCompact(compact)
			f, err := c.Features(ctxT(t), ethtool.Device{Name: "va"})
			if err != nil {
				t.Fatal(err)
			}
			if got := renderK("va", f); got != want {
				t.Errorf("%s, compact %v: ethtool -k differs\n got:\n%s\nwant:\n%s", step, compact, got, want)
			}
			lists[i] = f.List()
		}
		if !reflect.DeepEqual(lists[0], lists[1]) {
			t.Errorf("%s: compact and verbose differ", step)
		}
	}
	check("new veth")
	// gro on; tx-checksumming off (which drops the segmentation offloads
	// that need it: "requested on" states); a fixed one stays off.
	ns.Exec(t, "ethtool", "-K", "va", "gro", "on", "tx", "off", "rx-gro-list", "on")
	check("after ethtool -K")
	f, err := c.Features(ctxT(t), ethtool.Device{Name: "va"})
	if err != nil {
		t.Fatal(err)
	}
	m := f.Map()
	if !m["rx-gro"].Active || m["tx-checksum-ip-generic"].Active || m["tx-checksum-ip-generic"].Requested || !m["loopback"].Fixed {
		t.Errorf("features after ethtool -K: %+v %+v %+v", m["rx-gro"], m["tx-checksum-ip-generic"], m["loopback"])
	}
}

// TestSettingsKernel compares link info, modes and state with `ethtool
// va`, with the link up and down, by name and by index.
func TestSettingsKernel(t *testing.T) {
	ns, c := vethNS(t)
	var links []struct {
		Index int32 `json:"ifindex"`
	}
	ns.IPJSON(t, &links, "link", "show", "dev", "va")
	for _, step := range []struct {
		name string
		ip   []string
		link bool
	}{
		{"up", nil, true},
		{"peer down", []string{"link", "set", "vb", "down"}, false},
	} {
		if step.ip != nil {
			ns.IP(t, step.ip...)
		}
		printed := settingsLines(string(ns.Exec(t, "ethtool", "va")))
		for _, dev := range []ethtool.Device{{Name: "va"}, {Index: links[0].Index}} {
			li, err := c.LinkInfo(ctxT(t), dev)
			if err != nil {
				t.Fatal(err)
			}
			lm, err := c.LinkModes(ctxT(t), dev)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := c.LinkState(ctxT(t), dev)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"Speed":            lm.Speed.String(),
				"Duplex":           lm.Duplex.String(),
				"Auto-negotiation": map[bool]string{true: "on", false: "off"}[lm.Autoneg],
				"Port":             li.Port.String(),
				"Transceiver":      li.Transceiver.String(),
				"MDI-X":            li.MDIXString(),
				"Link detected":    map[bool]string{true: "yes", false: "no"}[*ls.Link],
			}
			for k, v := range got {
				if printed[k] != v {
					t.Errorf("%s, %v: %s %q, ethtool %q", step.name, dev, k, v, printed[k])
				}
			}
			if *ls.Link != step.link || lm.Speed != 10000 || li.Header.Name != "va" || li.Header.Index != links[0].Index {
				t.Errorf("%s, %v: link %v speed %v header %+v", step.name, dev, *ls.Link, lm.Speed, li.Header)
			}
		}
	}
}

func TestNoDeviceKernel(t *testing.T) {
	_, c := vethNS(t)
	_, err := c.LinkState(ctxT(t), ethtool.Device{Name: "nosuch"})
	if !errors.Is(err, ethtool.ErrNoDevice) || !errors.Is(err, syscall.ENODEV) {
		t.Fatalf("unknown device: %v", err)
	}
	if want := `ethtool: device "nosuch" does not exist (kernel: no device matches name)`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	_, err = c.Features(ctxT(t), ethtool.Device{Index: 12345})
	if want := `ethtool: device index 12345 does not exist (kernel: no device matches ifindex)`; err == nil || err.Error() != want {
		t.Errorf("unknown index: %v, want %q", err, want)
	}
}

// The get requests need no privilege: a caller without capabilities
// reads the loopback device of the initial namespace (read only).
func TestUnprivilegedKernel(t *testing.T) {
	nstest.RequireRoot(t)
	ctx := ctxT(t)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		c, err := ethtool.Dial(ctx, nil)
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		if _, err := c.LinkState(ctx, ethtool.Device{Name: "lo"}); err != nil {
			done <- err
			return
		}
		_, err = c.Features(ctx, ethtool.Device{Name: "lo"})
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("without capabilities: %v", err)
	}
}
