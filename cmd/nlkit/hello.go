package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/rtnl"
)

// helloOpts are the options shared by the hello commands.
type helloOpts struct {
	genl     bool
	protocol int
}

// helloService is what both clients of the module offer.
type helloService interface {
	Hello(ctx context.Context, text string) (string, error)
	Stats(ctx context.Context) (hello.Stats, error)
	Close() error
}

// check validates the options before anything is opened.
func (o *helloOpts) check(cmd *cobra.Command) error {
	if o.genl && cmd.Flags().Changed("protocol") {
		return errors.New("hello: --protocol and --genl exclude each other (the family is on NETLINK_GENERIC)")
	}
	if o.protocol < 0 || o.protocol > netlink.MaxProtocol {
		return fmt.Errorf("hello: --protocol %d: want a netlink protocol number from 0 to %d", o.protocol, netlink.MaxProtocol)
	}
	return nil
}

// dial opens the client the options ask for.
func (o *helloOpts) dial(ctx context.Context, a *app) (helloService, error) {
	if o.genl {
		return hello.DialGeneric(ctx, a.config())
	}
	return hello.Dial(o.protocol, a.config())
}

// watch opens the subscription the options ask for.
func (o *helloOpts) watch(ctx context.Context, a *app, rcvbuf int) (*hello.Subscription, error) {
	cfg := a.config()
	if rcvbuf > 0 {
		cfg.ReceiveBuffer, cfg.ForceReceiveBuffer = rcvbuf, true
	}
	if o.genl {
		return hello.WatchGeneric(ctx, cfg)
	}
	return hello.Watch(o.protocol, cfg)
}

func newHelloCmd(a *app) *cobra.Command {
	o := &helloOpts{}
	cmd := &cobra.Command{
		Use:   "hello [TEXT]",
		Short: "Talk to the nlhello kernel module (kmod/nlhello)",
		Long: `Talk to nlhello.ko, the netlink classroom driver in kmod/nlhello: say
hello (it answers "Thank you"), read its counters, and watch the packets
its interface (my_if0) passes up. The module serves its own netlink
protocol (31 unless loaded with protocol=N) and the generic netlink family
"nlhello" (--genl); both give the same answers. iproute2 has no command
for it.

Examples:
  nlkit hello                      send "Hello world", print the reply
  nlkit hello "Hi there"           send your own text
  nlkit hello --genl               the same through generic netlink
  nlkit hello --protocol 30        the module loaded with protocol=30
  nlkit hello stats                the module's counters
  nlkit -j hello stats             the counters as a JSON object
  nlkit hello watch                print each packet my_if0 sends (root)
  nlkit -j hello watch -c 10       ten packets, one JSON object per line
  nlkit hello -- stats             send the text "stats"

Without the module the commands fail with "is nlhello.ko loaded?".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			text := "Hello world"
			if len(args) == 1 {
				text = args[0]
			}
			ctx := cmd.Context()
			c, err := o.dial(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			return helloSay(ctx, a, c, text)
		},
	}
	cmd.PersistentFlags().BoolVar(&o.genl, "genl", false, "use the generic netlink family \"nlhello\" instead of the module's protocol")
	cmd.PersistentFlags().IntVar(&o.protocol, "protocol", hello.DefaultProtocol, "netlink protocol `N` the module was loaded with (protocol=N)")
	cmd.AddCommand(newHelloStatsCmd(a, o), newHelloWatchCmd(a, o))
	return cmd
}

// helloSay sends text and prints the reply.
func helloSay(ctx context.Context, a *app, c helloService, text string) error {
	reply, err := c.Hello(ctx, text)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(struct {
			Reply string `json:"reply"`
		}{reply})
	}
	_, err = fmt.Fprintln(a.out, reply)
	return err
}

func newHelloStatsCmd(a *app, o *helloOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print the module's counters",
		Long: `Print the counters of nlhello.ko, shared by its netlink protocol and
its generic netlink family. The request itself is already counted in
msgs_received; its reply is not yet in replies_sent.

Examples:
  nlkit hello stats
  nlkit hello --genl stats
  nlkit -j hello stats      field names are the C names in lower case`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := o.dial(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			return helloStats(ctx, a, c)
		},
	}
}

// helloStats prints the counters as a table or a JSON object.
func helloStats(ctx context.Context, a *app, c helloService) error {
	st, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(st)
	}
	tw := a.table("COUNTER", "VALUE")
	for _, c := range st.Counters() {
		fmt.Fprintf(tw, "%s\t%d\n", c.Attr, c.Value)
	}
	return tw.Flush()
}

func newHelloWatchCmd(a *app, o *helloOpts) *cobra.Command {
	var count, rcvbuf int
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print each packet the module's interface passes up",
		Long: `Subscribe to the module's packet notifications and print one line per
packet its interface sends: time, interface, length, protocol and the
first bytes in hex (-j: one JSON object per line, with all captured
bytes). If the receive buffer overflows, a "lost" line says how many
packets the module dropped meanwhile (its packets_dropped_buffer_full
counter; other subscribers' losses are not in it). Needs root or
CAP_NET_ADMIN. Stops after -c packets, or on Ctrl-C.

Examples:
  nlkit hello watch
  nlkit hello --genl watch -c 5
  nlkit -j hello watch --rcvbuf 16777216`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			if count < 0 {
				return fmt.Errorf("hello watch: -c %d: want a number of packets, 0 for no limit", count)
			}
			if rcvbuf < 0 {
				return fmt.Errorf("hello watch: --rcvbuf %d: want a size in bytes", rcvbuf)
			}
			ctx := cmd.Context()
			sub, err := o.watch(ctx, a, rcvbuf)
			if err != nil {
				return err
			}
			defer sub.Close()
			// The counters explain losses; without them a loss is still
			// reported, just not counted.
			var stats helloService
			if c, err := o.dial(ctx, a); err == nil {
				stats = c
				defer c.Close()
			}
			names := newIfNames(a)
			defer names.close()
			return helloWatch(ctx, a, sub, stats, names.name, count)
		},
	}
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after `N` packets (0: no limit)")
	cmd.Flags().IntVar(&rcvbuf, "rcvbuf", 0, "receive buffer in `BYTES` (default 4 MiB)")
	return cmd
}

// packetJSON is one packet in `nlkit -j hello watch`.
type packetJSON struct {
	Time         string `json:"time"`
	IfIndex      int32  `json:"ifindex"`
	IfName       string `json:"ifname,omitempty"`
	Len          uint32 `json:"len"`
	CapLen       uint32 `json:"caplen"`
	Protocol     string `json:"protocol"`
	ProtocolName string `json:"protocol_name,omitempty"`
	Data         string `json:"data"`
}

// lostJSON reports an overrun in `nlkit -j hello watch`. Dropped is how
// much the module's packets_dropped_buffer_full grew since the last
// report, when it grew.
type lostJSON struct {
	Lost    bool    `json:"lost"`
	Dropped *uint64 `json:"dropped,omitempty"`
}

// etherTypes names the EtherTypes one sees on the module's interface.
var etherTypes = map[uint16]string{
	0x0800: "ipv4", 0x0806: "arp", 0x86dd: "ipv6", 0x8100: "802.1q", 0x88b5: "experimental",
}

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// helloWatch prints packets from sub until ctx ends, the stream fails or
// count packets (if positive) were printed. stats, if not nil, tells how
// many packets an overrun cost; name resolves interface indexes.
func helloWatch(ctx context.Context, a *app, sub *hello.Subscription, stats helloService, name func(context.Context, int32) string, count int) error {
	snapshot := func() (hello.Stats, bool) {
		if stats == nil {
			return hello.Stats{}, false
		}
		st, err := stats.Stats(ctx)
		return st, err == nil
	}
	last, haveLast := snapshot()
	n := 0
	for p, err := range sub.Packets(ctx) {
		if errors.Is(err, netlink.ErrOverrun) {
			var dropped *uint64
			if st, ok := snapshot(); ok && haveLast {
				if d := st.Sub(last).PacketsDroppedBufferFull; d > 0 {
					dropped = &d
				}
				last = st
			}
			if err := printLost(a, dropped); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil // Ctrl-C: the normal way to stop
		}
		if err != nil {
			return err
		}
		if err := printPacket(ctx, a, p, name); err != nil {
			return err
		}
		if n++; count > 0 && n >= count {
			return nil
		}
	}
	return nil
}

func printLost(a *app, dropped *uint64) error {
	if a.json {
		return a.printJSON(lostJSON{Lost: true, Dropped: dropped})
	}
	if dropped == nil {
		_, err := fmt.Fprintln(a.out, "lost: receive buffer overrun, packets were dropped")
		return err
	}
	_, err := fmt.Fprintf(a.out, "lost: receive buffer overrun, %d packets dropped\n", *dropped)
	return err
}

func printPacket(ctx context.Context, a *app, p hello.Packet, name func(context.Context, int32) string) error {
	ifname := name(ctx, p.IfIndex)
	ts := "-"
	if !p.Timestamp.IsZero() {
		ts = p.Timestamp.Format(timeLayout)
	}
	proto := fmt.Sprintf("0x%04x", p.Protocol)
	if a.json {
		return a.printJSON(packetJSON{
			Time: ts, IfIndex: p.IfIndex, IfName: ifname, Len: p.Length, CapLen: p.CapLen,
			Protocol: proto, ProtocolName: etherTypes[p.Protocol], Data: hex.EncodeToString(p.Data),
		})
	}
	dev := fmt.Sprintf("if%d", p.IfIndex)
	if ifname != "" {
		dev = fmt.Sprintf("%s(%d)", ifname, p.IfIndex)
	}
	if n := etherTypes[p.Protocol]; n != "" {
		proto += " " + n
	}
	head := p.Data[:min(len(p.Data), 16)]
	more := ""
	if len(p.Data) > len(head) {
		more = "..."
	}
	_, err := fmt.Fprintf(a.out, "%s %s len %d proto %s data %s%s\n", ts, dev, p.Length, proto, hex.EncodeToString(head), more)
	return err
}

// ifNames resolves interface indexes to names through rtnetlink,
// remembering answers; it gives "" when it cannot.
type ifNames struct {
	a     *app
	c     *rtnl.Client
	tried bool
	cache map[int32]string
}

func newIfNames(a *app) *ifNames { return &ifNames{a: a, cache: map[int32]string{}} }

func (n *ifNames) name(ctx context.Context, index int32) string {
	if s, ok := n.cache[index]; ok {
		return s
	}
	if !n.tried {
		n.tried = true
		if c, err := rtnl.Dial(n.a.config()); err == nil {
			n.c = c
		}
	}
	s := ""
	if n.c != nil {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if l, err := n.c.LinkByIndex(ctx, index); err == nil {
			s = l.Name
		}
	}
	n.cache[index] = s
	return s
}

func (n *ifNames) close() {
	if n.c != nil {
		n.c.Close()
	}
}
