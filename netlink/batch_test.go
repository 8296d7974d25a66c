package netlink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// batchKernel records what the fake kernel saw of a batch and fails the
// messages whose payload is "fail".
type batchKernel struct {
	datagrams [][]netlink.Header // requests, grouped by datagram
	lastSeq   uint32
	capAck    bool
}

func (k *batchKernel) input(r *nltest.Request) error {
	h := r.Message.Header
	// A new datagram starts after a message that asked for an ack.
	if len(k.datagrams) == 0 || k.lastAcked() {
		k.datagrams = append(k.datagrams, nil)
	}
	k.datagrams[len(k.datagrams)-1] = append(k.datagrams[len(k.datagrams)-1], h)
	k.lastSeq = h.Sequence
	if string(r.Message.Data) == "fail" {
		return &nltest.Error{Errno: syscall.EEXIST, Message: "exists"}
	}
	return nil
}

func (k *batchKernel) lastAcked() bool {
	d := k.datagrams[len(k.datagrams)-1]
	return d[len(d)-1].Flags&netlink.Acknowledge != 0
}

func batchMsgs(n int, fail ...int) []netlink.Message {
	msgs := make([]netlink.Message, n)
	for i := range msgs {
		msgs[i] = fakeMsg(typeSet, fmt.Sprint(i))
	}
	for _, i := range fail {
		msgs[i].Data = []byte("fail")
	}
	return msgs
}

func TestExecuteBatch(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		fail      []int
		opts      *netlink.BatchOptions
		wantSent  int
		wantFails []int
		wantDgram []int // messages per datagram
	}{
		{name: "all succeed", n: 10, wantSent: 10, wantDgram: []int{10}},
		{name: "empty", n: 0, wantSent: 0},
		{name: "split by MaxMessages", n: 10, opts: &netlink.BatchOptions{MaxMessages: 4}, wantSent: 10, wantDgram: []int{4, 4, 2}},
		{name: "split by MaxBytes", n: 10, opts: &netlink.BatchOptions{MaxBytes: 60}, wantSent: 10, wantDgram: []int{3, 3, 3, 1}},
		{
			name: "keep going", n: 10, fail: []int{2, 9}, opts: &netlink.BatchOptions{KeepGoing: true, MaxMessages: 4},
			wantSent: 10, wantFails: []int{2, 9}, wantDgram: []int{4, 4, 2},
		},
		{
			name: "stop after the failing datagram", n: 10, fail: []int{5, 6}, opts: &netlink.BatchOptions{MaxMessages: 4},
			wantSent: 8, wantFails: []int{5, 6}, wantDgram: []int{4, 4},
		},
		{
			name: "strict", n: 10, fail: []int{3}, opts: &netlink.BatchOptions{MaxMessages: 1},
			wantSent: 4, wantFails: []int{3}, wantDgram: []int{1, 1, 1, 1},
		},
		{name: "last of a datagram fails", n: 4, fail: []int{3}, wantSent: 4, wantFails: []int{3}, wantDgram: []int{4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &batchKernel{}
			ep := nltest.NewEndpoint(testProto, nltest.Config{Input: k.input})
			c := dialFake(t, ep, nil)
			msgs := batchMsgs(tc.n, tc.fail...)
			type out struct {
				sent int
				err  error
			}
			r := mustReturn(t, func() out {
				sent, err := c.ExecuteBatch(context.Background(), msgs, tc.opts)
				return out{sent, err}
			})
			if r.sent != tc.wantSent {
				t.Errorf("sent %d, want %d", r.sent, tc.wantSent)
			}
			var sizes []int
			for _, d := range k.datagrams {
				sizes = append(sizes, len(d))
				for i, h := range d {
					wantAck := i == len(d)-1
					if h.Flags&netlink.Request == 0 || (h.Flags&netlink.Acknowledge != 0) != wantAck {
						t.Errorf("message %d of a datagram has flags %v (last: %v)", i, h.Flags, wantAck)
					}
					if h.PID != c.PortID() || h.Sequence == 0 {
						t.Errorf("message header %+v", h)
					}
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.wantDgram) && !(len(sizes) == 0 && len(tc.wantDgram) == 0) {
				t.Errorf("datagrams of %v messages, want %v", sizes, tc.wantDgram)
			}
			if len(tc.wantFails) == 0 {
				if r.err != nil {
					t.Fatalf("ExecuteBatch: %v", r.err)
				}
			} else {
				var be *netlink.BatchError
				if !errors.As(r.err, &be) {
					t.Fatalf("ExecuteBatch: %#v, want a *BatchError", r.err)
				}
				var idx []int
				for _, f := range be.Failures {
					idx = append(idx, f.Index)
					var oe *netlink.OpError
					if !errors.As(f.Err, &oe) || oe.Message != "exists" {
						t.Errorf("failure %d: %#v", f.Index, f.Err)
					}
				}
				if fmt.Sprint(idx) != fmt.Sprint(tc.wantFails) || be.Sent != tc.wantSent || be.Total != tc.n {
					t.Errorf("failures at %v, sent %d of %d; want %v, %d of %d", idx, be.Sent, be.Total, tc.wantFails, tc.wantSent, tc.n)
				}
				if !errors.Is(r.err, syscall.EEXIST) {
					t.Errorf("errors.Is(%v, EEXIST) = false", r.err)
				}
				if !strings.Contains(r.err.Error(), fmt.Sprintf("message %d:", tc.wantFails[0])) {
					t.Errorf("error text %q does not name message %d", r.err, tc.wantFails[0])
				}
			}
			// Errors stay small: the batch turned on NETLINK_CAP_ACK.
			if on, err := c.GetOption(netlink.CapAck); err != nil || !on {
				t.Errorf("CapAck = %v, %v", on, err)
			}
			// And the Conn is usable afterwards.
			if _, err := executeT(t, c, context.Background(), fakeMsg(typeSet, "after")); err != nil {
				t.Fatalf("Execute after the batch: %v", err)
			}
		})
	}
}

func TestBatchErrorText(t *testing.T) {
	e := &netlink.BatchError{
		Failures: []netlink.BatchFailure{{Index: 3, Err: &netlink.OpError{Op: "batch", Err: syscall.EEXIST, Offset: -1}}},
		Sent:     5, Total: 9,
	}
	want := "netlink batch: 1 of 5 messages failed, 4 not sent; first: message 3: netlink batch: file exists"
	if e.Error() != want {
		t.Errorf("Error() =\n%q\nwant\n%q", e.Error(), want)
	}
	if (&netlink.BatchError{}).Unwrap() != nil {
		t.Error("Unwrap of no failures is not nil")
	}
}

func TestExecuteBatchCancelled(t *testing.T) {
	k := &batchKernel{}
	ep := nltest.NewEndpoint(testProto, nltest.Config{Input: k.input})
	c := dialFake(t, ep, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mustReturn(t, func() error {
		_, err := c.ExecuteBatch(ctx, batchMsgs(3), nil)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ExecuteBatch on a cancelled context: %v", err)
	}
}
