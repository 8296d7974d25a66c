package main

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nlkit/nlkit/rtnl"
	"github.com/nlkit/nlkit/sockdiag"
)

const ssHelp = `List sockets as ss does: TCP, UDP and UNIX domain sockets with their
state, queues and addresses, read from the kernel's socket diagnostics
(NETLINK_SOCK_DIAG).

Usage: nlkit ss [OPTIONS] [FILTER]

Options (they combine as in ss: -tan, -tlnp without p, ...):
  -t, --tcp          TCP sockets
  -u, --udp          UDP sockets
  -x, --unix         UNIX domain sockets
  -M, --mptcp        MPTCP sockets
  -4, --ipv4         IPv4 sockets only (TCP and UDP unless -t or -u)
  -6, --ipv6         IPv6 sockets only
  -l, --listening    listening sockets only (LISTEN, and unconnected UDP)
  -a, --all          sockets in every state
  -n, --numeric      accepted for ss compatibility: output is always numeric
  -e, --extended     add uid, inode and cookie (sk), and timers
  -o, --options      add timers: timer:(KIND,EXPIRES,RETRANSMITS)
  -i, --info         add TCP internals (rtt, cwnd, retransmits, ...)
  -m, --memory       add socket memory (skmem)
  -K, --kill         close the TCP and UDP sockets listed (needs
                     CAP_NET_ADMIN and CONFIG_INET_DIAG_DESTROY)
  -N, --net NAME     in network namespace NAME (also: nlkit -n NAME ss)
  -j, --json         a JSON array (also: nlkit -j ss); -p, --pretty indents

With none of -t, -u, -x, -M, all four are listed (MPTCP only if the
kernel can: CONFIG_INET_MPTCP_DIAG). Without -a or -l, only
connected sockets are (all states but LISTEN, UNCONN, TIME-WAIT and
SYN-RECV), as with ss. Columns are ss's: Netid (when several socket
kinds are listed), State (when several states can be), Recv-Q, Send-Q,
Local Address:Port, Peer Address:Port. UNIX sockets show their path
(@name when abstract, * when unbound) and inode. Process names (ss -p)
are not shown.

FILTER is a small part of ss's language, joined by "and" implicitly:
  state STATE | exclude STATE   (established, syn-sent, syn-recv,
      fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack,
      listening, closing, all, connected, synchronized, bucket, big)
  sport [=] [:]PORT | dport [=] [:]PORT
  src ADDR[/LEN][:PORT] | dst ADDR[/LEN][:PORT]   ([::1]:80 for IPv6)
States are filtered by the kernel; ports and addresses by nlkit.

In JSON, each socket is an object: netid, state, recv_q, send_q,
local_address, local_port, peer_address, peer_port (for UNIX sockets
local_address is the path, inode and peer_inode identify the ends), and
interface, uid, inode, cookie, v6only, timer, cong, tcp_info (with ss
-i's names; times in milliseconds, rates in bytes per second) and skmem
when known or asked for.

Examples:
  nlkit ss                    connected sockets of every kind
  nlkit ss -tln               listening TCP sockets
  nlkit ss -uan               all UDP sockets
  nlkit ss -xa                all UNIX sockets
  nlkit ss -ti state established dport = :443
  nlkit -n blue -j ss -ta     TCP sockets of namespace blue, as JSON
  nlkit ss -K dst 10.0.0.7    close the connections to 10.0.0.7`

func newSSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ss [-tuxMl46aneoimK] [-N NAME] [FILTER]",
		Short: "List sockets (like ss)",
		Long:  ssHelp,
		// ss's options clash with nlkit's global ones (-n is numeric in
		// ss, a namespace here; -p and -d differ too), so the command
		// reads its arguments itself, global options included.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := parseSSArgs(args)
			if err != nil {
				return err
			}
			if o.help {
				return cmd.Help()
			}
			if o.json {
				a.json = true
			}
			if o.pretty {
				a.pretty = true
			}
			if o.netns != "" {
				a.netns = o.netns
			}
			return a.ss(cmd.Context(), o)
		},
	}
	// The generic help would list nlkit's global flags, whose letters
	// mean other things here; the long text says it all.
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		fmt.Fprintln(c.OutOrStdout(), c.Long)
	})
	return cmd
}

// ssOpts are the parsed arguments of nlkit ss.
type ssOpts struct {
	tcp, udp, unix     bool
	mptcp              bool
	v4, v6             bool
	listening, all     bool
	extended, info     bool
	timers             bool // -o
	memory, kill, help bool
	json, pretty       bool
	netns              string
	states             sockdiag.StateSet // from state/exclude words
	sawStates          bool
	filter             ssFilter
}

// ssFilter holds the address and port conditions of the FILTER.
type ssFilter struct {
	sport, dport []uint16
	src, dst     []addrMatch
}

// addrMatch is one src or dst condition.
type addrMatch struct {
	prefix netip.Prefix // invalid: any address
	port   uint16       // 0: any port
}

func (m addrMatch) match(ap netip.AddrPort) bool {
	if m.port != 0 && ap.Port() != m.port {
		return false
	}
	if !m.prefix.IsValid() {
		return true
	}
	return m.prefix.Contains(ap.Addr()) || m.prefix.Contains(ap.Addr().Unmap())
}

func (f *ssFilter) empty() bool {
	return len(f.sport) == 0 && len(f.dport) == 0 && len(f.src) == 0 && len(f.dst) == 0
}

// matchInet reports whether an inet socket passes every condition
// (several values of one keyword: any of them).
func (f *ssFilter) matchInet(s *sockdiag.InetSocket) bool {
	anyPort := func(ports []uint16, p uint16) bool {
		if len(ports) == 0 {
			return true
		}
		for _, q := range ports {
			if q == p {
				return true
			}
		}
		return false
	}
	anyAddr := func(ms []addrMatch, ap netip.AddrPort) bool {
		if len(ms) == 0 {
			return true
		}
		for _, m := range ms {
			if m.match(ap) {
				return true
			}
		}
		return false
	}
	return anyPort(f.sport, s.ID.Local.Port()) && anyPort(f.dport, s.ID.Remote.Port()) &&
		anyAddr(f.src, s.ID.Local) && anyAddr(f.dst, s.ID.Remote)
}

// ssFilterWords start a FILTER; after -n, such a word is not taken as
// a namespace name.
var ssFilterWords = map[string]bool{
	"state": true, "exclude": true, "excl": true, "sport": true, "dport": true, "src": true,
	"dst": true, "and": true, "&&": true, "or": true, "||": true, "not": true, "!": true,
	"(": true, ")": true,
}

// looksLikeNetns reports whether the word after a bare -n is a
// namespace name (nlkit's global -n NAME) rather than the start of a
// FILTER or another option (ss's -n, --numeric).
func looksLikeNetns(w string) bool {
	return w != "" && !strings.HasPrefix(w, "-") && !ssFilterWords[w] && !strings.HasPrefix(w, "(")
}

// parseSSArgs reads ss's options, nlkit's global options and the
// FILTER, in any order.
func parseSSArgs(args []string) (*ssOpts, error) {
	o := &ssOpts{}
	var words []string
	for i := 0; i < len(args); i++ {
		s := args[i]
		next := func(opt string) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("ss: missing value after %s", opt)
			}
			i++
			return args[i], nil
		}
		switch {
		case s == "--":
			words = append(words, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(s, "--"):
			name, val, hasVal := strings.Cut(s[2:], "=")
			switch name {
			case "netns", "net":
				if !hasVal {
					v, err := next(s)
					if err != nil {
						return nil, err
					}
					val = v
				}
				o.netns = val
				continue
			}
			if hasVal {
				return nil, fmt.Errorf("ss: option --%s takes no value", name)
			}
			long := map[string]*bool{
				"tcp": &o.tcp, "udp": &o.udp, "unix": &o.unix, "mptcp": &o.mptcp, "ipv4": &o.v4, "ipv6": &o.v6,
				"listening": &o.listening, "all": &o.all, "extended": &o.extended, "info": &o.info,
				"memory": &o.memory, "kill": &o.kill, "json": &o.json, "pretty": &o.pretty, "options": &o.timers,
				"details": &o.extended, "help": &o.help, "numeric": new(bool),
			}
			p, ok := long[name]
			if !ok {
				return nil, fmt.Errorf("ss: unknown option %q (see nlkit ss --help)", s)
			}
			*p = true
		case strings.HasPrefix(s, "-") && len(s) > 1:
			if err := o.parseShort(s, func() (string, bool) {
				if i+1 < len(args) {
					return args[i+1], true
				}
				return "", false
			}, func() { i++ }); err != nil {
				return nil, err
			}
		default:
			words = append(words, s)
		}
	}
	if err := o.parseFilter(words); err != nil {
		return nil, err
	}
	return o, nil
}

// parseShort reads a cluster of single-letter options ("-tan"). peek
// returns the argument after the cluster and skip consumes it, for
// options that take a value (-N NAME, nlkit's -n NAME).
func (o *ssOpts) parseShort(s string, peek func() (string, bool), skip func()) error {
	letters := s[1:]
	if name, val, ok := strings.Cut(letters, "="); ok && (name == "n" || name == "N") {
		o.netns = val
		return nil
	}
	for k := 0; k < len(letters); k++ {
		c := letters[k]
		last := k == len(letters)-1
		switch c {
		case 't':
			o.tcp = true
		case 'u':
			o.udp = true
		case 'x':
			o.unix = true
		case 'M':
			o.mptcp = true
		case '4':
			o.v4 = true
		case '6':
			o.v6 = true
		case 'l':
			o.listening = true
		case 'a':
			o.all = true
		case 'e':
			o.extended = true
		case 'i':
			o.info = true
		case 'o':
			o.timers = true
		case 'm':
			o.memory = true
		case 'K':
			o.kill = true
		case 'j':
			o.json = true
		case 'h':
			o.help = true
		case 'n':
			// ss's -n (numeric: always so here), unless it ends the
			// cluster and a namespace name follows (nlkit -n NAME).
			if w, ok := peek(); last && ok && looksLikeNetns(w) {
				o.netns = w
				skip()
			}
		case 'N':
			if !last {
				o.netns = letters[k+1:]
				return nil
			}
			w, ok := peek()
			if !ok {
				return fmt.Errorf("ss: missing namespace name after -N")
			}
			o.netns = w
			skip()
		case 'p':
			if len(letters) == 1 {
				o.pretty = true // nlkit's -p, --pretty
				continue
			}
			return fmt.Errorf("ss: -p (show processes) is not supported: nlkit does not scan /proc; -e shows each socket's uid and inode")
		case 'd':
			if len(letters) == 1 {
				o.extended = true // nlkit's -d, --details
				continue
			}
			return fmt.Errorf("ss: -d (DCCP sockets) is not supported")
		default:
			return fmt.Errorf("ss: unknown option -%c in %q (see nlkit ss --help)", c, s)
		}
	}
	return nil
}

// parseFilter reads the FILTER words.
func (o *ssOpts) parseFilter(words []string) error {
	w := newWords("ss", words)
	for w.more() {
		switch kw := w.next(); kw {
		case "state", "exclude", "excl":
			v, err := w.value(kw)
			if err != nil {
				return err
			}
			set, err := sockdiag.ParseStates(v)
			if err != nil {
				return fmt.Errorf("ss: %s %q: unknown state (want established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing, all, connected, synchronized, bucket or big)", kw, v)
			}
			if kw == "state" {
				if !o.sawStates {
					o.states = 0
				}
				o.states |= set
			} else {
				if !o.sawStates {
					o.states = sockdiag.AllStates
				}
				o.states &^= set
			}
			o.sawStates = true
		case "sport", "dport":
			v, err := w.value(kw)
			if err != nil {
				return err
			}
			if v == "=" || v == "==" || v == "eq" {
				if v, err = w.value(kw + " " + v); err != nil {
					return err
				}
			}
			p, err := strconv.ParseUint(strings.TrimPrefix(v, ":"), 10, 16)
			if err != nil {
				return fmt.Errorf("ss: %s %q: want a port number such as :22 (comparisons other than = are not supported)", kw, v)
			}
			if kw == "sport" {
				o.filter.sport = append(o.filter.sport, uint16(p))
			} else {
				o.filter.dport = append(o.filter.dport, uint16(p))
			}
		case "src", "dst":
			v, err := w.value(kw)
			if err != nil {
				return err
			}
			if v == "=" || v == "==" || v == "eq" {
				if v, err = w.value(kw + " " + v); err != nil {
					return err
				}
			}
			m, err := parseAddrMatch(v)
			if err != nil {
				return fmt.Errorf("ss: %s %q: %w", kw, v, err)
			}
			if kw == "src" {
				o.filter.src = append(o.filter.src, m)
			} else {
				o.filter.dst = append(o.filter.dst, m)
			}
		case "and", "&&":
		case "or", "||", "not", "!", "(", ")":
			return fmt.Errorf("ss: %q: only conditions joined by and are supported", kw)
		default:
			return fmt.Errorf("ss: unknown argument %q (options go with -, the filter takes state, exclude, sport, dport, src, dst; see nlkit ss --help)", kw)
		}
	}
	return nil
}

// parseAddrMatch parses an ss address: ADDR, ADDR/LEN, ADDR:PORT,
// [V6ADDR]:PORT, [V6ADDR/LEN]:PORT, :PORT or *:PORT.
func parseAddrMatch(s string) (addrMatch, error) {
	const want = "want ADDRESS, ADDRESS/LENGTH, ADDRESS:PORT, [IPv6]:PORT or :PORT"
	var m addrMatch
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return m, errors.New(want)
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return m, errors.New(want)
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	if port != "" && port != "*" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return m, errors.New(want)
		}
		m.port = uint16(p)
	}
	if host == "" || host == "*" {
		return m, nil
	}
	if strings.Contains(host, "/") {
		p, err := netip.ParsePrefix(host)
		if err != nil {
			return m, errors.New(want)
		}
		m.prefix = p.Masked()
		return m, nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return m, errors.New(want)
	}
	m.prefix = netip.PrefixFrom(a, a.BitLen())
	return m, nil
}

// ssPlan is what to dump, worked out from the options as ss does.
type ssPlan struct {
	unix, udp, tcp, mptcp bool
	// explicit: the kinds were asked for, so a kernel without their
	// handler is an error (an implicit MPTCP is skipped quietly, as ss
	// does).
	explicit bool
	families []sockdiag.Family
	// states per socket kind: ss's defaults differ (UDP: established
	// only) unless -a, -l or a state filter says otherwise.
	tcpStates, udpStates, unixStates sockdiag.StateSet
	showNetid, showState             bool
}

func (o *ssOpts) plan() ssPlan {
	var p ssPlan
	p.tcp, p.udp, p.unix, p.mptcp = o.tcp, o.udp, o.unix, o.mptcp
	p.explicit = true
	inet := func() bool { return p.tcp || p.udp || p.mptcp }
	switch {
	case !inet() && !p.unix:
		// Nothing means everything; -4 or -6 alone mean the IP
		// protocols. -K closes TCP and UDP sockets only.
		p.tcp, p.udp, p.mptcp, p.explicit = true, true, !o.kill, false
		p.unix = !o.v4 && !o.v6 && !o.kill
	case (o.v4 || o.v6) && !inet():
		// -x -4: UNIX sockets, and the IP protocols over IPv4 (as ss).
		p.tcp, p.udp, p.mptcp, p.explicit = true, true, !o.kill, false
	}
	if o.v4 || (!o.v6 && inet()) {
		p.families = append(p.families, sockdiag.FamilyIPv4)
	}
	if o.v6 || (!o.v4 && inet()) {
		p.families = append(p.families, sockdiag.FamilyIPv6)
	}
	// The state filter: -a, -l and state words replace the per-kind
	// defaults (filter_states_set in ss.c).
	var states sockdiag.StateSet
	switch {
	case o.sawStates:
		states = o.states
	case o.all:
		states = sockdiag.AllStates
	case o.listening:
		states = sockdiag.ListeningStates
	}
	p.tcpStates, p.udpStates, p.unixStates = states, states, states
	if states == 0 {
		// ss's defaults: the union of each listed kind's default.
		def := sockdiag.StateSet(0)
		if p.tcp || p.unix || p.mptcp {
			def |= sockdiag.ConnectedStates
		}
		if p.udp {
			def |= sockdiag.States(sockdiag.StateEstablished)
		}
		p.tcpStates, p.udpStates, p.unixStates = def, def, def
	}
	kinds := 0
	for _, on := range []bool{p.tcp, p.udp, p.mptcp} {
		if on {
			kinds++
		}
	}
	if p.unix {
		kinds += 3 // u_str, u_dgr, u_seq: ss counts them apart
	}
	p.showNetid = kinds > 1
	p.showState = bits.OnesCount32(uint32(p.tcpStates|p.udpStates|p.unixStates)) > 1
	return p
}

// ssSocket is one socket in nlkit ss output; JSON field names are
// ss's column and -i names.
type ssSocket struct {
	Netid        string       `json:"netid"`
	State        string       `json:"state"`
	RecvQ        uint32       `json:"recv_q"`
	SendQ        uint32       `json:"send_q"`
	LocalAddress string       `json:"local_address"`
	LocalPort    *uint16      `json:"local_port,omitempty"`
	PeerAddress  string       `json:"peer_address"`
	PeerPort     *uint16      `json:"peer_port,omitempty"`
	Interface    string       `json:"interface,omitempty"`
	IfIndex      uint32       `json:"ifindex,omitempty"`
	V6Only       *bool        `json:"v6only,omitempty"`
	UID          *uint32      `json:"uid,omitempty"`
	Inode        uint32       `json:"inode"`
	PeerInode    *uint32      `json:"peer_inode,omitempty"`
	Cookie       string       `json:"cookie,omitempty"`
	Timer        string       `json:"timer,omitempty"`
	Congestion   string       `json:"cong,omitempty"`
	TCPInfo      *tcpInfoJSON `json:"tcp_info,omitempty"`
	SKMem        *skmemJSON   `json:"skmem,omitempty"`

	local, peer string // as ss prints them
	inet        *sockdiag.InetSocket
}

// skmemJSON is ss -m's skmem:(r,rb,t,tb,f,w,o,bl,d) with its names.
type skmemJSON struct {
	R  uint32 `json:"r"`
	RB uint32 `json:"rb"`
	T  uint32 `json:"t"`
	TB uint32 `json:"tb"`
	F  uint32 `json:"f"`
	W  uint32 `json:"w"`
	O  uint32 `json:"o"`
	BL uint32 `json:"bl"`
	D  uint32 `json:"d"`
}

func toSKMem(m *sockdiag.SKMemInfo) *skmemJSON {
	if m == nil {
		return nil
	}
	return &skmemJSON{m.RecvAlloc, m.RecvBuf, m.SendAlloc, m.SendBuf, m.ForwardAlloc, m.SendQueued, m.OptMem, m.Backlog, m.Drops}
}

func (m *skmemJSON) text() string {
	return fmt.Sprintf("skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d,bl%d,d%d)", m.R, m.RB, m.T, m.TB, m.F, m.W, m.O, m.BL, m.D)
}

// tcpInfoJSON is TCP internals with ss -i's names; times in
// milliseconds, rates in bytes per second.
type tcpInfoJSON struct {
	Options       string  `json:"options,omitempty"`
	SndWScale     uint8   `json:"snd_wscale"`
	RcvWScale     uint8   `json:"rcv_wscale"`
	RTO           float64 `json:"rto"`
	RTT           float64 `json:"rtt"`
	RTTVar        float64 `json:"rttvar"`
	ATO           float64 `json:"ato"`
	MSS           uint32  `json:"mss"`
	PMTU          uint32  `json:"pmtu"`
	RcvMSS        uint32  `json:"rcvmss"`
	AdvMSS        uint32  `json:"advmss"`
	Cwnd          uint32  `json:"cwnd"`
	SSThresh      uint32  `json:"ssthresh,omitempty"`
	BytesSent     uint64  `json:"bytes_sent"`
	BytesRetrans  uint64  `json:"bytes_retrans"`
	BytesAcked    uint64  `json:"bytes_acked"`
	BytesReceived uint64  `json:"bytes_received"`
	SegsOut       uint32  `json:"segs_out"`
	SegsIn        uint32  `json:"segs_in"`
	DataSegsOut   uint32  `json:"data_segs_out"`
	DataSegsIn    uint32  `json:"data_segs_in"`
	LastSnd       float64 `json:"lastsnd"`
	LastRcv       float64 `json:"lastrcv"`
	LastAck       float64 `json:"lastack"`
	PacingRate    uint64  `json:"pacing_rate,omitempty"`
	DeliveryRate  uint64  `json:"delivery_rate,omitempty"`
	Retransmits   uint8   `json:"retransmits"`
	Retrans       uint32  `json:"retrans"`
	TotalRetrans  uint32  `json:"total_retrans"`
	Unacked       uint32  `json:"unacked"`
	Lost          uint32  `json:"lost"`
	Sacked        uint32  `json:"sacked"`
	Reordering    uint32  `json:"reordering"`
	RcvRTT        float64 `json:"rcv_rtt"`
	RcvSpace      uint32  `json:"rcv_space"`
	RcvSSThresh   uint32  `json:"rcv_ssthresh"`
	MinRTT        float64 `json:"minrtt"`
	SndWnd        uint32  `json:"snd_wnd"`
	RcvWnd        uint32  `json:"rcv_wnd"`
	NotSent       uint32  `json:"notsent"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func toTCPInfo(t *sockdiag.TCPInfo) *tcpInfoJSON {
	if t == nil {
		return nil
	}
	j := &tcpInfoJSON{
		Options: t.Options.String(), SndWScale: t.SendWScale, RcvWScale: t.RecvWScale,
		RTO: ms(t.RTO), RTT: ms(t.RTT), RTTVar: ms(t.RTTVar), ATO: ms(t.ATO),
		MSS: t.SendMSS, PMTU: t.PMTU, RcvMSS: t.RecvMSS, AdvMSS: t.AdvMSS, Cwnd: t.SendCwnd,
		BytesSent: t.BytesSent, BytesRetrans: t.BytesRetrans, BytesAcked: t.BytesAcked,
		BytesReceived: t.BytesReceived, SegsOut: t.SegsOut, SegsIn: t.SegsIn,
		DataSegsOut: t.DataSegsOut, DataSegsIn: t.DataSegsIn,
		LastSnd: ms(t.LastDataSent), LastRcv: ms(t.LastDataRecv), LastAck: ms(t.LastAckRecv),
		DeliveryRate: t.DeliveryRate, Retransmits: t.Retransmits, Retrans: t.Retrans,
		TotalRetrans: t.TotalRetrans, Unacked: t.Unacked, Lost: t.Lost, Sacked: t.Sacked,
		Reordering: t.Reordering, RcvRTT: ms(t.RecvRTT), RcvSpace: t.RecvSpace,
		RcvSSThresh: t.RecvSSThresh, MinRTT: ms(t.MinRTT), SndWnd: t.SendWindow, RcvWnd: t.RecvWindow,
		NotSent: t.NotSentBytes,
	}
	if t.SendSSThresh < 0xFFFF { // ss omits the "infinite" initial value
		j.SSThresh = t.SendSSThresh
	}
	if t.PacingRate != ^uint64(0) { // ~0: no pacing
		j.PacingRate = t.PacingRate
	}
	return j
}

// text formats the internals as ss -i does (a subset).
func (j *tcpInfoJSON) text(cong string) string {
	var parts []string
	add := func(f string, args ...any) { parts = append(parts, fmt.Sprintf(f, args...)) }
	for _, opt := range strings.Fields(j.Options) {
		if opt != "wscale" { // shown with its values below
			parts = append(parts, opt)
		}
	}
	if cong != "" {
		parts = append(parts, cong)
	}
	if strings.Contains(j.Options, "wscale") {
		add("wscale:%d,%d", j.SndWScale, j.RcvWScale)
	}
	add("rto:%g", j.RTO)
	add("rtt:%g/%g", j.RTT, j.RTTVar)
	if j.ATO != 0 {
		add("ato:%g", j.ATO)
	}
	add("mss:%d pmtu:%d rcvmss:%d advmss:%d cwnd:%d", j.MSS, j.PMTU, j.RcvMSS, j.AdvMSS, j.Cwnd)
	if j.SSThresh != 0 {
		add("ssthresh:%d", j.SSThresh)
	}
	add("bytes_sent:%d bytes_acked:%d bytes_received:%d segs_out:%d segs_in:%d", j.BytesSent, j.BytesAcked, j.BytesReceived, j.SegsOut, j.SegsIn)
	if j.BytesRetrans != 0 {
		add("bytes_retrans:%d", j.BytesRetrans)
	}
	add("lastsnd:%g lastrcv:%g lastack:%g", j.LastSnd, j.LastRcv, j.LastAck)
	if j.PacingRate != 0 {
		add("pacing_rate %dbps", j.PacingRate*8)
	}
	if j.Unacked != 0 {
		add("unacked:%d", j.Unacked)
	}
	if j.Retrans != 0 || j.TotalRetrans != 0 {
		add("retrans:%d/%d", j.Retrans, j.TotalRetrans)
	}
	if j.Lost != 0 {
		add("lost:%d", j.Lost)
	}
	add("rcv_space:%d rcv_ssthresh:%d minrtt:%g snd_wnd:%d", j.RcvSpace, j.RcvSSThresh, j.MinRTT, j.SndWnd)
	return strings.Join(parts, " ")
}

// ssAddr formats an inet address and port as ss does: "0.0.0.0:22",
// "[::1]:22", "*:22" for the IPv6 wildcard of a dual-stack socket,
// "ADDR%IFNAME:PORT" for a socket bound to an interface, port 0 as "*".
func ssAddr(ap netip.AddrPort, v6only bool, ifname string) string {
	a := ap.Addr()
	host := a.String()
	switch {
	case a.Is6() && !v6only && a.IsUnspecified():
		host = "*"
	case a.Is6():
		host = "[" + a.String() + "]"
	}
	if ifname != "" {
		host += "%" + ifname
	}
	port := "*"
	if ap.Port() != 0 {
		port = strconv.Itoa(int(ap.Port()))
	}
	return host + ":" + port
}

func toInetRow(s *sockdiag.InetSocket, ifnames map[int32]string, o *ssOpts) ssSocket {
	lp, pp := s.ID.Local.Port(), s.ID.Remote.Port()
	r := ssSocket{
		Netid: s.Protocol.String(), State: s.State.String(), RecvQ: s.RecvQueue, SendQ: s.SendQueue,
		LocalAddress: s.ID.Local.Addr().String(), LocalPort: &lp,
		PeerAddress: s.ID.Remote.Addr().String(), PeerPort: &pp,
		IfIndex: s.ID.Interface, Inode: s.Inode, Congestion: s.Congestion, inet: s,
	}
	if s.ID.Interface != 0 {
		r.Interface = ifnames[int32(s.ID.Interface)]
		if r.Interface == "" {
			r.Interface = fmt.Sprintf("if%d", s.ID.Interface)
		}
	}
	if s.Family == sockdiag.FamilyIPv6 {
		v := s.V6Only
		r.V6Only = &v
	}
	r.local = ssAddr(s.ID.Local, s.V6Only, r.Interface)
	r.peer = ssAddr(s.ID.Remote, s.V6Only, "")
	if o.extended {
		uid := s.UID
		r.UID = &uid
		r.Cookie = fmt.Sprintf("%x", s.ID.Cookie)
	}
	if (o.extended || o.timers) && s.Timer != sockdiag.TimerOff {
		r.Timer = fmt.Sprintf("%v,%s,%d", s.Timer, msTimer(s.Expires), s.Retransmits)
	}
	if o.info {
		r.TCPInfo = toTCPInfo(s.TCPInfo)
	}
	if o.memory {
		r.SKMem = toSKMem(s.SKMemInfo)
	}
	return r
}

func toUnixRow(s *sockdiag.UnixSocket, o *ssOpts) ssSocket {
	peer := s.Peer
	r := ssSocket{
		Netid: s.Type.String(), State: s.State.String(), RecvQ: s.RecvQueue, SendQ: s.SendQueue,
		LocalAddress: s.Address(), PeerAddress: "*", Inode: s.Inode, PeerInode: &peer,
	}
	if r.LocalAddress == "" {
		r.LocalAddress = "*"
	}
	r.local = fmt.Sprintf("%s %d", r.LocalAddress, s.Inode)
	r.peer = fmt.Sprintf("* %d", s.Peer)
	if o.extended {
		r.Cookie = fmt.Sprintf("%x", s.Cookie)
		if s.HasUID {
			uid := s.UID
			r.UID = &uid
		}
	}
	if o.memory {
		r.SKMem = toSKMem(s.MemInfo)
	}
	return r
}

// msTimer writes a timer's expiry as ss does (print_ms_timer): "2min",
// "15sec", "1.500ms", "200ms".
func msTimer(d time.Duration) string {
	t := max(d.Milliseconds(), 0)
	secs, msecs := t/1000, t%1000
	minutes := secs / 60
	secs %= 60
	var b strings.Builder
	if minutes != 0 {
		msecs = 0
		fmt.Fprintf(&b, "%dmin", minutes)
		if minutes > 9 {
			secs = 0
		}
	}
	if secs != 0 {
		if secs > 9 {
			msecs = 0
		}
		sep := "sec"
		if msecs != 0 {
			sep = "."
		}
		fmt.Fprintf(&b, "%d%s", secs, sep)
	}
	if msecs != 0 {
		fmt.Fprintf(&b, "%03dms", msecs)
	}
	return b.String()
}

// extra is the text ss prints after the addresses for -e, -i and -m.
func (r *ssSocket) extra() string {
	var parts []string
	if r.Timer != "" {
		parts = append(parts, "timer:("+r.Timer+")")
	}
	if r.UID != nil && *r.UID != 0 {
		parts = append(parts, fmt.Sprintf("uid:%d", *r.UID))
	}
	if r.Cookie != "" {
		parts = append(parts, fmt.Sprintf("ino:%d sk:%s", r.Inode, r.Cookie))
	}
	if r.SKMem != nil {
		parts = append(parts, r.SKMem.text())
	}
	if r.TCPInfo != nil {
		parts = append(parts, r.TCPInfo.text(r.Congestion))
	}
	return strings.Join(parts, " ")
}

// ss lists (or with -K closes) the sockets the options select.
func (a *app) ss(ctx context.Context, o *ssOpts) error {
	if o.kill && o.unix {
		return errors.New("ss -K: UNIX sockets cannot be closed from outside; -K closes TCP and UDP sockets")
	}
	p := o.plan()
	if p.tcpStates == 0 && p.udpStates == 0 && p.unixStates == 0 {
		return errors.New("ss: no socket states to show with such filter")
	}
	c, err := sockdiag.Dial(a.config())
	if err != nil {
		return err
	}
	defer c.Close()
	var rows []ssSocket
	if p.unix && o.filter.empty() {
		show := sockdiag.ShowDefault
		if o.extended {
			show |= sockdiag.ShowUID
		}
		if o.memory {
			show |= sockdiag.ShowMemInfo
		}
		for s, err := range c.UnixSockets(ctx, sockdiag.UnixRequest{States: p.unixStates, Show: show}) {
			if err != nil {
				return err
			}
			rows = append(rows, toUnixRow(s, o))
		}
	}
	var ext sockdiag.Extensions
	if o.info {
		ext |= sockdiag.ExtInfo | sockdiag.ExtCongestion
	}
	if o.memory {
		ext |= sockdiag.ExtSKMemInfo
	}
	var inet []*sockdiag.InetSocket
	for _, k := range []struct {
		proto  sockdiag.Protocol
		on     bool
		states sockdiag.StateSet
	}{
		{sockdiag.ProtocolUDP, p.udp, p.udpStates},
		{sockdiag.ProtocolTCP, p.tcp, p.tcpStates},
		{sockdiag.ProtocolMPTCP, p.mptcp, p.tcpStates},
	} {
		if !k.on {
			continue
		}
		var found []*sockdiag.InetSocket
		var err error
		for _, f := range p.families {
			req := sockdiag.InetRequest{Family: f, Protocol: k.proto, States: k.states, Extensions: ext}
			for s, serr := range c.InetSockets(ctx, req) {
				if serr != nil {
					err = serr
					break
				}
				if o.filter.matchInet(s) {
					found = append(found, s)
				}
			}
		}
		if errors.Is(err, sockdiag.ErrNotSupported) && !p.explicit {
			continue // as ss: a kind the kernel cannot list is left out
		}
		if err != nil {
			return err
		}
		inet = append(inet, found...)
	}
	if o.kill {
		if inet, err = ssKill(ctx, c, inet); err != nil {
			return err
		}
	}
	var ifnames map[int32]string
	for _, s := range inet {
		if s.ID.Interface != 0 && ifnames == nil {
			ifnames = a.ssLinkNames(ctx)
		}
	}
	for _, s := range inet {
		rows = append(rows, toInetRow(s, ifnames, o))
	}
	if a.json {
		if rows == nil {
			rows = []ssSocket{}
		}
		return a.printJSON(rows)
	}
	var headers []string
	if p.showNetid {
		headers = append(headers, "Netid")
	}
	if p.showState {
		headers = append(headers, "State")
	}
	headers = append(headers, "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port")
	tw := a.table(headers...)
	for i := range rows {
		r := &rows[i]
		var cells []string
		if p.showNetid {
			cells = append(cells, r.Netid)
		}
		if p.showState {
			cells = append(cells, r.State)
		}
		cells = append(cells, strconv.FormatUint(uint64(r.RecvQ), 10), strconv.FormatUint(uint64(r.SendQ), 10), r.local, r.peer)
		if x := r.extra(); x != "" {
			cells = append(cells, x)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// ssKill destroys the sockets and returns those it closed. Sockets gone
// meanwhile are skipped, as ss -K does; any other failure (no privilege,
// no kernel support) stops it.
func ssKill(ctx context.Context, c *sockdiag.Client, socks []*sockdiag.InetSocket) ([]*sockdiag.InetSocket, error) {
	var killed []*sockdiag.InetSocket
	for _, s := range socks {
		err := c.Destroy(ctx, s)
		if errors.Is(err, sockdiag.ErrNoSocket) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ss -K: %w", err)
		}
		killed = append(killed, s)
	}
	return killed, nil
}

// ssLinkNames names the interfaces sockets are bound to; without
// rtnetlink they are shown by index.
func (a *app) ssLinkNames(ctx context.Context) map[int32]string {
	c, err := rtnl.Dial(a.config())
	if err != nil {
		return map[int32]string{}
	}
	defer c.Close()
	names, err := linkNames(ctx, c)
	if err != nil {
		return map[int32]string{}
	}
	return names
}
