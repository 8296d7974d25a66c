package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// ctTupleJSON is one direction of a flow in `nlkit -j ct`.
type ctTupleJSON struct {
	Src   string  `json:"src"`
	Dst   string  `json:"dst"`
	SPort *uint16 `json:"sport,omitempty"`
	DPort *uint16 `json:"dport,omitempty"`
	Type  *uint8  `json:"type,omitempty"`
	Code  *uint8  `json:"code,omitempty"`
	ID    *uint16 `json:"id,omitempty"`
	Zone  uint16  `json:"zone,omitempty"`
}

// ctCountersJSON are a direction's counters.
type ctCountersJSON struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// ctFlowJSON is one flow in `nlkit -j ct list` (and an event of `nlkit
// -j ct monitor`, with Event and Time).
type ctFlowJSON struct {
	Time           string          `json:"time,omitempty"`
	Event          string          `json:"event,omitempty"` // "new", "update", "destroy"
	Family         string          `json:"family"`          // "ipv4", "ipv6"
	Protocol       string          `json:"protocol"`        // "tcp", "udp", "icmp", ... or the number
	ProtocolNumber uint8           `json:"protocol_number"` // 6, 17, 1, ...
	Timeout        *int64          `json:"timeout,omitempty"`
	State          string          `json:"state,omitempty"` // TCP state: "ESTABLISHED", ...
	Original       ctTupleJSON     `json:"original"`
	Reply          ctTupleJSON     `json:"reply"`
	Status         []string        `json:"status"` // "SEEN_REPLY", "ASSURED", "CONFIRMED", ...
	Mark           uint32          `json:"mark"`
	Zone           uint16          `json:"zone"`
	Use            uint32          `json:"use,omitempty"`
	ID             uint32          `json:"id,omitempty"`
	CountersOrig   *ctCountersJSON `json:"counters_original,omitempty"`
	CountersReply  *ctCountersJSON `json:"counters_reply,omitempty"`
	Labels         string          `json:"labels,omitempty"` // hex
	Helper         string          `json:"helper,omitempty"`
}

func toCtTupleJSON(t conntrack.Tuple) ctTupleJSON {
	j := ctTupleJSON{Src: t.Src.String(), Dst: t.Dst.String(), Zone: t.Zone}
	switch {
	case t.Proto.HasPorts():
		j.SPort, j.DPort = &t.SrcPort, &t.DstPort
	case t.Proto.IsICMP():
		j.Type, j.Code, j.ID = &t.ICMPType, &t.ICMPCode, &t.ICMPID
	}
	return j
}

func toCtFlowJSON(f *conntrack.Flow) ctFlowJSON {
	j := ctFlowJSON{
		Family:         f.Family().String(),
		Protocol:       f.Original.Proto.String(),
		ProtocolNumber: uint8(f.Original.Proto),
		Original:       toCtTupleJSON(f.Original),
		Reply:          toCtTupleJSON(f.Reply),
		Status:         f.Status.Names(),
		Mark:           f.Mark,
		Zone:           f.Zone,
		Use:            f.Use,
		ID:             f.ID,
		Helper:         f.Helper,
	}
	if j.Status == nil {
		j.Status = []string{}
	}
	if f.Timeout > 0 {
		s := int64(f.Timeout / time.Second)
		j.Timeout = &s
	}
	if f.TCP != nil {
		j.State = f.TCP.State.String()
	}
	if c := f.CountersOrig; c != nil {
		j.CountersOrig = &ctCountersJSON{c.Packets, c.Bytes}
	}
	if c := f.CountersReply; c != nil {
		j.CountersReply = &ctCountersJSON{c.Packets, c.Bytes}
	}
	if f.Labels != nil {
		j.Labels = hex.EncodeToString(f.Labels)
	}
	return j
}

// ctOutput are conntrack's -o options: extended (the family first) and id.
type ctOutput struct {
	extended, id bool
}

func parseCtOutput(s string) (ctOutput, error) {
	var o ctOutput
	if s == "" {
		return o, nil
	}
	for _, w := range strings.Split(s, ",") {
		switch w {
		case "extended":
			o.extended = true
		case "id":
			o.id = true
		default:
			return o, fmt.Errorf("ct: unknown output format %q (want extended, id or both: extended,id)", w)
		}
	}
	return o, nil
}

// ctTupleText writes a tuple as conntrack does: "src=A dst=B sport=1 dport=2 ".
func ctTupleText(b *strings.Builder, t conntrack.Tuple) {
	fmt.Fprintf(b, "src=%s dst=%s ", t.Src, t.Dst)
	switch {
	case t.Proto.HasPorts():
		fmt.Fprintf(b, "sport=%d dport=%d ", t.SrcPort, t.DstPort)
	case t.Proto.IsICMP():
		fmt.Fprintf(b, "type=%d code=%d id=%d ", t.ICMPType, t.ICMPCode, t.ICMPID)
	}
}

// ctText formats a flow as a line of `conntrack -L` (event "" for
// listings, the event tag for `conntrack -E`).
func ctText(f *conntrack.Flow, event string, o ctOutput) string {
	var b strings.Builder
	if event != "" {
		fmt.Fprintf(&b, "%9s ", "["+event+"]")
	}
	if o.extended {
		fmt.Fprintf(&b, "%-8s %d ", f.Family(), uint8(f.Family()))
	}
	name := f.Original.Proto.String()
	if !f.Original.Proto.Known() {
		name = "unknown"
	}
	fmt.Fprintf(&b, "%-8s %d ", name, uint8(f.Original.Proto))
	if f.Timeout > 0 {
		fmt.Fprintf(&b, "%d ", f.Timeout/time.Second)
	}
	if f.TCP != nil {
		st := f.TCP.State
		if st > conntrack.TCPSynSent2 {
			st = conntrack.TCPNone
		}
		fmt.Fprintf(&b, "%s ", st)
	}
	ctTupleText(&b, f.Original)
	if c := f.CountersOrig; c != nil {
		fmt.Fprintf(&b, "packets=%d bytes=%d ", c.Packets, c.Bytes)
	}
	if f.Status&conntrack.StatusSeenReply == 0 {
		b.WriteString("[UNREPLIED] ")
	}
	ctTupleText(&b, f.Reply)
	if c := f.CountersReply; c != nil {
		fmt.Fprintf(&b, "packets=%d bytes=%d ", c.Packets, c.Bytes)
	}
	if f.Status&conntrack.StatusAssured != 0 {
		b.WriteString("[ASSURED] ")
	}
	fmt.Fprintf(&b, "mark=%d ", f.Mark)
	if f.Zone != 0 {
		fmt.Fprintf(&b, "zone=%d ", f.Zone)
	}
	if f.Helper != "" {
		fmt.Fprintf(&b, "helper=%s ", f.Helper)
	}
	if f.Use != 0 {
		fmt.Fprintf(&b, "use=%d ", f.Use)
	}
	if o.id && f.ID != 0 {
		fmt.Fprintf(&b, "id=%d ", f.ID)
	}
	return strings.TrimSuffix(b.String(), " ")
}

// ctArgs is what the words of a ct command say: a tuple (original
// direction), a reply tuple, flow fields and filters.
type ctArgs struct {
	family netfilter.Family
	orig   conntrack.Tuple
	reply  conntrack.Tuple
	seen   map[string]bool // keywords given

	timeout  time.Duration
	state    conntrack.TCPState
	status   conntrack.Status
	mark     uint32
	markMask uint32
	zone     uint16
	id       uint32
}

// ctKeywords are the keywords each subcommand takes.
var ctKeywords = map[string][]string{
	"list":    {"family", "proto", "src", "dst", "sport", "dport", "mark", "zone", "status"},
	"get":     {"proto", "src", "dst", "sport", "dport", "type", "code", "id", "zone"},
	"create":  {"proto", "src", "dst", "sport", "dport", "type", "code", "id", "reply-src", "reply-dst", "reply-sport", "reply-dport", "timeout", "state", "status", "mark", "zone"},
	"update":  {"proto", "src", "dst", "sport", "dport", "type", "code", "id", "zone", "timeout", "status", "mark"},
	"delete":  {"family", "proto", "src", "dst", "sport", "dport", "type", "code", "id", "mark", "zone", "status", "flow-id"},
	"flush":   {"family", "mark", "zone"},
	"monitor": {"family", "proto", "src", "dst", "sport", "dport", "mark", "zone"},
}

func ctUint(w *words, key string, bits int) (uint64, error) { return w.uint(key, bits) }

// parseCtArgs reads keyword/value pairs for subcommand cmd.
func parseCtArgs(cmd string, args []string) (*ctArgs, error) {
	w := newWords("ct "+cmd, args)
	allowed := map[string]bool{}
	for _, k := range ctKeywords[cmd] {
		allowed[k] = true
	}
	a := &ctArgs{seen: map[string]bool{}}
	for w.more() {
		key := w.next()
		if !allowed[key] {
			return nil, w.unknown(key)
		}
		if a.seen[key] {
			return nil, fmt.Errorf("ct %s: %q given twice", cmd, key)
		}
		a.seen[key] = true
		var err error
		switch key {
		case "family":
			var s string
			if s, err = w.value(key); err == nil {
				a.family, err = parseCtFamily(s)
			}
		case "proto":
			var s string
			if s, err = w.value(key); err == nil {
				a.orig.Proto, err = conntrack.ParseProtocol(s)
			}
		case "src", "dst", "reply-src", "reply-dst":
			var s string
			if s, err = w.value(key); err == nil {
				addr, perr := parseAddr(s)
				err = perr
				switch key {
				case "src":
					a.orig.Src = addr
				case "dst":
					a.orig.Dst = addr
				case "reply-src":
					a.reply.Src = addr
				case "reply-dst":
					a.reply.Dst = addr
				}
			}
		case "sport", "dport", "reply-sport", "reply-dport", "id":
			var v uint64
			if v, err = ctUint(w, key, 16); err == nil {
				switch key {
				case "sport":
					a.orig.SrcPort = uint16(v)
				case "dport":
					a.orig.DstPort = uint16(v)
				case "reply-sport":
					a.reply.SrcPort = uint16(v)
				case "reply-dport":
					a.reply.DstPort = uint16(v)
				case "id":
					a.orig.ICMPID = uint16(v)
				}
			}
		case "type", "code":
			var v uint64
			if v, err = ctUint(w, key, 8); err == nil {
				if key == "type" {
					a.orig.ICMPType = uint8(v)
				} else {
					a.orig.ICMPCode = uint8(v)
				}
			}
		case "timeout":
			var v uint64
			if v, err = ctUint(w, key, 32); err == nil {
				a.timeout = time.Duration(v) * time.Second
			}
		case "state":
			var s string
			if s, err = w.value(key); err == nil {
				a.state, err = conntrack.ParseTCPState(s)
			}
		case "status":
			var s string
			if s, err = w.value(key); err == nil {
				a.status, err = conntrack.ParseStatus(s)
			}
		case "mark":
			var s string
			if s, err = w.value(key); err == nil {
				a.mark, a.markMask, err = parseCtMark(s)
				if err == nil && a.markMask != 0xffffffff && cmd != "list" && cmd != "delete" && cmd != "flush" && cmd != "monitor" {
					err = fmt.Errorf("mark %q: a mask is for selecting flows, not setting a mark", s)
				}
			}
		case "zone":
			var v uint64
			if v, err = ctUint(w, key, 16); err == nil {
				a.zone = uint16(v)
			}
		case "flow-id":
			var v uint64
			if v, err = ctUint(w, key, 32); err == nil {
				a.id = uint32(v)
			}
		}
		if err != nil {
			if strings.HasPrefix(err.Error(), "ct ") {
				return nil, err
			}
			return nil, fmt.Errorf("ct %s: %w", cmd, err)
		}
	}
	if a.orig.Src.IsValid() && a.orig.Dst.IsValid() && a.orig.Src.Unmap().Is4() != a.orig.Dst.Unmap().Is4() {
		return nil, fmt.Errorf("ct %s: src %s and dst %s are of different families", cmd, a.orig.Src, a.orig.Dst)
	}
	return a, nil
}

func parseCtFamily(s string) (netfilter.Family, error) {
	switch s {
	case "ipv4", "inet4", "4":
		return netfilter.FamilyIPv4, nil
	case "ipv6", "inet6", "6":
		return netfilter.FamilyIPv6, nil
	case "any", "all":
		return netfilter.FamilyUnspec, nil
	}
	return 0, fmt.Errorf("unknown family %q (want ipv4, ipv6 or any)", s)
}

// parseCtMark parses MARK or MARK/MASK, decimal or hex.
func parseCtMark(s string) (uint32, uint32, error) {
	ms, masks, hasMask := strings.Cut(s, "/")
	m, err := strconv.ParseUint(ms, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad mark %q: want a number from 0 to 4294967295, optionally /MASK", s)
	}
	mask := uint64(0xffffffff)
	if hasMask {
		if mask, err = strconv.ParseUint(masks, 0, 32); err != nil {
			return 0, 0, fmt.Errorf("bad mark mask %q: want a number from 0 to 4294967295", s)
		}
	}
	return uint32(m), uint32(mask), nil
}

// filter turns selection words into a library Filter.
func (a *ctArgs) filter() *conntrack.Filter {
	f := &conntrack.Filter{
		Family: a.family, Protocol: a.orig.Proto, Src: a.orig.Src, Dst: a.orig.Dst,
		SrcPort: a.orig.SrcPort, DstPort: a.orig.DstPort, Status: a.status,
	}
	if a.seen["mark"] {
		m := a.mark
		f.Mark, f.MarkMask = &m, a.markMask
	}
	if a.seen["zone"] {
		z := a.zone
		f.Zone = &z
	}
	return f
}

// tuple checks that the words name a whole original tuple.
func (a *ctArgs) tuple(cmd string) (conntrack.Tuple, error) {
	t := a.orig
	need := []string{"proto", "src", "dst"}
	switch {
	case t.Proto.HasPorts():
		need = append(need, "sport", "dport")
	case t.Proto.IsICMP():
		need = append(need, "type", "code", "id")
	}
	for _, k := range need {
		if !a.seen[k] {
			what := ""
			if k != "proto" && k != "src" && k != "dst" {
				what = " (needed for " + t.Proto.String() + ")"
			}
			return t, fmt.Errorf("ct %s: missing %q%s; a flow is named by proto, src, dst and ports (or ICMP type, code and id)", cmd, k, what)
		}
	}
	return t, nil
}

// ctError turns the kernel's answers into sentences.
func ctError(cmd string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("ct %s: no such flow", cmd)
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("ct %s: the flow exists already (use ct update to change it)", cmd)
	}
	return err
}

func newCtCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ct [list|get|create|update|delete|flush|monitor] ...",
		Short: "Connection tracking table (like conntrack)",
		Long: `List, read, create, change and delete connection tracking entries and
watch their events, as the conntrack tool does. Text output has
conntrack's shape; -j prints JSON.

A flow is named by its original direction with keywords:
  proto tcp|udp|icmp|icmpv6|sctp|dccp|udplite|gre|N  src ADDR  dst ADDR
  sport PORT dport PORT           (tcp, udp, sctp, dccp, udplite)
  type N code N id N              (icmp, icmpv6)
and selections add: family ipv4|ipv6|any, mark MARK[/MASK], zone N,
status BIT[,BIT...] (ASSURED, SEEN_REPLY, ...).

Examples:
  nlkit ct                                        conntrack -L
  nlkit ct list -o extended,id                    conntrack -L -o extended,id
  nlkit ct list family ipv6 mark 1/0xff zone 3    conntrack -L -f ipv6 -m 1/0xff -w 3
  nlkit ct get proto udp src 10.0.0.1 dst 10.0.0.2 sport 5000 dport 53
  nlkit ct create proto tcp src 10.0.0.1 dst 10.0.0.2 sport 5000 dport 80 \
      timeout 120 state ESTABLISHED status ASSURED mark 7
  nlkit ct update proto tcp src 10.0.0.1 dst 10.0.0.2 sport 5000 dport 80 mark 9
  nlkit ct delete proto udp src 10.0.0.1 dst 10.0.0.2 sport 5000 dport 53
  nlkit ct delete mark 7                          delete every flow with mark 7
  nlkit ct delete flow-id 3412345678              by the id of ct list -o id
  nlkit ct flush family ipv6                      conntrack -F -f ipv6
  nlkit ct monitor                                conntrack -E
  nlkit -n blue -j ct monitor new destroy`,
		Args: cobra.ArbitraryArgs,
	}
	var output string
	list := &cobra.Command{
		Use:     "list [SELECTION]",
		Aliases: []string{"show", "ls"},
		Short:   "List flows (conntrack -L)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctList(c.Context(), args, output)
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "", "conntrack's output formats: `extended`, id, or extended,id")
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("ct: unknown command %q (want list, get, create, update, delete, flush or monitor)", args[0])
		}
		return a.ctList(c.Context(), nil, output)
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "conntrack's output formats: `extended`, id, or extended,id")
	get := &cobra.Command{
		Use:   "get TUPLE [zone N]",
		Short: "Show one flow (conntrack -G)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctGet(c.Context(), args, output)
		},
	}
	get.Flags().StringVarP(&output, "output", "o", "", "conntrack's output formats: `extended`, id, or extended,id")
	create := &cobra.Command{
		Use:     "create TUPLE timeout SECONDS [state S] [status BITS] [mark M] [zone N] [reply-src A reply-dst A reply-sport P reply-dport P]",
		Aliases: []string{"add"},
		Short:   "Create a flow (conntrack -I)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctCreate(c.Context(), args)
		},
	}
	update := &cobra.Command{
		Use:     "update TUPLE [zone N] [mark M] [timeout SECONDS] [status BITS]",
		Aliases: []string{"change"},
		Short:   "Change a flow (conntrack -U)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctUpdate(c.Context(), args)
		},
	}
	del := &cobra.Command{
		Use:     "delete TUPLE [zone N] | SELECTION | flow-id ID",
		Aliases: []string{"del"},
		Short:   "Delete flows (conntrack -D)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctDelete(c.Context(), args)
		},
	}
	flush := &cobra.Command{
		Use:   "flush [family ipv4|ipv6] [mark M[/MASK]] [zone N]",
		Short: "Delete every flow, or those of a family, mark or zone (conntrack -F)",
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctFlush(c.Context(), args)
		},
	}
	var rcvbuf int
	monitor := &cobra.Command{
		Use:     "monitor [new] [update] [destroy] [SELECTION]",
		Aliases: []string{"events"},
		Short:   "Print flow events as they happen (conntrack -E)",
		Long: `Print conntrack events until interrupted: [NEW], [UPDATE] and [DESTROY]
lines in conntrack -E's shape (-j: one JSON object per line, with "event"
and "time"). With event names, only those. If the kernel drops events
because nlkit fell behind, a [LOST] line (event "lost") says so and the
stream goes on.

Examples:
  nlkit ct monitor
  nlkit ct monitor new destroy proto tcp
  nlkit -j ct monitor mark 7`,
		RunE: func(c *cobra.Command, args []string) error {
			return a.ctMonitor(c.Context(), args, output, rcvbuf)
		},
	}
	monitor.Flags().StringVarP(&output, "output", "o", "", "conntrack's output formats: `extended`, id, or extended,id")
	monitor.Flags().IntVar(&rcvbuf, "rcvbuf", 0, "receive buffer size in `BYTES` (default 32 MiB)")
	cmd.AddCommand(list, get, create, update, del, flush, monitor)
	return cmd
}

func (a *app) ctClient() (*conntrack.Client, error) {
	return conntrack.Dial(a.config())
}

func (a *app) ctPrint(flows []*conntrack.Flow, o ctOutput) error {
	if a.json {
		out := make([]ctFlowJSON, 0, len(flows))
		for _, f := range flows {
			out = append(out, toCtFlowJSON(f))
		}
		return a.printJSON(out)
	}
	for _, f := range flows {
		fmt.Fprintln(a.out, ctText(f, "", o))
	}
	return nil
}

func (a *app) ctList(ctx context.Context, args []string, output string) error {
	o, err := parseCtOutput(output)
	if err != nil {
		return err
	}
	ca, err := parseCtArgs("list", args)
	if err != nil {
		return err
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	flows, err := c.List(ctx, ca.filter())
	if err != nil {
		return err
	}
	return a.ctPrint(flows, o)
}

func (a *app) ctGet(ctx context.Context, args []string, output string) error {
	o, err := parseCtOutput(output)
	if err != nil {
		return err
	}
	ca, err := parseCtArgs("get", args)
	if err != nil {
		return err
	}
	t, err := ca.tuple("get")
	if err != nil {
		return err
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := c.Get(ctx, t, ca.zone)
	if err != nil {
		return ctError("get", err)
	}
	return a.ctPrint([]*conntrack.Flow{f}, o)
}

func (a *app) ctCreate(ctx context.Context, args []string) error {
	ca, err := parseCtArgs("create", args)
	if err != nil {
		return err
	}
	t, err := ca.tuple("create")
	if err != nil {
		return err
	}
	if !ca.seen["timeout"] || ca.timeout == 0 {
		return errors.New("ct create: missing \"timeout\" SECONDS (at least 1), as conntrack -I -t needs")
	}
	f := &conntrack.Flow{Original: t, Timeout: ca.timeout, Status: ca.status, Mark: ca.mark, Zone: ca.zone}
	if ca.seen["state"] {
		if t.Proto != conntrack.ProtoTCP {
			return fmt.Errorf("ct create: \"state\" is for tcp flows, not %s", t.Proto)
		}
		f.TCP = &conntrack.TCPInfo{State: ca.state}
	}
	if ca.seen["reply-src"] || ca.seen["reply-dst"] || ca.seen["reply-sport"] || ca.seen["reply-dport"] {
		r := t.Reverse()
		if ca.seen["reply-src"] {
			r.Src = ca.reply.Src
		}
		if ca.seen["reply-dst"] {
			r.Dst = ca.reply.Dst
		}
		if ca.seen["reply-sport"] {
			r.SrcPort = ca.reply.SrcPort
		}
		if ca.seen["reply-dport"] {
			r.DstPort = ca.reply.DstPort
		}
		if r.Src.Unmap().Is4() != t.Src.Unmap().Is4() || r.Dst.Unmap().Is4() != t.Src.Unmap().Is4() {
			return errors.New("ct create: reply addresses must be of the family of src and dst")
		}
		f.Reply = r
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return ctError("create", c.Create(ctx, f))
}

func (a *app) ctUpdate(ctx context.Context, args []string) error {
	ca, err := parseCtArgs("update", args)
	if err != nil {
		return err
	}
	t, err := ca.tuple("update")
	if err != nil {
		return err
	}
	var ch conntrack.Change
	if ca.seen["mark"] {
		ch.Mark = &ca.mark
	}
	if ca.seen["timeout"] {
		ch.Timeout = &ca.timeout
	}
	if ca.seen["status"] {
		ch.Status = &ca.status
	}
	if ch.Mark == nil && ch.Timeout == nil && ch.Status == nil {
		return errors.New("ct update: nothing to change: give mark, timeout or status")
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return ctError("update", c.Update(ctx, t, ca.zone, ch))
}

func (a *app) ctDelete(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("ct delete: say which flows: a tuple (proto, src, dst, ports), a selection (mark, zone, ...) or flow-id ID; to delete all, use ct flush")
	}
	ca, err := parseCtArgs("delete", args)
	if err != nil {
		return err
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	if ca.seen["flow-id"] {
		if len(ca.seen) > 1 {
			return errors.New("ct delete: flow-id names one flow; give nothing else with it")
		}
		return ctError("delete", c.DeleteID(ctx, ca.id))
	}
	if t, err := ca.tuple("delete"); err == nil && !ca.seen["mark"] && !ca.seen["status"] && !ca.seen["family"] {
		return ctError("delete", c.Delete(ctx, t, ca.zone))
	}
	n, err := c.DeleteMatching(ctx, ca.filter())
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("ct delete: no flow matches")
	}
	if !a.json {
		fmt.Fprintf(a.errOut, "nlkit: %d flow entries have been deleted.\n", n)
	}
	return nil
}

func (a *app) ctFlush(ctx context.Context, args []string) error {
	ca, err := parseCtArgs("flush", args)
	if err != nil {
		return err
	}
	c, err := a.ctClient()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Flush(ctx, ca.filter())
}

func (a *app) ctMonitor(ctx context.Context, args []string, output string, rcvbuf int) error {
	o, err := parseCtOutput(output)
	if err != nil {
		return err
	}
	var groups []netfilter.Group
	rest := args
	for len(rest) > 0 {
		g, ok := map[string]netfilter.Group{"new": conntrack.GroupNew, "update": conntrack.GroupUpdate, "destroy": conntrack.GroupDestroy}[rest[0]]
		if !ok {
			break
		}
		groups = append(groups, g)
		rest = rest[1:]
	}
	ca, err := parseCtArgs("monitor", rest)
	if err != nil {
		return err
	}
	filter := ca.filter()
	cfg := a.config()
	if rcvbuf > 0 {
		cfg.ReceiveBuffer, cfg.ForceReceiveBuffer = rcvbuf, true
	}
	sub, err := conntrack.Subscribe(cfg, groups...)
	if err != nil {
		return err
	}
	defer sub.Close()
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			if errors.Is(err, netlink.ErrOverrun) || errors.Is(err, netfilter.ErrShortMessage) {
				fmt.Fprintf(a.errOut, "nlkit: %v\n", err)
				continue
			}
			return err
		}
		if ev.Type != conntrack.EventLost && !filter.Match(ev.Flow) {
			continue
		}
		if err := a.ctPrintEvent(a.out, ev, o); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) ctPrintEvent(w io.Writer, ev conntrack.Event, o ctOutput) error {
	const lost = "events were lost (receive buffer overrun): list again for the current table"
	now := time.Now().Format(time.RFC3339Nano)
	switch {
	case a.json && ev.Type == conntrack.EventLost:
		return a.printJSON(map[string]string{"time": now, "event": "lost", "message": lost})
	case a.json:
		j := toCtFlowJSON(ev.Flow)
		j.Event, j.Time = strings.ToLower(ev.Type.String()), now
		return a.printJSON(j)
	case ev.Type == conntrack.EventLost:
		_, err := fmt.Fprintf(w, "%9s %s\n", "[LOST]", lost)
		return err
	}
	_, err := fmt.Fprintln(w, ctText(ev.Flow, ev.Type.String(), o))
	return err
}
