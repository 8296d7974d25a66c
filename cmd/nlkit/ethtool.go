package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/ethtool"
)

// orderedField is one member of an orderedJSON object.
type orderedField struct {
	key   string
	value any
}

// orderedJSON is a JSON object whose members keep their order, as the
// tools nlkit mirrors print them (Go maps would sort the keys).
type orderedJSON []orderedField

// MarshalJSON encodes the members in order.
func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ethtoolError is an error worded for the ethtool command, keeping the
// library's error for errors.Is.
type ethtoolError struct {
	msg string
	err error
}

func (e *ethtoolError) Error() string { return e.msg }
func (e *ethtoolError) Unwrap() error { return e.err }

// ethtoolErr words errors a user can act on: an unknown device as ip
// does, with the kernel's reason.
func ethtoolErr(err error) error {
	if errors.Is(err, ethtool.ErrNoDevice) {
		return &ethtoolError{msg: strings.TrimPrefix(err.Error(), "ethtool: "), err: err}
	}
	return err
}

func newEthtoolCmd(a *app) *cobra.Command {
	var features bool
	cmd := &cobra.Command{
		Use:   "ethtool [-k] DEV",
		Short: "Show a network device's link settings or features (like ethtool)",
		Long: `Show what ethtool shows, through the kernel's ethtool netlink family:
without options the link settings of DEV (link modes, speed, duplex,
auto-negotiation, port, PHY address, transceiver, MDI-X, link detected),
with -k its features (offloads) as ethtool -k lists them: ethtool's
legacy names ("tx-checksumming") with the kernel's features they stand
for indented below, then the other features; "[fixed]" marks those that
cannot change, "[requested on|off]" those whose state differs from the
request. No privileges needed.

-j prints what ethtool --json prints: for -k one object with a member
per line ({"active", "fixed", "requested"}, null for the flags that
stand for several features); without -k the members ethtool's JSON has
("speed", "duplex", "auto-negotiation", "link-detected", ...).

Examples:
  nlkit ethtool eth0             link settings (ethtool eth0)
  nlkit ethtool -k eth0          features (ethtool -k eth0)
  nlkit -j ethtool -k eth0       the same as JSON (ethtool --json -k eth0)
  nlkit -n blue ethtool veth0    a device of network namespace "blue"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("ethtool: missing device (usage: %s)", cmd.UseLine())
			}
			if len(args) > 1 {
				return fmt.Errorf("ethtool: unknown argument %q (see nlkit ethtool --help)", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := ethtool.Dial(ctx, a.config())
			if err != nil {
				return err
			}
			defer c.Close()
			dev := ethtool.Device{Name: args[0]}
			if features {
				err = ethtoolFeatures(ctx, a, c, dev)
			} else {
				err = ethtoolSettings(ctx, a, c, dev)
			}
			return ethtoolErr(err)
		},
	}
	cmd.Flags().BoolVarP(&features, "show-features", "k", false, "show the device's features (offloads)")
	cmd.Flags().BoolVar(&features, "show-offload", false, "the same as -k")
	_ = cmd.Flags().MarkHidden("show-offload")
	return cmd
}

// featureState is a feature's line value: "on [fixed]", "off [requested on]".
func featureState(x ethtool.Feature) string {
	s := "off"
	if x.Active {
		s = "on"
	}
	switch {
	case x.Fixed:
		s += " [fixed]"
	case x.Active != x.Requested && x.Requested:
		s += " [requested on]"
	case x.Active != x.Requested:
		s += " [requested off]"
	}
	return s
}

func ethtoolFeatures(ctx context.Context, a *app, c *ethtool.Client, dev ethtool.Device) error {
	f, err := c.Features(ctx, dev)
	if err != nil {
		return err
	}
	groups := f.Groups()
	if a.json {
		o := orderedJSON{{"ifname", f.Header.Name}}
		state := func(x ethtool.Feature) orderedJSON {
			return orderedJSON{{"active", x.Active}, {"fixed", x.Fixed}, {"requested", x.Requested}}
		}
		for _, g := range groups {
			if len(g.Features) == 1 {
				o = append(o, orderedField{g.Name, state(g.Features[0])})
				continue
			}
			o = append(o, orderedField{g.Name, orderedJSON{{"active", g.Active()}, {"fixed", nil}, {"requested", nil}}})
			for _, x := range g.Features {
				o = append(o, orderedField{x.Name, state(x)})
			}
		}
		return a.printJSON([]orderedJSON{o})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Features for %s:\n", f.Header.Name)
	for _, g := range groups {
		if len(g.Features) == 1 {
			fmt.Fprintf(&b, "%s: %s\n", g.Name, featureState(g.Features[0]))
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", g.Name, map[bool]string{true: "on", false: "off"}[g.Active()])
		for _, x := range g.Features {
			fmt.Fprintf(&b, "\t%s: %s\n", x.Name, featureState(x))
		}
	}
	_, err = fmt.Fprint(a.out, b.String())
	return err
}

func ethtoolSettings(ctx context.Context, a *app, c *ethtool.Client, dev ethtool.Device) error {
	lm, err := c.LinkModes(ctx, dev)
	if err != nil {
		return err
	}
	li, err := c.LinkInfo(ctx, dev)
	if err != nil {
		return err
	}
	ls, err := c.LinkState(ctx, dev)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON([]orderedJSON{settingsJSON(lm, li, ls)})
	}
	modes := func(m []string) string {
		if len(m) == 0 {
			return "Not reported"
		}
		return strings.Join(m, " ")
	}
	yesNo := map[bool]string{true: "Yes", false: "No"}
	var b strings.Builder
	fmt.Fprintf(&b, "Settings for %s:\n", lm.Header.Name)
	fmt.Fprintf(&b, "\tSupported link modes:   %s\n", modes(lm.Supported()))
	fmt.Fprintf(&b, "\tSupports auto-negotiation: %s\n", yesNo[lm.AutonegSupported()])
	fmt.Fprintf(&b, "\tAdvertised link modes:  %s\n", modes(lm.Advertised()))
	fmt.Fprintf(&b, "\tAdvertised auto-negotiation: %s\n", yesNo[lm.AutonegAdvertised()])
	if lm.Peer != nil {
		fmt.Fprintf(&b, "\tLink partner advertised link modes:  %s\n", modes(lm.PeerAdvertised()))
	}
	fmt.Fprintf(&b, "\tSpeed: %s\n", lm.Speed)
	if lm.Lanes != 0 {
		fmt.Fprintf(&b, "\tLanes: %d\n", lm.Lanes)
	}
	fmt.Fprintf(&b, "\tDuplex: %s\n", lm.Duplex)
	fmt.Fprintf(&b, "\tAuto-negotiation: %s\n", map[bool]string{true: "on", false: "off"}[lm.Autoneg])
	fmt.Fprintf(&b, "\tPort: %s\n", li.Port)
	fmt.Fprintf(&b, "\tPHYAD: %d\n", li.PhyAddr)
	fmt.Fprintf(&b, "\tTransceiver: %s\n", li.Transceiver)
	if li.Port == ethtool.PortTP {
		fmt.Fprintf(&b, "\tMDI-X: %s\n", li.MDIXString())
	}
	if ls.Link != nil {
		fmt.Fprintf(&b, "\tLink detected: %s\n", map[bool]string{true: "yes", false: "no"}[*ls.Link])
	}
	_, err = fmt.Fprint(a.out, b.String())
	return err
}

// settingsJSON is `nlkit -j ethtool DEV`: the members of ethtool's JSON
// (ethtool 6.10 and later) for what nlkit shows, in its order; unknown
// values are left out, as ethtool leaves them out.
func settingsJSON(lm *ethtool.LinkModes, li *ethtool.LinkInfo, ls *ethtool.LinkState) orderedJSON {
	o := orderedJSON{
		{"ifname", lm.Header.Name},
		{"supported-link-modes", lm.Supported()},
		{"supports-auto-negotiation", lm.AutonegSupported()},
		{"advertised-link-modes", lm.Advertised()},
		{"advertised-auto-negotiation", lm.AutonegAdvertised()},
	}
	if lm.Peer != nil {
		o = append(o, orderedField{"link-partner-advertised-link-modes", lm.PeerAdvertised()})
	}
	if lm.Speed.Known() {
		o = append(o, orderedField{"speed", int(lm.Speed)})
	}
	if lm.Lanes != 0 {
		o = append(o, orderedField{"lanes", lm.Lanes})
	}
	if lm.Duplex == ethtool.DuplexHalf || lm.Duplex == ethtool.DuplexFull {
		o = append(o, orderedField{"duplex", lm.Duplex.String()})
	}
	o = append(o, orderedField{"auto-negotiation", lm.Autoneg})
	if !strings.HasPrefix(li.Port.String(), "Unknown") {
		o = append(o, orderedField{"port", li.Port.String()})
	}
	o = append(o, orderedField{"phyad", li.PhyAddr})
	if !strings.HasPrefix(li.Transceiver.String(), "Unknown") {
		o = append(o, orderedField{"transceiver", li.Transceiver.String()})
	}
	if li.Port == ethtool.PortTP {
		if s := li.MDIXString(); s != "Unknown" {
			o = append(o,
				orderedField{"mdi-x", strings.HasPrefix(s, "on")},
				orderedField{"mdi-x-forced", strings.HasSuffix(s, "(forced)")},
				orderedField{"mdi-x-auto", strings.HasSuffix(s, "(auto)")})
		}
	}
	if ls.Link != nil {
		o = append(o, orderedField{"link-detected", *ls.Link})
	}
	return o
}
