package connector_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/connector/connectortest"
	"github.com/nlkit/nlkit/netlink"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func subscribe(t *testing.T, p *connectortest.Proc, filter connector.ProcEventType) *connector.ProcSubscription {
	t.Helper()
	c, err := p.Dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := connector.NewProcSubscription(ctxT(t), c, filter)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next reads n events from the stream.
func next(t *testing.T, sub *connector.ProcSubscription, n int) []connector.ProcEvent {
	t.Helper()
	var out []connector.ProcEvent
	for ev, err := range sub.Events(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
		if len(out) == n {
			break
		}
	}
	return out
}

var (
	forkEv = connector.ProcEvent{What: connector.ProcEventFork, Timestamp: 1, Fork: &connector.ForkEvent{ParentPID: 1, ParentTGID: 1, ChildPID: 50, ChildTGID: 50}}
	execEv = connector.ProcEvent{What: connector.ProcEventExec, Timestamp: 2, Exec: &connector.ExecEvent{PID: 50, TGID: 50}}
	exit0  = connector.ProcEvent{What: connector.ProcEventExit, Timestamp: 3, Exit: &connector.ExitEvent{PID: 50, TGID: 50, ExitSignal: 17, ParentPID: 1, ParentTGID: 1}}
	exit3  = connector.ProcEvent{What: connector.ProcEventExit, Timestamp: 4, Exit: &connector.ExitEvent{PID: 51, TGID: 51, Code: 3 << 8, ExitSignal: 17, ParentPID: 1, ParentTGID: 1}}
)

func TestSubscribe(t *testing.T) {
	p := connectortest.New(nil)
	if n, _ := p.Emit(forkEv); n != 0 || p.Listeners() != 0 {
		t.Fatalf("events delivered (%d) or listeners (%d) before anyone subscribed", n, p.Listeners())
	}
	sub := subscribe(t, p, 0)
	if p.Listeners() != 1 {
		t.Fatalf("%d listeners after subscribing, want 1", p.Listeners())
	}
	reqs := p.Requests()
	if len(reqs) != 1 || !reqs[0].Listen || reqs[0].Filter != 0 {
		t.Fatalf("requests %+v, want one bare LISTEN", reqs)
	}
	if _, err := p.Emit(forkEv, execEv, exit0); err != nil {
		t.Fatal(err)
	}
	got := next(t, sub, 3)
	if want := []connector.ProcEvent{forkEv, execEv, exit0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Listeners() != 0 {
		t.Fatalf("%d listeners after Close, want 0 (IGNORE not sent?)", p.Listeners())
	}
	if reqs := p.Requests(); len(reqs) != 2 || reqs[1].Listen {
		t.Fatalf("requests %+v, want LISTEN then IGNORE", reqs)
	}
}

// Another listener's acknowledgement is an event; ours is not.
func TestOtherListenersAck(t *testing.T) {
	p := connectortest.New(nil)
	sub := subscribe(t, p, 0)
	subscribe(t, p, 0)
	got := next(t, sub, 1)
	if got[0].What != connector.ProcEventNone || got[0].Ack == nil || got[0].Ack.Err != 0 {
		t.Fatalf("got %+v, want the other subscription's ack", got[0])
	}
	if p.Listeners() != 2 {
		t.Fatalf("%d listeners", p.Listeners())
	}
}

// The subscription is acknowledged without a filter (the kernel filters
// its own acknowledgements), then the filter is set.
func TestSubscribeFilter(t *testing.T) {
	p := connectortest.New(nil)
	sub := subscribe(t, p, connector.ProcEventNonzeroExit)
	reqs := p.Requests()
	if len(reqs) != 2 || !reqs[0].Listen || reqs[0].Filter != 0 || !reqs[1].Listen || reqs[1].Filter != connector.ProcEventNonzeroExit {
		t.Fatalf("requests %+v, want a bare LISTEN, then one with the filter", reqs)
	}
	if p.Listeners() != 1 {
		t.Fatalf("%d listeners, want 1", p.Listeners())
	}
	subscribe(t, p, 0) // its ack is filtered out too
	if _, err := p.Emit(forkEv, execEv, exit0, exit3); err != nil {
		t.Fatal(err)
	}
	if got := next(t, sub, 1); !reflect.DeepEqual(got[0], exit3) {
		t.Fatalf("got %+v, want only the non-zero exit", got[0])
	}
	all := subscribe(t, p, connector.ProcEventExit|connector.ProcEventFork)
	if _, err := p.Emit(forkEv, execEv, exit0); err != nil {
		t.Fatal(err)
	}
	if got := next(t, all, 2); !reflect.DeepEqual(got, []connector.ProcEvent{forkEv, exit0}) {
		t.Fatalf("got %+v, want the fork and the exit", got)
	}
}

// A kernel that ignores filters (before 6.6) gives the same stream: the
// subscription filters too.
func TestSubscribeFilterOldKernel(t *testing.T) {
	p := connectortest.New(&connectortest.Config{IgnoreFilters: true})
	sub := subscribe(t, p, connector.ProcEventExec)
	if _, err := p.Emit(forkEv, exit0, execEv); err != nil {
		t.Fatal(err)
	}
	if got := next(t, sub, 1); !reflect.DeepEqual(got[0], execEv) {
		t.Fatalf("got %+v, want only the exec", got[0])
	}
}

func TestSubscribeAckError(t *testing.T) {
	p := connectortest.New(&connectortest.Config{AckErr: syscall.EPERM})
	c, _ := p.Dial(nil)
	defer c.Close()
	_, err := connector.NewProcSubscription(ctxT(t), c, 0)
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("error %v, want EPERM", err)
	}
}

// Without an acknowledgement, the caller's deadline ends the wait.
func TestSubscribeNoAck(t *testing.T) {
	p := connectortest.New(&connectortest.Config{Silent: true})
	c, _ := p.Dial(nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := connector.NewProcSubscription(ctx, c, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's deadline", err)
	}
}

// An overrun is reported as a Lost event and the stream goes on.
func TestOverrun(t *testing.T) {
	p := connectortest.New(nil)
	sub := subscribe(t, p, 0)
	if _, err := p.Emit(forkEv); err != nil {
		t.Fatal(err)
	}
	got := next(t, sub, 1)
	p.Overrun()
	if _, err := p.Emit(execEv); err != nil {
		t.Fatal(err)
	}
	got = append(got, next(t, sub, 2)...)
	if !reflect.DeepEqual(got[0], forkEv) || !got[1].Lost || !reflect.DeepEqual(got[2], execEv) {
		t.Fatalf("got %+v, want fork, lost, exec", got)
	}
}

// A full receive buffer drops events and the reader learns of it.
func TestBufferFull(t *testing.T) {
	p := connectortest.New(nil)
	c, err := p.Dial(&netlink.Config{ReceiveBuffer: 256})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := connector.NewProcSubscription(ctxT(t), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 20 {
		if _, err := p.Emit(execEv); err != nil {
			t.Fatal(err)
		}
	}
	// 512 bytes hold six 76-byte datagrams; then the buffer overflows.
	n := 0
	for ev, err := range sub.Events(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Lost {
			break
		}
		if n++; n > 6 {
			t.Fatal("more events than the buffer holds, and nothing lost")
		}
	}
}

func TestEventsEndsOnClose(t *testing.T) {
	p := connectortest.New(nil)
	sub := subscribe(t, p, 0)
	done := make(chan error, 1)
	go func() {
		for _, err := range sub.Events(context.Background()) {
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	sub.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Events ended with %v, want net.ErrClosed", err)
	}
}

func TestEventsEndsWithContext(t *testing.T) {
	p := connectortest.New(nil)
	sub := subscribe(t, p, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range sub.Events(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		return
	}
	t.Fatal("stream ended without an error")
}
