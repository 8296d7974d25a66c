//go:build linux

package conntrack_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
)

// ctNamespace returns a fresh namespace that tracks connections (an
// nftables "ct state" rule on output, both families) and a Client in it.
func ctNamespace(t *testing.T) (*nstest.NS, *conntrack.Client) {
	t.Helper()
	ns := nstest.New(t)
	for _, tool := range []string{"conntrack", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed as the test oracle: %v (scripts/install-deps.sh)", tool, err)
		}
	}
	nft := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`
table ip t { chain c { type filter hook output priority 0; ct state new counter; }; }
table ip6 t { chain c { type filter hook output priority 0; ct state new counter; }; }
`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	c, err := conntrack.Dial(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ns, c
}

// tool runs conntrack inside the namespace and returns its standard
// output; failure fails t.
func tool(t *testing.T, ns *nstest.NS, args ...string) string {
	t.Helper()
	return string(ns.Exec(t, "conntrack", args...))
}

// udpTo sends one datagram to addr:port from inside the namespace.
func udpTo(t *testing.T, ns *nstest.NS, addr string, port int) {
	t.Helper()
	ns.Exec(t, "bash", "-c", fmt.Sprintf("echo hello > /dev/udp/%s/%d", addr, port))
}

// untimed drops the timeout (third field) of conntrack -L lines: it
// counts down between two listings.
func untimed(out string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 {
			f[2] = "T"
		}
		lines = append(lines, strings.Join(f, " "))
	}
	return strings.Join(lines, "\n")
}

// toolFlow is a line of `conntrack -L -o extended,id`, parsed.
type toolFlow struct {
	family, proto, state string
	orig, reply          map[string]string
	unreplied, assured   bool
	mark, zone, use, id  string
	timeout              int
}

func parseTool(t *testing.T, out string) []toolFlow {
	t.Helper()
	var flows []toolFlow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := toolFlow{orig: map[string]string{}, reply: map[string]string{}, zone: "0"}
		w := strings.Fields(line)
		if len(w) < 6 {
			t.Fatalf("short conntrack line %q", line)
		}
		f.family, f.proto = w[0], w[2]
		f.timeout, _ = strconv.Atoi(w[4])
		tuple := f.orig
		for _, s := range w[5:] {
			k, v, ok := strings.Cut(s, "=")
			switch {
			case s == "[UNREPLIED]":
				f.unreplied = true
			case s == "[ASSURED]":
				f.assured = true
			case !ok:
				f.state = s
			case k == "src" && tuple["src"] != "":
				tuple = f.reply
				tuple[k] = v
			case k == "mark":
				f.mark = v
			case k == "zone":
				f.zone = v
			case k == "use":
				f.use = v
			case k == "id" && tuple["type"] == "" || k == "id" && tuple["id"] != "":
				f.id = v
			case k == "packets" || k == "bytes":
			default:
				tuple[k] = v
			}
		}
		flows = append(flows, f)
	}
	return flows
}

func tupleMap(tu conntrack.Tuple) map[string]string {
	m := map[string]string{"src": tu.Src.String(), "dst": tu.Dst.String()}
	switch {
	case tu.Proto.HasPorts():
		m["sport"], m["dport"] = strconv.Itoa(int(tu.SrcPort)), strconv.Itoa(int(tu.DstPort))
	case tu.Proto.IsICMP():
		m["type"], m["code"], m["id"] = strconv.Itoa(int(tu.ICMPType)), strconv.Itoa(int(tu.ICMPCode)), strconv.Itoa(int(tu.ICMPID))
	}
	return m
}

// compare checks a flow against the tool's view of it.
func compare(t *testing.T, f *conntrack.Flow, tf toolFlow) {
	t.Helper()
	var state string
	if f.TCP != nil {
		state = f.TCP.State.String()
	}
	got := fmt.Sprintf("%s %s %s %v %v unreplied=%v assured=%v mark=%d zone=%d use=%d id=%d",
		f.Family(), f.Original.Proto, state, tupleMap(f.Original), tupleMap(f.Reply),
		f.Status&conntrack.StatusSeenReply == 0, f.Status&conntrack.StatusAssured != 0, f.Mark, f.Zone, f.Use, f.ID)
	want := fmt.Sprintf("%s %s %s %v %v unreplied=%v assured=%v mark=%s zone=%s use=%s id=%s",
		tf.family, tf.proto, tf.state, tf.orig, tf.reply, tf.unreplied, tf.assured, tf.mark, tf.zone, tf.use, tf.id)
	if got != want {
		t.Errorf("flow differs from conntrack -L:\n nlkit:     %s\n conntrack: %s", got, want)
	}
	if f.Timeout <= 0 || f.Timeout > time.Duration(tf.timeout+5)*time.Second {
		t.Errorf("timeout %v, conntrack says %ds", f.Timeout, tf.timeout)
	}
}

// listBoth lists the table with the client and the tool, matched by ID.
func listBoth(t *testing.T, ns *nstest.NS, c *conntrack.Client, filter *conntrack.Filter, toolArgs ...string) ([]*conntrack.Flow, []toolFlow) {
	t.Helper()
	flows, err := c.List(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	tf := parseTool(t, tool(t, ns, append([]string{"-L", "-o", "extended,id"}, toolArgs...)...))
	sort.Slice(flows, func(i, j int) bool { return flows[i].ID < flows[j].ID })
	sort.Slice(tf, func(i, j int) bool { a, _ := strconv.Atoi(tf[i].id); b, _ := strconv.Atoi(tf[j].id); return a < b })
	if len(flows) != len(tf) {
		t.Fatalf("nlkit lists %d flows, conntrack -L %v lists %d: %+v", len(flows), toolArgs, len(tf), tf)
	}
	for i := range flows {
		compare(t, flows[i], tf[i])
	}
	return flows, tf
}

func TestKernelListMatchesTool(t *testing.T) {
	ns, c := ctNamespace(t)
	ns.Exec(t, "bash", "-c", "echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct")
	// Entries from traffic on loopback, both families, and entries made
	// by the tool.
	udpTo(t, ns, "127.0.0.1", 9999)
	udpTo(t, ns, "::1", 9998)
	tool(t, ns, "-I", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1234", "--dport", "80",
		"-t", "300", "--state", "ESTABLISHED", "-u", "ASSURED,SEEN_REPLY", "-m", "7", "-w", "3")
	tool(t, ns, "-I", "-p", "icmp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "77", "-t", "30")
	tool(t, ns, "-I", "-p", "udp", "-s", "2001:db8::1", "-d", "2001:db8::2", "--sport", "5", "--dport", "6", "-t", "30", "-m", "0x10")

	flows, _ := listBoth(t, ns, c, nil)
	if len(flows) != 5 {
		t.Errorf("listed %d flows, want 5", len(flows))
	}
	var sawTCP, sawICMP, saw6, sawCounters bool
	for _, f := range flows {
		switch {
		case f.Original.DstPort == 9999:
			sawCounters = f.CountersOrig != nil && f.CountersOrig.Packets == 1 && f.CountersOrig.Bytes > 0 &&
				f.CountersReply != nil && f.CountersReply.Packets == 0
		case f.Original.Proto == conntrack.ProtoTCP && f.Zone == 3:
			sawTCP = f.TCP != nil && f.TCP.State == conntrack.TCPEstablished && f.Mark == 7 && f.Status&conntrack.StatusAssured != 0
		case f.Original.Proto == conntrack.ProtoICMP:
			sawICMP = f.Original.ICMPID == 77 && f.Reply.ICMPType == 0
		case f.Family() == netfilter.FamilyIPv6 && f.Original.SrcPort == 5:
			saw6 = f.Mark == 0x10 && f.Original.Src == netip.MustParseAddr("2001:db8::1")
		}
	}
	if !sawTCP || !sawICMP || !saw6 || !sawCounters {
		t.Errorf("missing or wrong flows (tcp %v, icmp %v, ipv6 %v, counters %v): %+v", sawTCP, sawICMP, saw6, sawCounters, flows)
	}
	// Family filter: kernel-side.
	v6, _ := listBoth(t, ns, c, &conntrack.Filter{Family: netfilter.FamilyIPv6}, "-f", "ipv6")
	if len(v6) != 2 {
		t.Errorf("IPv6 flows: %d, want 2", len(v6))
	}
}

func TestKernelCreateUpdateDelete(t *testing.T) {
	ns, c := ctNamespace(t)
	ctx := context.Background()
	orig := conntrack.Tuple{
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		Proto: conntrack.ProtoTCP, SrcPort: 40000, DstPort: 443,
	}
	f := &conntrack.Flow{
		Original: orig, Timeout: 120 * time.Second, Mark: 42, Zone: 9,
		Status: conntrack.StatusSeenReply | conntrack.StatusAssured,
		TCP:    &conntrack.TCPInfo{State: conntrack.TCPEstablished},
	}
	if err := c.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	flows, _ := listBoth(t, ns, c, nil)
	if len(flows) != 1 {
		t.Fatalf("after create: %d flows", len(flows))
	}
	got := flows[0]
	if got.Original != orig || got.Reply != orig.Reverse() || got.Mark != 42 || got.Zone != 9 ||
		got.TCP == nil || got.TCP.State != conntrack.TCPEstablished || got.Status&conntrack.StatusAssured == 0 {
		t.Errorf("created flow reads back as %+v", got)
	}
	// Creating it again: EEXIST, nothing changed.
	if err := c.Create(ctx, f); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("second create: err = %v, want EEXIST", err)
	}
	// Get by tuple, in its zone; in another zone it is not there.
	g, err := c.Get(ctx, orig, 9)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != got.ID {
		t.Errorf("get: id %d, want %d", g.ID, got.ID)
	}
	if _, err := c.Get(ctx, orig, 0); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("get in zone 0: err = %v, want ENOENT", err)
	}
	// Update the mark.
	mark := uint32(1000)
	if err := c.Update(ctx, orig, 9, conntrack.Change{Mark: &mark}); err != nil {
		t.Fatal(err)
	}
	flows, tf := listBoth(t, ns, c, nil)
	if flows[0].Mark != 1000 || tf[0].mark != "1000" {
		t.Errorf("after update: mark %d, conntrack says %s", flows[0].Mark, tf[0].mark)
	}
	if err := c.Update(ctx, orig, 0, conntrack.Change{Mark: &mark}); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("update of a missing flow: err = %v, want ENOENT", err)
	}
	// Delete by tuple with a stale ID fails; with the right one succeeds.
	stale := *flows[0]
	stale.ID++
	if err := c.DeleteFlow(ctx, &stale); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("delete with a wrong id: err = %v, want ENOENT", err)
	}
	if err := c.DeleteFlow(ctx, flows[0]); err != nil {
		t.Fatal(err)
	}
	if out := tool(t, ns, "-L"); strings.TrimSpace(out) != "" {
		t.Errorf("after delete conntrack -L shows %q", out)
	}
	if err := c.Delete(ctx, orig, 9); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("second delete: err = %v, want ENOENT", err)
	}

	// Delete by ID, of a flow made by the tool.
	tool(t, ns, "-I", "-p", "udp", "-s", "192.0.2.7", "-d", "192.0.2.8", "--sport", "1", "--dport", "2", "-t", "60")
	flows, _ = listBoth(t, ns, c, nil)
	if err := c.DeleteID(ctx, flows[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteID(ctx, flows[0].ID); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("second delete by id: err = %v, want ENOENT", err)
	}
	listBoth(t, ns, c, nil)
}

func TestKernelBadInputChangesNothing(t *testing.T) {
	ns, c := ctNamespace(t)
	ctx := context.Background()
	tool(t, ns, "-I", "-p", "udp", "-s", "192.0.2.7", "-d", "192.0.2.8", "--sport", "1", "--dport", "2", "-t", "60")
	before := untimed(tool(t, ns, "-L", "-o", "id"))
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	bad := []struct {
		name string
		f    conntrack.Flow
		want error
	}{
		{"no source", conntrack.Flow{Original: conntrack.Tuple{Dst: v4, Proto: conntrack.ProtoUDP}, Timeout: time.Minute}, conntrack.ErrIncomplete},
		{"no protocol", conntrack.Flow{Original: conntrack.Tuple{Src: v4, Dst: v4}, Timeout: time.Minute}, conntrack.ErrIncomplete},
		{"mixed families", conntrack.Flow{Original: conntrack.Tuple{Src: v4, Dst: v6, Proto: conntrack.ProtoUDP}, Timeout: time.Minute}, conntrack.ErrIncomplete},
		{"no timeout", conntrack.Flow{Original: conntrack.Tuple{Src: v4, Dst: v4, Proto: conntrack.ProtoUDP, SrcPort: 1, DstPort: 2}}, conntrack.ErrIncomplete},
		{"TCP state on UDP", conntrack.Flow{Original: conntrack.Tuple{Src: v4, Dst: v4, Proto: conntrack.ProtoUDP}, Timeout: time.Minute, TCP: &conntrack.TCPInfo{}}, conntrack.ErrIncomplete},
	}
	for _, tt := range bad {
		if err := c.Create(ctx, &tt.f); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := c.Get(ctx, conntrack.Tuple{Src: v4, Proto: conntrack.ProtoTCP}, 0); !errors.Is(err, conntrack.ErrIncomplete) {
		t.Errorf("get without destination: err = %v", err)
	}
	if err := c.Delete(ctx, conntrack.Tuple{Src: v4, Dst: v4}, 0); !errors.Is(err, conntrack.ErrIncomplete) {
		t.Errorf("delete without protocol: err = %v", err)
	}
	// A TCP state the kernel does not accept: its error, with its text.
	err := c.Create(ctx, &conntrack.Flow{
		Original: conntrack.Tuple{Src: v4, Dst: v4, Proto: conntrack.ProtoTCP, SrcPort: 1, DstPort: 2},
		Timeout:  time.Minute, TCP: &conntrack.TCPInfo{State: 200},
	})
	if !errors.Is(err, syscall.ERANGE) {
		t.Errorf("create with TCP state 200: err = %v, want the kernel's ERANGE", err)
	}
	if after := untimed(tool(t, ns, "-L", "-o", "id")); after != before {
		t.Errorf("bad input changed the table:\nbefore %s\nafter  %s", before, after)
	}
}

func TestKernelFilterAndFlush(t *testing.T) {
	ns, c := ctNamespace(t)
	ctx := context.Background()
	for i, spec := range []struct{ src, mark, zone string }{
		{"10.0.0.1", "1", "0"}, {"10.0.0.2", "0x101", "0"}, {"10.0.0.3", "2", "5"}, {"10.0.0.4", "0", "5"}, {"2001:db8::4", "1", "0"},
	} {
		dst := "10.9.9.9"
		if strings.Contains(spec.src, ":") {
			dst = "2001:db8::9"
		}
		tool(t, ns, "-I", "-p", "udp", "-s", spec.src, "-d", dst, "--sport", strconv.Itoa(100+i), "--dport", "53",
			"-t", "60", "-m", spec.mark, "-w", spec.zone)
	}
	u32 := func(v uint32) *uint32 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	// Mark and mark/mask: the tool's -m MARK[/MASK] as the oracle.
	byMark, _ := listBoth(t, ns, c, &conntrack.Filter{Mark: u32(1)}, "-m", "1")
	if len(byMark) != 2 {
		t.Errorf("mark 1: %d flows, want 2", len(byMark))
	}
	byMask, _ := listBoth(t, ns, c, &conntrack.Filter{Mark: u32(1), MarkMask: 0xff}, "-m", "1/0xff")
	if len(byMask) != 3 {
		t.Errorf("mark 1/0xff: %d flows, want 3", len(byMask))
	}
	// Zone, kernel-side from Linux 6.8; zone 0 is checked here.
	byZone, _ := listBoth(t, ns, c, &conntrack.Filter{Zone: u16(5)}, "-w", "5")
	if len(byZone) != 2 {
		t.Errorf("zone 5: %d flows, want 2", len(byZone))
	}
	zone0, err := c.List(ctx, &conntrack.Filter{Zone: u16(0)})
	if err != nil || len(zone0) != 3 {
		t.Errorf("zone 0: %d flows, %v; want 3", len(zone0), err)
	}
	// Flush by mark, then by family, then all.
	if err := c.Flush(ctx, &conntrack.Filter{Mark: u32(1), MarkMask: 0xff}); err != nil {
		t.Fatal(err)
	}
	rest, _ := listBoth(t, ns, c, nil)
	if len(rest) != 2 {
		t.Errorf("after flushing mark 1/0xff: %d flows left, want 2", len(rest))
	}
	tool(t, ns, "-I", "-p", "udp", "-s", "2001:db8::4", "-d", "2001:db8::9", "--sport", "1", "--dport", "53", "-t", "60")
	if err := c.Flush(ctx, &conntrack.Filter{Family: netfilter.FamilyIPv6}); err != nil {
		t.Fatal(err)
	}
	rest, _ = listBoth(t, ns, c, nil)
	if len(rest) != 2 {
		t.Errorf("after flushing IPv6: %d flows left, want 2", len(rest))
	}
	// Zone 0 flush leaves zone 5 alone (the kernel would flush all).
	tool(t, ns, "-I", "-p", "udp", "-s", "10.0.0.8", "-d", "10.9.9.9", "--sport", "1", "--dport", "53", "-t", "60")
	if err := c.Flush(ctx, &conntrack.Filter{Zone: u16(0)}); err != nil {
		t.Fatal(err)
	}
	rest, _ = listBoth(t, ns, c, nil)
	if len(rest) != 2 || rest[0].Zone != 5 || rest[1].Zone != 5 {
		t.Errorf("after flushing zone 0: %+v", rest)
	}
	if err := c.Flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if out := tool(t, ns, "-L"); strings.TrimSpace(out) != "" {
		t.Errorf("after flush conntrack -L shows %q", out)
	}
}

func TestKernelEvents(t *testing.T) {
	ns, c := ctNamespace(t)
	sub, err := conntrack.Subscribe(&netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	orig := conntrack.Tuple{Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"), Proto: conntrack.ProtoUDP, SrcPort: 7, DstPort: 8}
	if err := c.Create(ctx, &conntrack.Flow{Original: orig, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	mark := uint32(3)
	if err := c.Update(ctx, orig, 0, conntrack.Change{Mark: &mark}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, orig, 0); err != nil {
		t.Fatal(err)
	}
	var got []string
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatalf("events so far %v: %v", got, err)
		}
		if ev.Flow == nil || ev.Flow.Original != orig {
			continue
		}
		got = append(got, fmt.Sprintf("%s mark=%d", ev.Type, ev.Flow.Mark))
		if ev.Type == conntrack.EventDestroy {
			break
		}
	}
	want := "NEW mark=0,UPDATE mark=3,DESTROY mark=3"
	if strings.Join(got, ",") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

func TestKernelEventOverrun(t *testing.T) {
	ns, c := ctNamespace(t)
	// A tiny receive buffer (the kernel's minimum) overflows in a burst.
	sub, err := conntrack.Subscribe(&netlink.Config{NetNS: ns.Name, ReceiveBuffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 300
	for i := range n {
		err := c.Create(ctx, &conntrack.Flow{Original: conntrack.Tuple{
			Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"),
			Proto: conntrack.ProtoUDP, SrcPort: uint16(1000 + i), DstPort: 53,
		}, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
	}
	// After a loss, each event read makes room for one more: create a
	// marker flow each time until one's event arrives, which shows the
	// stream goes on past the loss.
	marker := func(i int) conntrack.Tuple {
		return conntrack.Tuple{Src: netip.MustParseAddr("198.51.100.9"), Dst: netip.MustParseAddr("198.51.100.2"), Proto: conntrack.ProtoUDP, SrcPort: uint16(i), DstPort: 53}
	}
	lost, seen, markers := 0, 0, 0
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatalf("after %d events and %d losses: %v", seen, lost, err)
		}
		if ev.Type == conntrack.EventLost {
			lost++
		} else {
			seen++
			if ev.Flow.Original.Src == marker(0).Src {
				break
			}
		}
		if lost > 0 {
			markers++
			if err := c.Create(ctx, &conntrack.Flow{Original: marker(markers), Timeout: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if lost == 0 || seen >= n+1 {
		t.Errorf("%d events seen, %d losses reported; want a loss", seen, lost)
	}
}
