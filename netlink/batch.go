package netlink

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// BatchOptions tune ExecuteBatch.
type BatchOptions struct {
	// KeepGoing sends every message even after failures. By default
	// sending stops after the datagram in which the first failure
	// happened (see ExecuteBatch for what that means exactly).
	KeepGoing bool
	// MaxMessages caps the messages packed into one datagram; 0 picks a
	// size whose worst case (every message failing) fits the receive
	// buffer, so no error can be lost to an overrun.
	MaxMessages int
	// MaxBytes caps a datagram's size; 0 means 64 KiB, which the kernel's
	// default send buffer always accepts.
	MaxBytes int
}

// BatchFailure is one failed message of a batch.
type BatchFailure struct {
	// Index of the message in the slice given to ExecuteBatch.
	Index int
	// Err is the kernel's error (*OpError with the errno and extended
	// ack).
	Err error
}

// BatchError reports the failures of a batch. errors.Is and errors.As
// see the first failure's error.
type BatchError struct {
	Failures []BatchFailure
	// Sent is how many messages were sent (and so processed by the
	// kernel); Total is how many were given.
	Sent, Total int
}

func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netlink batch: %d of %d messages failed", len(e.Failures), e.Sent)
	if e.Sent < e.Total {
		fmt.Fprintf(&b, ", %d not sent", e.Total-e.Sent)
	}
	if len(e.Failures) > 0 {
		fmt.Fprintf(&b, "; first: message %d: %v", e.Failures[0].Index, e.Failures[0].Err)
	}
	return b.String()
}

// Unwrap returns the first failure's error.
func (e *BatchError) Unwrap() error {
	if len(e.Failures) == 0 {
		return nil
	}
	return e.Failures[0].Err
}

// ackTruesize is a generous estimate of the receive-buffer cost of one
// error or acknowledgement (a small skb's truesize).
const ackTruesize = 1024

// ExecuteBatch sends many requests with few system calls: msgs are packed
// into datagrams, each message flagged NLM_F_REQUEST, and only the last
// of each datagram asks for an acknowledgement. The kernel processes a
// datagram's messages in order and answers each failure with an error
// carrying that message's sequence number, so every failure is matched
// to its message, and the final acknowledgement says the datagram is
// done. NETLINK_CAP_ACK is turned on so that errors stay small.
//
// It returns the number of messages sent and, if any failed, a
// *BatchError listing each failure by index. Without KeepGoing, no
// datagram is sent after one that had a failure; but the kernel does not
// stop inside a datagram, so messages after the first failure in the same
// datagram were processed too (they are counted in Sent, and their own
// failures listed). Set MaxMessages to 1 for strict stop-at-first-error
// semantics at the price of one round trip per message.
//
// Messages must be requests that produce no reply but an acknowledgement
// (new, set and delete requests); replies to other requests are skipped.
//
// Each datagram is sent after the previous one's acknowledgement is read.
// Sending ahead would gain nothing: the kernel processes a datagram
// inside sendmsg, so its acknowledgement is already queued when the send
// returns, and past about a hundred messages per datagram the time is the
// kernel's own work on each message (see BENCHMARKS.md).
func (c *Conn) ExecuteBatch(ctx context.Context, msgs []Message, opts *BatchOptions) (int, error) {
	if opts == nil {
		opts = &BatchOptions{}
	}
	if err := c.lock(ctx); err != nil {
		return 0, c.opErr("batch", 0, err) // send nothing
	}
	defer c.unlock()
	done := c.watch(ctx)
	sent, failures, err := c.executeBatch(msgs, opts)
	if err = done(err); err != nil {
		return sent, c.opErr("batch", 0, err)
	}
	if len(failures) > 0 {
		return sent, &BatchError{Failures: failures, Sent: sent, Total: len(msgs)}
	}
	return sent, nil
}

func (c *Conn) executeBatch(msgs []Message, opts *BatchOptions) (int, []BatchFailure, error) {
	if err := c.drain(); err != nil {
		return 0, nil, err
	}
	_ = c.SetOption(CapAck, true) // best effort: only error size depends on it
	maxMsgs := opts.MaxMessages
	if maxMsgs <= 0 {
		maxMsgs = 256
		if rb, err := c.ReceiveBuffer(); err == nil && rb/ackTruesize > maxMsgs {
			maxMsgs = rb / ackTruesize
		}
	}
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 10
	}
	var failures []BatchFailure
	var buf []byte
	sent := 0
	for sent < len(msgs) {
		if len(failures) > 0 && !opts.KeepGoing {
			break
		}
		// Pack one datagram.
		buf = buf[:0]
		start := sent
		first := uint32(0)
		end := start
		for end < len(msgs) && end-start < maxMsgs {
			m := msgs[end]
			if end > start && len(buf)+HeaderLen+Align(len(m.Data)) > maxBytes {
				break
			}
			m.Header.Flags |= Request
			m.Header.Flags &^= Acknowledge
			m.Header.Sequence = c.seq.Add(1)
			if m.Header.Sequence == 0 {
				m.Header.Sequence = c.seq.Add(1)
			}
			if end == start {
				first = m.Header.Sequence
			}
			m.Header.PID = c.port
			var err error
			if buf, err = m.AppendBinary(buf); err != nil {
				return sent, failures, fmt.Errorf("message %d: %w", end, err)
			}
			end++
		}
		// Ask for an acknowledgement of the last message only.
		last := buf[lastHeaderOffset(buf):]
		flags := HeaderFlags(nativeUint16(last[6:8])) | Acknowledge
		putNativeUint16(last[6:8], uint16(flags))
		lastSeq := nativeUint32(last[8:12])
		c.debug.datagram("send", buf, Addr{})
		if err := c.sock.Send(buf); err != nil {
			return sent, failures, err
		}
		sent = end
		// Sequence numbers of one datagram are consecutive unless another
		// goroutine called Send meanwhile; map them back by range and
		// check the range is dense.
		if lastSeq-first != uint32(end-start-1) {
			return sent, failures, errors.New("sequence numbers interleaved with a concurrent Send")
		}
		if err := c.awaitBatch(first, lastSeq, start, &failures); err != nil {
			return sent, failures, err
		}
	}
	return sent, failures, nil
}

// awaitBatch reads errors and the final acknowledgement of one datagram
// whose messages carry sequences first..last and start at index start.
func (c *Conn) awaitBatch(first, last uint32, start int, failures *[]BatchFailure) error {
	for {
		b, from, err := c.read()
		if err != nil {
			if errors.Is(err, ErrOverrun) {
				return fmt.Errorf("acknowledgements lost, the outcome of some messages is unknown: %w", err)
			}
			return err
		}
		if from.Groups != 0 {
			c.queueMulticast(b)
			continue
		}
		var p Parser
		p.Reset(b)
		for p.Next() {
			r := p.Message()
			seq := r.Header.Sequence
			if seq-first > last-first || (r.Header.PID != 0 && r.Header.PID != c.port) {
				c.staleN.Add(1)
				continue
			}
			if r.Header.Type != Error {
				continue // a reply (echo); not expected, harmless
			}
			if err := c.ackError("batch", r); err != nil {
				*failures = append(*failures, BatchFailure{Index: start + int(seq-first), Err: err})
			}
			if seq == last {
				return nil
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
	}
}

// lastHeaderOffset returns the offset of the last message in a buffer of
// well-formed messages built by AppendBinary.
func lastHeaderOffset(b []byte) int {
	off := 0
	for {
		n := Align(int(nativeUint32(b[off:])))
		if off+n >= len(b) {
			return off
		}
		off += n
	}
}
