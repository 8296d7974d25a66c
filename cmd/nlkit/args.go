package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nlkit/nlkit/rtnl"
)

// words is a cursor over iproute2-style arguments: keywords followed by
// values ("dev veth0 table 100 metric 10").
type words struct {
	list []string
	i    int
	cmd  string // the command, for error messages ("route add")
}

func newWords(cmd string, args []string) *words { return &words{list: args, cmd: cmd} }

// more reports whether arguments remain.
func (w *words) more() bool { return w.i < len(w.list) }

// next returns the next word and advances.
func (w *words) next() string {
	s := w.list[w.i]
	w.i++
	return s
}

// peek returns the next word without advancing, or "".
func (w *words) peek() string {
	if w.more() {
		return w.list[w.i]
	}
	return ""
}

// value returns the value that must follow keyword key.
func (w *words) value(key string) (string, error) {
	if !w.more() {
		return "", fmt.Errorf("%s: missing value after %q", w.cmd, key)
	}
	return w.next(), nil
}

// uint parses the value after key as an unsigned integer of bits bits
// (decimal, or hex with 0x).
func (w *words) uint(key string, bits int) (uint64, error) {
	s, err := w.value(key)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("%s: %s %q: not a number from 0 to %d", w.cmd, key, s, uint64(1)<<bits-1)
	}
	return v, nil
}

// unknown is the error for an unexpected word.
func (w *words) unknown(s string) error {
	return fmt.Errorf("%s: unknown argument %q (see nlkit %s --help)", w.cmd, s, w.cmd)
}

// parsePrefix parses an IPv4 or IPv6 prefix as ip does: "10.0.0.0/8",
// a bare address (a host prefix: /32 or /128) or "default" (family from
// the hint: 4 or 6; 0 means IPv4).
func parsePrefix(s string, family int) (netip.Prefix, error) {
	if s == "default" || s == "all" || s == "any" {
		if family == 6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), nil
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad prefix %q: want ADDRESS/LENGTH such as 10.0.0.0/24 or 2001:db8::/64", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q: want an IPv4 or IPv6 address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseAddr parses an IPv4 or IPv6 address.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad address %q: want an IPv4 or IPv6 address", s)
	}
	return a, nil
}

// linkIndex resolves an interface name to its index, with an error a
// user can act on.
func linkIndex(ctx context.Context, c *rtnl.Client, name string) (int32, error) {
	i, err := c.LinkIndex(ctx, name)
	if errors.Is(err, rtnl.ErrNoLink) {
		return 0, fmt.Errorf("device %q does not exist", name)
	}
	return i, err
}

// linkNames returns a map from interface index to name, for output.
func linkNames(ctx context.Context, c *rtnl.Client) (map[int32]string, error) {
	names := map[int32]string{}
	for l, err := range c.Links(ctx) {
		if err != nil {
			return nil, err
		}
		names[l.Index] = l.Name
	}
	return names, nil
}

// table starts aligned text output with the given column headers.
func (a *app) table(headers ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	return tw
}
