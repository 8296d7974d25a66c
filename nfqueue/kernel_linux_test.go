//go:build linux

package nfqueue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/internal/nstest"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nfqueue"
)

// pair makes two namespaces joined by a veth pair: a (10.77.0.1,
// fd77::1) and b (10.77.0.2, fd77::2).
func pair(t *testing.T) (a, b *nstest.NS) {
	t.Helper()
	a, b = nstest.New(t), nstest.New(t)
	a.IP(t, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name)
	a.IP(t, "addr", "add", "10.77.0.1/24", "dev", "va")
	a.IP(t, "addr", "add", "fd77::1/64", "dev", "va", "nodad")
	b.IP(t, "addr", "add", "10.77.0.2/24", "dev", "vb")
	b.IP(t, "addr", "add", "fd77::2/64", "dev", "vb", "nodad")
	a.IP(t, "link", "set", "va", "up")
	b.IP(t, "link", "set", "vb", "up")
	return a, b
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed (scripts/install-deps.sh installs it): %v", name, err)
	}
}

// udpIn opens a UDP socket in ns listening on port.
func udpIn(t *testing.T, ns *nstest.NS, network, addr string) net.PacketConn {
	t.Helper()
	var c net.PacketConn
	err := netlink.RunInNetNS(&netlink.Config{NetNS: ns.Name}, func() error {
		var err error
		c, err = net.ListenPacket(network, addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestQueueVerdictsKernel(t *testing.T) {
	requireTool(t, "iptables")
	a, b := pair(t)
	b.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5000", "-j", "NFQUEUE", "--queue-num", "7")
	b.Exec(t, "ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "5000", "-j", "NFQUEUE", "--queue-num", "7")
	// A chain after iptables' (priority 0) counts packets marked 42.
	b.Exec(t, "nft", "add table inet marks; add chain inet marks c { type filter hook input priority 10; }; add rule inet marks c meta mark 42 counter")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc := &netlink.Config{NetNS: b.Name}
	// Conntrack metadata needs CONFIG_NETFILTER_NETLINK_GLUE_CT, which
	// some kernels (this machine's) lack: then binding says so.
	flags := nfqueue.UIDGID | nfqueue.GSO
	q, err := nfqueue.Open(ctx, 7, nfqueue.Config{Flags: flags | nfqueue.Conntrack}, nc)
	haveCT := err == nil
	if err != nil {
		if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(err.Error(), "GLUE_CT") {
			t.Fatalf("bind with conntrack: %v", err)
		}
		t.Logf("no conntrack metadata on this kernel: %v", err)
		if q, err = nfqueue.Open(ctx, 7, nfqueue.Config{Flags: flags}, nc); err != nil {
			t.Fatal(err)
		}
	}
	defer q.Close()
	// A second bind of the same queue is refused with a clear error.
	if q2, err := nfqueue.Open(ctx, 7, nfqueue.Config{}, nc); err == nil {
		q2.Close()
		t.Fatal("second bind of queue 7 succeeded")
	} else if !strings.Contains(err.Error(), "another program") {
		t.Errorf("second bind: %v", err)
	}

	recv4 := udpIn(t, b, "udp4", "10.77.0.2:5000")
	recv6 := udpIn(t, b, "udp6", "[fd77::2]:5000")
	send4 := udpIn(t, a, "udp4", "10.77.0.1:0")
	send6 := udpIn(t, a, "udp6", "[fd77::1]:0")

	// Verdicts: "drop" payloads are dropped, "mark" ones accepted with a
	// mark, the rest accepted.
	var mu sync.Mutex
	seen := map[string]nfqueue.Packet{}
	loopDone := make(chan error, 1)
	go func() {
		for p, err := range q.Packets(ctx) {
			if err != nil {
				loopDone <- err
				return
			}
			text := string(p.Payload[len(p.Payload)-8:])
			mu.Lock()
			seen[p.Family.String()+" "+text] = p
			mu.Unlock()
			var verr error
			switch {
			case strings.HasPrefix(text, "drop"):
				verr = q.SetVerdict(p.ID, nfqueue.Drop)
			case strings.HasPrefix(text, "mark"):
				verr = q.SetVerdictWith(nfqueue.VerdictRequest{ID: p.ID, Verdict: nfqueue.Accept, Mark: 42, SetMark: true})
			default:
				verr = q.SetVerdict(p.ID, nfqueue.Accept)
			}
			if verr != nil {
				loopDone <- verr
				return
			}
		}
	}()
	const n = 200
	for i := 0; i < n; i++ {
		kinds := []string{"pass", "drop", "mark"}
		text := fmt.Sprintf("%s%04d", kinds[i%3], i)
		if _, err := send4.WriteTo([]byte(text), &net.UDPAddr{IP: net.ParseIP("10.77.0.2"), Port: 5000}); err != nil {
			t.Fatal(err)
		}
		if _, err := send6.WriteTo([]byte(text), &net.UDPAddr{IP: net.ParseIP("fd77::2"), Port: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"pass": 2 * ((n + 2) / 3), "mark": 2 * ((n + 0) / 3)}
	got := map[string]int{}
	buf := make([]byte, 100)
	for _, c := range []net.PacketConn{recv4, recv6} {
		// Read what should arrive, then a little more to catch extras.
		for i := 0; i < (want["pass"]+want["mark"])/2; i++ {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := c.ReadFrom(buf); err != nil {
				break
			}
			got[string(buf[:4])]++
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); err == nil {
			got[string(buf[:4])]++
		}
	}
	if got["drop"] != 0 || got["pass"] != want["pass"] || got["mark"] != want["mark"] {
		t.Errorf("received %v, want %v and no drop", got, want)
	}
	// The mark set with the verdict is seen by a later chain.
	var ruleset struct {
		Nftables []struct {
			Rule *struct {
				Expr []struct {
					Counter *struct{ Packets int }
				}
			}
		}
	}
	out := b.Exec(t, "nft", "-j", "list", "chain", "inet", "marks", "c")
	if err := json.Unmarshal(out, &ruleset); err != nil {
		t.Fatal(err)
	}
	counted := -1
	for _, o := range ruleset.Nftables {
		if o.Rule != nil {
			for _, e := range o.Rule.Expr {
				if e.Counter != nil {
					counted = e.Counter.Packets
				}
			}
		}
	}
	if counted != want["mark"] {
		t.Errorf("packets with mark 42 after the verdict: %d, want %d", counted, want["mark"])
	}
	select {
	case err := <-loopDone:
		t.Fatalf("packet loop: %v", err)
	default:
	}
	mu.Lock()
	p, p6 := seen["ipv4 pass0000"], seen["ipv6 pass0000"]
	mu.Unlock()
	if p.Hook != nfqueue.HookInput || p.HWProtocol != 0x0800 || p.InDev == 0 || p.OutDev != 0 || p.ID == 0 ||
		len(p.HWAddr) != 6 || p.Length != uint32(len(p.Payload)) || p.Payload[0]>>4 != 4 || p.Queue != 7 {
		t.Errorf("metadata of the first IPv4 packet: %+v", p)
	}
	if p6.HWProtocol != 0x86dd || p6.Payload[0]>>4 != 6 || p6.InDev != p.InDev {
		t.Errorf("metadata of the first IPv6 packet: %+v", p6)
	}
	if haveCT && (!p.HasCTInfo || p.CTInfo != nfqueue.CTNew) {
		t.Errorf("conntrack state of the first packet: %v (present %v), want new", p.CTInfo, p.HasCTInfo)
	}
	ks, err := q.KernelStats(nc)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Waiting != 0 || ks.IDSequence != 2*n || ks.QueueDropped != 0 || ks.UserDropped != 0 {
		t.Errorf("kernel counters %+v, want nothing waiting, id sequence %d, nothing dropped", ks, 2*n)
	}
	if st := q.Stats(); st.Received != 2*n || st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
}

// recvCount counts datagrams on c until want arrived or 5 s pass, then
// a little longer to catch extras.
func recvCount(c net.PacketConn, want int) int {
	buf := make([]byte, 100)
	n := 0
	for n < want {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadFrom(buf); err != nil {
			return n
		}
		n++
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := c.ReadFrom(buf); err == nil {
		n++
	}
	return n
}

// Batch verdicts, a verdict that sends packets on to another queue, and
// a full queue with and without fail-open, with the kernel's counters.
func TestQueueBatchRequeueAndFullKernel(t *testing.T) {
	requireTool(t, "iptables")
	a, b := pair(t)
	b.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5010", "-j", "NFQUEUE", "--queue-num", "10")
	b.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5011", "-j", "NFQUEUE", "--queue-num", "12")
	b.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5012", "-j", "NFQUEUE", "--queue-num", "13")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc := &netlink.Config{NetNS: b.Name}
	qs, err := nfqueue.OpenRange(ctx, 10, 11, nfqueue.Config{}, nc)
	if err != nil {
		t.Fatal(err)
	}
	defer qs[0].Close()
	defer qs[1].Close()
	recv := udpIn(t, b, "udp4", "10.77.0.2:5010")
	send := udpIn(t, a, "udp4", "10.77.0.1:0")
	dst := func(port int) net.Addr { return &net.UDPAddr{IP: net.ParseIP("10.77.0.2"), Port: port} }

	// Queue 10 sends every packet on to queue 11 (NF_QUEUE | 11<<16);
	// queue 11 holds them and releases them with one batch verdict.
	const n = 20
	go func() {
		for p, err := range qs[0].Packets(ctx) {
			if err != nil {
				return
			}
			qs[0].SetVerdict(p.ID, nfqueue.QueueTo(11, false))
		}
	}()
	batchDone := make(chan error, 1)
	go func() {
		held := 0
		for p, err := range qs[1].Packets(ctx) {
			if err != nil {
				batchDone <- err
				return
			}
			if p.Queue != 11 {
				batchDone <- fmt.Errorf("packet from queue %d on queue 11's socket", p.Queue)
				return
			}
			if held++; held == n {
				batchDone <- qs[1].SetVerdictBatch(p.ID, nfqueue.Accept)
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		if _, err := send.WriteTo([]byte("batch"), dst(5010)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-batchDone; err != nil {
		t.Fatal(err)
	}
	if got := recvCount(recv, n); got != n {
		t.Errorf("%d of %d requeued and batch-accepted datagrams arrived", got, n)
	}

	// Full queues: 5 packets may wait; nobody gives verdicts. With
	// fail-open the rest is accepted; without, dropped and counted.
	full := func(num uint16, port int, flags nfqueue.Flags, expect int) (arrived int, ks nfqueue.KernelStats) {
		q, err := nfqueue.Open(ctx, num, nfqueue.Config{MaxLen: 5, Flags: flags}, nc)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		r := udpIn(t, b, "udp4", fmt.Sprintf("10.77.0.2:%d", port))
		for i := 0; i < n; i++ {
			if _, err := send.WriteTo([]byte("full"), dst(port)); err != nil {
				t.Fatal(err)
			}
		}
		arrived = recvCount(r, expect)
		ks, err = q.KernelStats(nc)
		if err != nil {
			t.Fatal(err)
		}
		return arrived, ks
	}
	got, ks := full(12, 5011, nfqueue.FailOpen, n-5)
	if got != n-5 || ks.Waiting != 5 || ks.QueueDropped != 0 || ks.IDSequence != 5 {
		t.Errorf("fail-open: %d arrived, kernel %+v; want %d arrived, 5 waiting, none dropped", got, ks, n-5)
	}
	got, ks = full(13, 5012, 0, 0)
	if got != 0 || ks.Waiting != 5 || ks.QueueDropped != n-5 {
		t.Errorf("fail-closed: %d arrived, kernel %+v; want none, 5 waiting, %d dropped", got, ks, n-5)
	}
}

// Locally sent packets on the output hook: the owner's UID, a verdict
// with a rewritten payload, and NF_REPEAT with a new mark that makes the
// second traversal skip the queue.
func TestQueueOutputRewriteRepeatKernel(t *testing.T) {
	requireTool(t, "iptables")
	ns := nstest.New(t)
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "--dport", "5020", "-m", "mark", "!", "--mark", "1", "-j", "NFQUEUE", "--queue-num", "20")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q, err := nfqueue.Open(ctx, 20, nfqueue.Config{Flags: nfqueue.UIDGID}, &netlink.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	recv := udpIn(t, ns, "udp4", "127.0.0.1:5020")
	send := udpIn(t, ns, "udp4", "127.0.0.1:0")
	seen := make(chan nfqueue.Packet, 10)
	go func() {
		for p, err := range q.Packets(ctx) {
			if err != nil {
				return
			}
			seen <- p
			r := nfqueue.VerdictRequest{ID: p.ID, Verdict: nfqueue.Accept}
			switch text := string(p.Payload[28:]); text {
			case "rewrite me":
				b := append([]byte(nil), p.Payload...)
				copy(b[28:], "REWRITE ME")
				b[26], b[27] = 0, 0 // no UDP checksum (IPv4 allows it)
				r.Payload = b
			case "repeat me":
				r.Verdict, r.Mark, r.SetMark = nfqueue.Repeat, 1, true
			}
			q.SetVerdictWith(r)
		}
	}()
	dst := &net.UDPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5020}
	buf := make([]byte, 100)
	for _, tc := range []struct{ send, want string }{{"rewrite me", "REWRITE ME"}, {"repeat me", "repeat me"}} {
		if _, err := send.WriteTo([]byte(tc.send), dst); err != nil {
			t.Fatal(err)
		}
		recv.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := recv.ReadFrom(buf)
		if err != nil || string(buf[:n]) != tc.want {
			t.Fatalf("sent %q, received %q (%v), want %q", tc.send, buf[:n], err, tc.want)
		}
		p := <-seen
		if p.Hook != nfqueue.HookOutput || p.OutDev != 1 || p.InDev != 0 || !p.HasUID || p.UID != uint32(os.Geteuid()) || !p.HasGID {
			t.Errorf("metadata %+v", p)
		}
	}
	// The repeated packet was not queued a second time: its new mark
	// made the rule skip it.
	select {
	case p := <-seen:
		t.Errorf("packet queued again: %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
}
