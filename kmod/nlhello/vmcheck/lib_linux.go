package main

// Helpers on the nlkit library: package hello for what a user does, and
// netlink.Conn's Send and Receive for checks of the wire format.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// timeout returns a context that ends after d (2 s if d is 0).
func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		d = 2 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// client opens a hello.Client on the module's protocol.
func client(e *env) (*hello.Client, error) { return hello.Dial(e.protocol, nil) }

// genericClient opens a hello.GenericClient.
func genericClient() (*hello.GenericClient, error) {
	ctx, cancel := timeout(0)
	defer cancel()
	return hello.DialGeneric(ctx, nil)
}

// stats reads the counters through the raw protocol.
func stats(c *hello.Client) (hello.Stats, error) {
	ctx, cancel := timeout(0)
	defer cancel()
	return c.Stats(ctx)
}

// sayHello says hello and checks the answer.
func sayHello(c interface {
	Hello(context.Context, string) (string, error)
}, text string) error {
	ctx, cancel := timeout(0)
	defer cancel()
	reply, err := c.Hello(ctx, text)
	if err != nil {
		return err
	}
	if reply != hello.ReplyText {
		return fmt.Errorf("hello reply %q, want %q", reply, hello.ReplyText)
	}
	return nil
}

// conn opens a bare library Conn on the module's protocol (extended acks
// on, sender checks on), for checks of the wire format.
func conn(e *env) (*netlink.Conn, error) { return netlink.Dial(e.protocol, nil) }

func fmtMsg(m netlink.Message) string {
	h := m.Header
	return fmt.Sprintf("{len=%d type=%v flags=%v seq=%d pid=%d payload=%d bytes}", h.Length, h.Type, h.Flags, h.Sequence, h.PID, len(m.Data))
}

// exchange sends m as it is (Conn.Send fills in a zero sequence and the
// port) and returns it as sent and the messages of the next datagram.
func exchange(c *netlink.Conn, m netlink.Message) (netlink.Message, []netlink.Message, error) {
	sent, err := c.Send(m)
	if err != nil {
		return sent, nil, err
	}
	got, err := receive(c)
	return sent, got, err
}

// receive returns the messages of the next datagram from the kernel.
func receive(c *netlink.Conn) ([]netlink.Message, error) {
	ctx, cancel := timeout(0)
	defer cancel()
	return c.Receive(ctx)
}

// receiveOne returns the next datagram, which must hold one message.
func receiveOne(c *netlink.Conn) (netlink.Message, error) {
	ms, err := receive(c)
	if err != nil {
		return netlink.Message{}, err
	}
	if len(ms) != 1 {
		return netlink.Message{}, fmt.Errorf("want one message in the datagram, got %d", len(ms))
	}
	return ms[0], nil
}

// nothingMore fails if a datagram arrives within d.
func nothingMore(c *netlink.Conn, d time.Duration) error {
	ctx, cancel := timeout(d)
	defer cancel()
	ms, err := c.Receive(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("expected nothing, got error %w", err)
	}
	var s []string
	for _, m := range ms {
		s = append(s, fmtMsg(m))
	}
	return fmt.Errorf("expected nothing, got %v", s)
}

// checkAck checks that m is the NLMSG_ERROR answering req (as sent) with
// errno want (0: an acknowledgement) and returns its content. An error
// echoes the request's payload unless capped; an ack never does.
func checkAck(m netlink.Message, req netlink.Message, want syscall.Errno) (netlink.AckInfo, error) {
	if m.Header.Type != netlink.Error {
		return netlink.AckInfo{}, fmt.Errorf("want NLMSG_ERROR, got %s", fmtMsg(m))
	}
	info, err := netlink.ParseAck(m.Header.Flags, m.Data)
	if err != nil {
		return info, err
	}
	seq := req.Header.Sequence
	if m.Header.Sequence != seq || info.Request.Sequence != seq || info.Request.Type != req.Header.Type {
		return info, fmt.Errorf("error seq %d answering seq %d type %v; want seq %d type %v",
			m.Header.Sequence, info.Request.Sequence, info.Request.Type, seq, req.Header.Type)
	}
	if info.Errno != want {
		return info, fmt.Errorf("got errno %d (%v) %q, want %d (%v)", info.Errno, info.Errno, info.Message, want, want)
	}
	if want != 0 && m.Header.Flags&netlink.Capped == 0 && len(req.Data) > 0 {
		echo := m.Data[4+netlink.HeaderLen:]
		if len(echo) < len(req.Data) || !bytes.Equal(echo[:len(req.Data)], req.Data) {
			return info, fmt.Errorf("error does not echo the request's payload %q", req.Data)
		}
	}
	if want == 0 && m.Header.Flags&netlink.Capped == 0 {
		return info, fmt.Errorf("ack %s not capped", fmtMsg(m))
	}
	return info, nil
}

// expectErr sends req and expects exactly one answer: an NLMSG_ERROR with
// errno want.
func expectErr(c *netlink.Conn, req netlink.Message, want syscall.Errno) (netlink.AckInfo, error) {
	sent, got, err := exchange(c, req)
	if err != nil {
		return netlink.AckInfo{}, err
	}
	if len(got) != 1 {
		return netlink.AckInfo{}, fmt.Errorf("want one answer, got %d messages", len(got))
	}
	info, err := checkAck(got[0], sent, want)
	if err != nil {
		return info, err
	}
	return info, nothingMore(c, 50*time.Millisecond)
}

// checkHelloMsg checks a raw hello reply byte by byte (README: "HELLO
// reply"): 26 bytes, flags 0, the request's sequence, port 0.
func checkHelloMsg(m netlink.Message, seq uint32) error {
	h := m.Header
	if h.Type != hello.MsgHello || h.Sequence != seq || h.PID != 0 || h.Flags != 0 ||
		h.Length != netlink.HeaderLen+10 || string(m.Data) != hello.ReplyText+"\x00" {
		return fmt.Errorf("hello reply %s %q; want type 0x10 seq %d pid 0 flags 0 len 26 payload %q",
			fmtMsg(m), m.Data, seq, hello.ReplyText+"\x00")
	}
	return nil
}

// genlFamily resolves the family through the library.
func genlFamily(g *hello.GenericClient) (*genl.Family, error) {
	ctx, cancel := timeout(0)
	defer cancel()
	f, err := g.Family(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := f.Group(hello.FamilyGroupPackets); err != nil {
		return nil, err
	}
	return f, nil
}

// statsEqual compares counters, naming the first difference.
func statsEqual(got, want hello.Stats) error {
	w := want.Counters()
	for i, c := range got.Counters() {
		if c.Value != w[i].Value {
			return fmt.Errorf("%v = %d, want %d (all: %v)", c.Attr, c.Value, w[i].Value, fmtStats(got))
		}
	}
	return nil
}

func fmtStats(s hello.Stats) string {
	var b bytes.Buffer
	for i, c := range s.Counters() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v=%d", c.Attr, c.Value)
	}
	return b.String()
}
