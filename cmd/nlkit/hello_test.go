package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/hello/hellotest"
)

func testApp(json bool) (*app, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &app{out: &out, errOut: &errOut, json: json}, &out
}

func helloCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clients returns a raw and a generic netlink client of one fake module.
func clients(t *testing.T, m *hellotest.Module) map[string]helloService {
	t.Helper()
	raw, err := m.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.DialGeneric(helloCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close(); g.Close() })
	return map[string]helloService{"raw": raw, "genl": g}
}

func TestHelloSay(t *testing.T) {
	m := hellotest.New(nil)
	for name, c := range clients(t, m) {
		a, out := testApp(false)
		if err := helloSay(helloCtx(t), a, c, "Hello world"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.String() != "Thank you\n" {
			t.Errorf("%s: printed %q", name, out)
		}
		a, out = testApp(true)
		if err := helloSay(helloCtx(t), a, c, "Hi"); err != nil {
			t.Fatal(err)
		}
		if out.String() != `{"reply":"Thank you"}`+"\n" {
			t.Errorf("%s -j: printed %q", name, out)
		}
	}
}

func TestHelloStats(t *testing.T) {
	m := hellotest.New(nil)
	for name, c := range clients(t, m) {
		a, out := testApp(false)
		if err := helloStats(helloCtx(t), a, c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 8 || strings.Fields(lines[0])[0] != "COUNTER" || strings.Fields(lines[1])[0] != "msgs_received" ||
			strings.Fields(lines[7])[0] != "packets_dropped_nomem" {
			t.Errorf("%s: table\n%s", name, out)
		}

		a, out = testApp(true)
		if err := helloStats(helloCtx(t), a, c); err != nil {
			t.Fatal(err)
		}
		var got map[string]uint64
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v: %s", name, err, out)
		}
		want := m.Stats()
		want.RepliesSent-- // the reply to this request is counted after the snapshot
		if len(got) != 7 || got["msgs_received"] != want.MsgsReceived || got["replies_sent"] != want.RepliesSent ||
			got["packets_dropped_buffer_full"] != 0 {
			t.Errorf("%s: JSON %v, module %+v", name, got, want)
		}
	}
}

func TestHelloWatch(t *testing.T) {
	m := hellotest.New(&hellotest.Config{IfIndex: 2})
	names := func(_ context.Context, i int32) string {
		if i == 2 {
			return "my_if0"
		}
		return ""
	}
	for _, jsonOut := range []bool{false, true} {
		sub, err := m.Watch(nil)
		if err != nil {
			t.Fatal(err)
		}
		stats, err := m.Dial(nil)
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Date(2025, 11, 28, 5, 38, 0, 123456000, time.UTC)
		// An overrun is reported before what is queued, as the kernel does.
		m.InjectPacket(hello.Packet{Protocol: 0x0800, Timestamp: ts, Data: bytes.Repeat([]byte{0x45}, 40)})
		m.Endpoint().Overrun(sub.Conn().PortID())
		m.InjectPacket(hello.Packet{Protocol: 0x1234, IfIndex: 9, Timestamp: ts, Data: []byte{1, 2}})
		m.InjectPacket(hello.Packet{Data: []byte{3}}) // not printed: -c 2

		a, out := testApp(jsonOut)
		if err := helloWatch(helloCtx(t), a, sub, stats, names, 2); err != nil {
			t.Fatal(err)
		}
		sub.Close()
		stats.Close()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("json=%v: %d lines:\n%s", jsonOut, len(lines), out)
		}
		if !jsonOut {
			want := []string{
				"lost: receive buffer overrun, packets were dropped",
				"2025-11-28T05:38:00.123456Z my_if0(2) len 40 proto 0x0800 ipv4 data 45454545454545454545454545454545...",
				"2025-11-28T05:38:00.123456Z if9 len 2 proto 0x1234 data 0102",
			}
			for i := range want {
				if lines[i] != want[i] {
					t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
				}
			}
			continue
		}
		var p0, p2 packetJSON
		var lost map[string]any
		for i, v := range []any{&lost, &p0, &p2} {
			if err := json.Unmarshal([]byte(lines[i]), v); err != nil {
				t.Fatalf("line %d %q: %v", i, lines[i], err)
			}
		}
		if p0.IfName != "my_if0" || p0.IfIndex != 2 || p0.Len != 40 || p0.CapLen != 40 || p0.Protocol != "0x0800" ||
			p0.ProtocolName != "ipv4" || p0.Data != strings.Repeat("45", 40) || p0.Time != "2025-11-28T05:38:00.123456Z" {
			t.Errorf("first packet %+v", p0)
		}
		if lost["lost"] != true {
			t.Errorf("lost line %v", lost)
		}
		if p2.IfName != "" || p2.IfIndex != 9 || p2.Data != "0102" || p2.ProtocolName != "" {
			t.Errorf("second packet %+v", p2)
		}
	}
}

func TestHelloWatchStopsOnCancel(t *testing.T) {
	m := hellotest.New(nil)
	sub, err := m.Watch(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, out := testApp(false)
	if err := helloWatch(ctx, a, sub, nil, func(context.Context, int32) string { return "" }, 0); err != nil {
		t.Errorf("Ctrl-C: %v, want a clean end", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out)
	}
}

func TestHelloBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"hello", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"hello", "--protocol", "32"}, "--protocol 32: want a"},
		{[]string{"hello", "--protocol", "-1", "stats"}, "--protocol -1: want a"},
		{[]string{"hello", "--protocol", "x"}, `invalid argument "x"`},
		{[]string{"hello", "--genl", "--protocol", "30"}, "--protocol and --genl exclude each other"},
		{[]string{"hello", "stats", "extra"}, `unknown command "extra"`},
		{[]string{"hello", "watch", "-c", "-1"}, "-c -1: want a number of packets"},
		{[]string{"hello", "watch", "--rcvbuf", "-5"}, "--rcvbuf -5"},
		{[]string{"hello", "--frobnicate"}, "unknown flag: --frobnicate"},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want an error containing %q", tt.args, code, errOut, out, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: stack trace: %s", tt.args, errOut)
		}
	}
	out, _, code := nlkit(t, "hello", "--help")
	if code != 0 || !strings.Contains(out, "nlkit hello stats") || !strings.Contains(out, "--genl") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}
