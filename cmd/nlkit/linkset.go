package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// nsFiles opens network namespaces named on the command line and closes
// them when the request is done.
type nsFiles []*os.File

func (n *nsFiles) open(name string) (int, error) {
	f, err := os.Open(netlink.NetNSPath(name))
	if err != nil {
		return 0, fmt.Errorf("network namespace %q: %w", name, err)
	}
	*n = append(*n, f)
	return int(f.Fd()), nil
}

func (n nsFiles) close() {
	for _, f := range n {
		f.Close()
	}
}

func parseMAC(s string) (net.HardwareAddr, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return nil, fmt.Errorf("bad hardware address %q: want hex bytes such as 02:00:00:00:00:01", s)
	}
	return hw, nil
}

func parseBool01(cmd, key, s string) (bool, error) {
	switch s {
	case "0", "off":
		return false, nil
	case "1", "on":
		return true, nil
	}
	return false, fmt.Errorf("%s: %s %q: want 0 or 1", cmd, key, s)
}

// parseLinkCommon handles the arguments every link kind accepts; it
// reports whether it consumed word s.
func parseLinkCommon(ctx context.Context, c *rtnl.Client, w *words, s string, l *rtnl.Link, ns *nsFiles) (bool, error) {
	switch s {
	case "mtu":
		v, err := w.uint(s, 32)
		l.MTU = uint32(v)
		return true, err
	case "address":
		v, err := w.value(s)
		if err == nil {
			l.HardwareAddr, err = parseMAC(v)
		}
		return true, err
	case "txqueuelen", "txqlen", "qlen":
		v, err := w.uint(s, 32)
		l.TxQueueLen = uint32(v)
		return true, err
	case "alias":
		v, err := w.value(s)
		l.Alias = v
		return true, err
	case "master":
		v, err := w.value(s)
		if err == nil {
			l.Master, err = linkIndex(ctx, c, v)
		}
		return true, err
	case "link":
		v, err := w.value(s)
		if err == nil {
			l.ParentIndex, err = linkIndex(ctx, c, v)
		}
		return true, err
	case "netns":
		v, err := w.value(s)
		if err == nil {
			l.NetNSFD, err = ns.open(v)
		}
		return true, err
	case "name":
		v, err := w.value(s)
		l.Name = v
		return true, err
	}
	return false, nil
}

func newLinkAddCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME [mtu N] [address MAC] [master BR] [link DEV] [netns NS] type KIND [ARGS]",
		Short: "Create a virtual link (like ip link add)",
		Long: `Create a virtual link.

Kinds and their arguments:
  veth     [peer name NAME [netns NS] [address MAC] [mtu N]]
  bridge   [stp_state 0|1] [vlan_filtering 0|1] [priority N]
  macvlan  mode private|vepa|bridge|passthru|source   (with: link PARENT)
  macvtap  mode ...                                   (with: link PARENT)
  vxlan    id VNI [dev DEV] [local ADDR] [group|remote ADDR] [dstport PORT] [ttl N] [nolearning]
  tun|tap  [user UID] [group GID] [multi_queue] [pi] [vnet_hdr]

Examples:
  nlkit link add veth0 type veth peer name veth1
  nlkit link add veth0 type veth peer name veth1 netns blue
  nlkit link add br0 type bridge stp_state 1
  nlkit link add mv0 link eth0 type macvlan mode bridge
  nlkit link add vx0 type vxlan id 42 dev eth0 dstport 4789 remote 192.0.2.1
  nlkit link add tap0 type tap user 1000`,
		Args: needArgs(1, "interface name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.rtnl()
			if err != nil {
				return err
			}
			defer c.Close()
			var ns nsFiles
			defer ns.close()
			l, err := parseLinkAdd(ctx, c, args, &ns)
			if err != nil {
				return err
			}
			return c.AddLink(ctx, l)
		},
	}
}

func parseLinkAdd(ctx context.Context, c *rtnl.Client, args []string, ns *nsFiles) (*rtnl.Link, error) {
	w := newWords("link add", args)
	l := &rtnl.Link{}
	if s := w.peek(); s != "" && s != "name" && s != "type" {
		l.Name = w.next()
	}
	for w.more() {
		s := w.next()
		if ok, err := parseLinkCommon(ctx, c, w, s, l, ns); ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if s != "type" {
			return nil, w.unknown(s)
		}
		kind, err := w.value(s)
		if err != nil {
			return nil, err
		}
		data, err := parseKind(ctx, c, w, kind, ns)
		if err != nil {
			return nil, err
		}
		l.Info = &rtnl.LinkInfo{Kind: kind, Data: data}
		if data != nil {
			l.Info.Kind = data.Kind()
		}
	}
	if l.Name == "" {
		return nil, fmt.Errorf("link add: missing interface name (nlkit link add NAME type KIND)")
	}
	if l.Info == nil {
		return nil, fmt.Errorf("link add: missing \"type KIND\" (veth, bridge, macvlan, macvtap, vxlan, tun, tap)")
	}
	return l, nil
}

func parseKind(ctx context.Context, c *rtnl.Client, w *words, kind string, ns *nsFiles) (rtnl.LinkData, error) {
	w.cmd = "link add type " + kind
	switch kind {
	case "veth":
		v := &rtnl.Veth{}
		for w.more() {
			s := w.next()
			if s != "peer" {
				return nil, w.unknown(s)
			}
			v.Peer = &rtnl.Link{}
			for w.more() {
				s := w.next()
				ok, err := parseLinkCommon(ctx, c, w, s, v.Peer, ns)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, w.unknown(s)
				}
			}
		}
		return v, nil
	case "bridge":
		b := &rtnl.Bridge{}
		for w.more() {
			s := w.next()
			switch s {
			case "stp_state", "vlan_filtering":
				v, err := w.value(s)
				if err != nil {
					return nil, err
				}
				on, err := parseBool01(w.cmd, s, v)
				if err != nil {
					return nil, err
				}
				if s == "stp_state" {
					b.STP = &on
				} else {
					b.VlanFiltering = &on
				}
			case "priority":
				v, err := w.uint(s, 16)
				if err != nil {
					return nil, err
				}
				p := uint16(v)
				b.Priority = &p
			default:
				return nil, w.unknown(s)
			}
		}
		return b, nil
	case "macvlan", "macvtap":
		m := &rtnl.Macvlan{Tap: kind == "macvtap"}
		for w.more() {
			s := w.next()
			if s != "mode" {
				return nil, w.unknown(s)
			}
			v, err := w.value(s)
			if err != nil {
				return nil, err
			}
			if m.Mode, err = rtnl.ParseMacvlanMode(v); err != nil {
				return nil, fmt.Errorf("%s: %w", w.cmd, err)
			}
		}
		return m, nil
	case "vxlan":
		return parseVxlan(ctx, c, w)
	case "tun", "tap":
		t := &rtnl.Tun{Tap: kind == "tap"}
		for w.more() {
			s := w.next()
			switch s {
			case "user", "group":
				v, err := w.uint(s, 32)
				if err != nil {
					return nil, err
				}
				id := uint32(v)
				if s == "user" {
					t.Owner = &id
				} else {
					t.Group = &id
				}
			case "multi_queue":
				t.MultiQueue = true
			case "pi":
				t.PI = true
			case "vnet_hdr":
				t.VnetHdr = true
			default:
				return nil, w.unknown(s)
			}
		}
		return t, nil
	}
	if w.more() {
		return nil, fmt.Errorf("link add: kind %q takes no arguments in nlkit yet; got %q", kind, w.peek())
	}
	return nil, nil
}

func parseVxlan(ctx context.Context, c *rtnl.Client, w *words) (rtnl.LinkData, error) {
	v := &rtnl.Vxlan{}
	haveID := false
	for w.more() {
		s := w.next()
		switch s {
		case "id", "vni":
			n, err := w.uint(s, 24)
			if err != nil {
				return nil, err
			}
			v.VNI, haveID = uint32(n), true
		case "dev":
			name, err := w.value(s)
			if err != nil {
				return nil, err
			}
			if v.Dev, err = linkIndex(ctx, c, name); err != nil {
				return nil, err
			}
		case "local", "group", "remote":
			val, err := w.value(s)
			if err != nil {
				return nil, err
			}
			addr, err := netip.ParseAddr(val)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: bad address %q", w.cmd, s, val)
			}
			if s == "local" {
				v.Local = addr
			} else {
				v.Group = addr
			}
		case "dstport", "port":
			n, err := w.uint(s, 16)
			if err != nil {
				return nil, err
			}
			v.Port = uint16(n)
		case "ttl":
			n, err := w.uint(s, 8)
			if err != nil {
				return nil, err
			}
			v.TTL = uint8(n)
		case "learning", "nolearning":
			on := s == "learning"
			v.Learning = &on
		default:
			return nil, w.unknown(s)
		}
	}
	if !haveID {
		return nil, fmt.Errorf("%s: missing \"id VNI\"", w.cmd)
	}
	return v, nil
}

func newLinkSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set DEV [up|down] [mtu N] [name NEW] [address MAC] [master BR|nomaster] [txqueuelen N] [alias TEXT] [netns NS]",
		Short: "Change a link (like ip link set)",
		Long: `Change a link's state and attributes, in one request. Values are checked
first (name syntax, MTU within the link's limits), so a bad one changes
nothing.

Examples:
  nlkit link set veth0 up
  nlkit link set dev veth0 mtu 9000 address 02:00:00:00:00:01
  nlkit link set veth0 master br0
  nlkit link set veth0 nomaster
  nlkit link set veth1 netns blue`,
		Args: needArgs(1, "device"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.rtnl()
			if err != nil {
				return err
			}
			defer c.Close()
			w := newWords("link set", args)
			dev := w.next()
			if dev == "dev" {
				if dev, err = w.value("dev"); err != nil {
					return err
				}
			}
			index, err := linkIndex(ctx, c, dev)
			if err != nil {
				return err
			}
			var ns nsFiles
			defer ns.close()
			var ch rtnl.LinkChange
			changed := false
			for w.more() {
				s := w.next()
				changed = true
				switch s {
				case "up", "down":
					up := s == "up"
					ch.Up = &up
				case "mtu":
					v, err := w.uint(s, 32)
					if err != nil {
						return err
					}
					ch.MTU = uint32(v)
				case "name":
					if ch.Name, err = w.value(s); err != nil {
						return err
					}
				case "address":
					v, err := w.value(s)
					if err != nil {
						return err
					}
					if ch.HardwareAddr, err = parseMAC(v); err != nil {
						return err
					}
				case "master":
					v, err := w.value(s)
					if err != nil {
						return err
					}
					m, err := linkIndex(ctx, c, v)
					if err != nil {
						return err
					}
					ch.Master = &m
				case "nomaster":
					none := int32(0)
					ch.Master = &none
				case "txqueuelen", "txqlen", "qlen":
					v, err := w.uint(s, 32)
					if err != nil {
						return err
					}
					q := uint32(v)
					ch.TxQueueLen = &q
				case "alias":
					v, err := w.value(s)
					if err != nil {
						return err
					}
					ch.Alias = &v
				case "netns":
					v, err := w.value(s)
					if err != nil {
						return err
					}
					if pid, perr := strconv.Atoi(v); perr == nil {
						ch.NetNSPID = pid
					} else if ch.NetNSFD, err = ns.open(v); err != nil {
						return err
					}
				default:
					return w.unknown(s)
				}
			}
			if !changed {
				return fmt.Errorf("link set %s: nothing to change (try: up, down, mtu N, name NEW, master BR, ...)", dev)
			}
			return c.SetLink(ctx, index, ch)
		},
	}
}

func newLinkDelCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "del DEV",
		Aliases: []string{"delete"},
		Short:   "Delete a link (like ip link del)",
		Long: `Delete a virtual link. Deleting one end of a veth pair deletes both.

Example:
  nlkit link del veth0`,
		Args: needArgs(1, "device"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dev := args[0]
			if dev == "dev" {
				if len(args) != 2 {
					return fmt.Errorf("link del: missing value after \"dev\"")
				}
				dev = args[1]
			} else if len(args) == 2 {
				return fmt.Errorf("link del: unknown argument %q", args[1])
			}
			c, err := a.rtnl()
			if err != nil {
				return err
			}
			defer c.Close()
			index, err := linkIndex(ctx, c, dev)
			if err != nil {
				return err
			}
			return c.DeleteLink(ctx, index)
		},
	}
}
