package netlink_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// Seeds shaped like real traffic: an rtnetlink link message (struct
// ifinfomsg and attributes with a nest), a dump datagram, acks and errors.

const (
	rtmNewLink    = 16 // RTM_NEWLINK
	rtmGetLink    = 18 // RTM_GETLINK
	iflaAddress   = 1  // IFLA_ADDRESS
	iflaIfname    = 3  // IFLA_IFNAME
	iflaMTU       = 4  // IFLA_MTU
	iflaLinkinfo  = 18 // IFLA_LINKINFO
	iflaInfoKind  = 1  // IFLA_INFO_KIND
	iflaInfoData  = 2  // IFLA_INFO_DATA
	vethInfoPeer  = 1  // VETH_INFO_PEER
	iflaAFSpec    = 26 // IFLA_AF_SPEC
	ifaAddressAtt = 1  // IFA_ADDRESS
)

func seedLinkAttrs() []byte {
	var e netlink.AttributeEncoder
	e.String(iflaIfname, "veth0")
	e.Uint32(iflaMTU, 1500)
	e.Bytes(iflaAddress, []byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x02})
	e.Nested(iflaLinkinfo, func(e *netlink.AttributeEncoder) {
		e.String(iflaInfoKind, "veth")
		e.Nested(iflaInfoData, func(e *netlink.AttributeEncoder) {
			e.Nested(vethInfoPeer, func(e *netlink.AttributeEncoder) {
				e.Bytes(0, make([]byte, 16)) // struct ifinfomsg of the peer
				e.String(iflaIfname, "veth1")
			})
		})
	})
	e.Nested(iflaAFSpec, func(e *netlink.AttributeEncoder) {
		e.Addr(ifaAddressAtt, netip.MustParseAddr("192.0.2.7"))
		e.Addr(ifaAddressAtt, netip.MustParseAddr("2001:db8::7"))
		e.Uint64(7, 1<<40)
		e.Uint16BE(8, 8080)
		e.Flag(9, true)
		e.Uint8(10, 1)
	})
	b, err := e.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

func seedLinkMessage(seq uint32, flags netlink.HeaderFlags) []byte {
	ifi := make([]byte, 16) // struct ifinfomsg: family, type, index, flags, change
	binary.NativeEndian.PutUint16(ifi[2:], 1)
	binary.NativeEndian.PutUint32(ifi[4:], 2)
	binary.NativeEndian.PutUint32(ifi[8:], 0x1043) // IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST
	return wireMessage(rtmNewLink, uint16(flags), seq, 4000, append(ifi, seedLinkAttrs()...))
}

func seedAck(errno syscall.Errno, capped bool, info netlink.AckInfo) (netlink.HeaderFlags, []byte) {
	req := netlink.Message{
		Header: netlink.Header{Type: rtmGetLink, Flags: netlink.Request | netlink.Acknowledge, Sequence: 9, PID: 4000},
		Data:   make([]byte, 16),
	}
	info.Errno = errno
	b, flags := netlink.MarshalAck(req, info, capped)
	return flags, b
}

func FuzzParser(f *testing.F) {
	dump := bytes.Join([][]byte{
		seedLinkMessage(7, netlink.Multi),
		seedLinkMessage(7, netlink.Multi|netlink.DumpIntr),
		wireMessage(uint16(netlink.Done), uint16(netlink.Multi), 7, 4000, []byte{0, 0, 0, 0}),
	}, nil)
	f.Add(dump)
	f.Add(dump[:len(dump)-2])
	f.Add(seedLinkMessage(1, 0))
	flags, ack := seedAck(syscall.ENOENT, false, netlink.AckInfo{Message: "no such device", Offset: 20})
	f.Add(wireMessage(uint16(netlink.Error), uint16(flags), 9, 4000, ack))
	f.Add(wireHeader(0, 0, 0, 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p netlink.Parser
		p.Reset(b)
		var again []byte
		var msgs []netlink.Message
		for p.Next() {
			m := p.Message()
			msgs = append(msgs, m)
			if int(m.Header.Length) != netlink.HeaderLen+len(m.Data) || int(m.Header.Length) > len(b) {
				t.Fatalf("header length %d for %d bytes of data in a %d-byte buffer", m.Header.Length, len(m.Data), len(b))
			}
			enc, err := m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary of a parsed message: %v", err)
			}
			var m2 netlink.Message
			if err := m2.UnmarshalBinary(enc); err != nil {
				t.Fatalf("UnmarshalBinary of a marshalled message: %v", err)
			}
			if m2.Header != m.Header || !bytes.Equal(m2.Data, m.Data) {
				t.Fatalf("round trip changed %+v % x into %+v % x", m.Header, m.Data, m2.Header, m2.Data)
			}
			again = append(again, enc...)
		}
		if p.Err() == nil && len(msgs) > 0 && len(again) < len(b) {
			t.Fatalf("parsed %d bytes of %d without error", len(again), len(b))
		}
		// The re-encoded messages parse the same, and cleanly.
		msgs2, err := netlink.ParseMessages(again)
		if err != nil || len(msgs2) != len(msgs) {
			t.Fatalf("re-parse: %d messages, %v; want %d", len(msgs2), err, len(msgs))
		}
		for i := range msgs {
			if msgs2[i].Header != msgs[i].Header || !bytes.Equal(msgs2[i].Data, msgs[i].Data) {
				t.Fatalf("message %d differs after re-encoding", i)
			}
		}
		// ParseMessages agrees with Parser.
		msgs3, err3 := netlink.ParseMessages(b)
		if len(msgs3) != len(msgs) || (err3 == nil) != (p.Err() == nil) {
			t.Fatalf("ParseMessages = %d, %v; Parser = %d, %v", len(msgs3), err3, len(msgs), p.Err())
		}
		if err := p.Err(); err != nil && !errors.Is(err, netlink.ErrShortMessage) && !errors.Is(err, netlink.ErrBadLength) {
			t.Fatalf("unexpected error kind %v", err)
		}
	})
}

func FuzzMessageUnmarshal(f *testing.F) {
	f.Add(seedLinkMessage(1, netlink.Request|netlink.Acknowledge))
	f.Add(wireMessage(0x10, 1, 2, 3, []byte("a")))
	f.Add(wireMessage(0x10, 1, 2, 3, []byte("a"))[:17])
	f.Add(append(wireMessage(0x10, 1, 2, 3, nil), 0, 0, 0))
	f.Add(bytes.Repeat(wireMessage(0x10, 1, 2, 3, nil), 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m netlink.Message
		err := m.UnmarshalBinary(b)
		msgs, perr := netlink.ParseMessages(b)
		if single := len(msgs) == 1 && perr == nil; single != (err == nil) {
			t.Fatalf("UnmarshalBinary: %v, but ParseMessages found %d messages, %v", err, len(msgs), perr)
		}
		if err != nil {
			return
		}
		n := int(m.Header.Length)
		if n != netlink.HeaderLen+len(m.Data) || n > len(b) || len(b) > netlink.Align(n) {
			t.Fatalf("accepted %d bytes for a message of length %d", len(b), n)
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) != netlink.Align(n) || !bytes.Equal(enc[:n], b[:n]) {
			t.Fatalf("re-encoding\n% x\ndiffers from the input\n% x", enc, b)
		}
		var m2 netlink.Message
		if err := m2.UnmarshalBinary(enc); err != nil || m2.Header != m.Header || !bytes.Equal(m2.Data, m.Data) {
			t.Fatalf("round trip: %+v, %v", m2.Header, err)
		}
	})
}

// walkAttributes calls every accessor of d on each attribute, checking
// each against a decoding by hand, and recurses into nests.
func walkAttributes(t *testing.T, d *netlink.AttributeDecoder, depth int) {
	order := d.ByteOrder
	if order == nil {
		order = binary.NativeEndian
	}
	for d.Next() {
		data := d.Bytes()
		if d.Len() != len(data) || d.Type() != d.TypeWithFlags()&^(netlink.AttrNested|netlink.AttrNetByteOrder) {
			t.Fatalf("Len %d of %d bytes, Type %#x of %#x", d.Len(), len(data), d.Type(), d.TypeWithFlags())
		}
		check := func(name string, size int, get func(d *netlink.AttributeDecoder) uint64, want func() uint64) {
			cp := *d // accessors that fail stop the decoder: use a copy
			got := get(&cp)
			if len(data) == size {
				if cp.Err() != nil || got != want() {
					t.Fatalf("%s of % x = %#x, %v; want %#x", name, data, got, cp.Err(), want())
				}
			} else if got != 0 || !errors.Is(cp.Err(), netlink.ErrAttribute) || cp.Next() {
				t.Fatalf("%s of %d bytes = %#x, %v; want 0 and a sticky ErrAttribute", name, len(data), got, cp.Err())
			}
		}
		check("Uint8", 1, func(d *netlink.AttributeDecoder) uint64 { return uint64(d.Uint8()) }, func() uint64 { return uint64(data[0]) })
		check("Uint16", 2, func(d *netlink.AttributeDecoder) uint64 { return uint64(d.Uint16()) }, func() uint64 { return uint64(order.Uint16(data)) })
		check("Uint32", 4, func(d *netlink.AttributeDecoder) uint64 { return uint64(d.Uint32()) }, func() uint64 { return uint64(order.Uint32(data)) })
		check("Uint64", 8, func(d *netlink.AttributeDecoder) uint64 { return d.Uint64() }, func() uint64 { return order.Uint64(data) })
		check("Int32", 4, func(d *netlink.AttributeDecoder) uint64 { return uint64(uint32(d.Int32())) }, func() uint64 { return uint64(order.Uint32(data)) })
		check("Uint16BE", 2, func(d *netlink.AttributeDecoder) uint64 { return uint64(d.Uint16BE()) }, func() uint64 { return uint64(binary.BigEndian.Uint16(data)) })
		check("Uint32BE", 4, func(d *netlink.AttributeDecoder) uint64 { return uint64(d.Uint32BE()) }, func() uint64 { return uint64(binary.BigEndian.Uint32(data)) })
		check("Flag", 0, func(d *netlink.AttributeDecoder) uint64 {
			if d.Flag() {
				return 1
			}
			return 0
		}, func() uint64 { return 1 })

		cp := *d
		if s := cp.String(); !bytes.HasPrefix(data, []byte(s)) || bytes.IndexByte([]byte(s), 0) >= 0 || cp.Err() != nil {
			t.Fatalf("String of % x = %q, %v", data, s, cp.Err())
		}
		cp = *d
		a := cp.Addr()
		switch len(data) {
		case 4, 16:
			if !a.IsValid() || a.BitLen() != 8*len(data) || !bytes.Equal(a.AsSlice(), data) || cp.Err() != nil {
				t.Fatalf("Addr of % x = %v, %v", data, a, cp.Err())
			}
		default:
			if a.IsValid() || !errors.Is(cp.Err(), netlink.ErrAttribute) {
				t.Fatalf("Addr of %d bytes = %v, %v", len(data), a, cp.Err())
			}
		}

		if depth < 8 {
			cp = *d
			_, nestedErr := netlink.ParseAttributes(data)
			cp.Nested(func(nd *netlink.AttributeDecoder) error {
				if nd.ByteOrder != d.ByteOrder {
					t.Fatal("nested decoder lost the byte order")
				}
				walkAttributes(t, nd, depth+1)
				return nil
			})
			if (cp.Err() != nil) != (nestedErr != nil) {
				t.Fatalf("Nested error %v, ParseAttributes of the payload: %v", cp.Err(), nestedErr)
			}
			cp = *d
			errStop := errors.New("stop")
			cp.Nested(func(*netlink.AttributeDecoder) error { return errStop })
			if !errors.Is(cp.Err(), errStop) || cp.Next() {
				t.Fatalf("Nested callback error not propagated: %v", cp.Err())
			}
		}
	}
}

func FuzzAttributeDecoder(f *testing.F) {
	f.Add(seedLinkAttrs())
	_, ack := seedAck(syscall.EINVAL, true, netlink.AckInfo{Message: "bad attribute", Offset: 36, MissingType: 3, Cookie: []byte("cookie")})
	f.Add(ack[20:]) // the extended-ack TLVs
	f.Add(wireAttr(1, ne16(1))[:6])
	f.Add([]byte{4, 0, 1, 0, 3, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, order := range []netlink.ByteOrder{nil, binary.BigEndian} {
			d := netlink.NewAttributeDecoder(b)
			d.ByteOrder = order
			walkAttributes(t, d, 0)
			if d.Err() != nil && !errors.Is(d.Err(), netlink.ErrAttribute) {
				t.Fatalf("decoder error %v does not wrap ErrAttribute", d.Err())
			}
		}

		attrs, err := netlink.ParseAttributes(b)
		if err != nil && !errors.Is(err, netlink.ErrAttribute) {
			t.Fatalf("ParseAttributes error %v does not wrap ErrAttribute", err)
		}
		enc, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			t.Fatalf("MarshalAttributes of parsed attributes: %v", err)
		}
		again, err := netlink.ParseAttributes(enc)
		if err != nil {
			t.Fatalf("ParseAttributes of marshalled attributes: %v", err)
		}
		if len(again) != len(attrs) {
			t.Fatalf("round trip: %d attributes, want %d", len(again), len(attrs))
		}
		for i := range attrs {
			if again[i].Type != attrs[i].Type || !bytes.Equal(again[i].Data, attrs[i].Data) {
				t.Fatalf("attribute %d: %#x % x became %#x % x", i, attrs[i].Type, attrs[i].Data, again[i].Type, again[i].Data)
			}
		}
	})
}

func FuzzParseAck(f *testing.F) {
	for _, tc := range []struct {
		errno  syscall.Errno
		capped bool
		info   netlink.AckInfo
	}{
		{0, true, netlink.AckInfo{Offset: -1}},
		{0, true, netlink.AckInfo{Offset: -1, Message: "warning"}},
		{syscall.ENOENT, false, netlink.AckInfo{Offset: -1}},
		{syscall.EEXIST, true, netlink.AckInfo{Offset: -1}},
		{syscall.EINVAL, false, netlink.AckInfo{Message: "invalid MTU", Offset: 36}},
		{syscall.EINVAL, true, netlink.AckInfo{Message: "missing", Offset: 0, MissingType: 3, Cookie: []byte{1, 2, 3}}},
	} {
		flags, b := seedAck(tc.errno, tc.capped, tc.info)
		f.Add(uint16(flags), b)
	}
	f.Add(uint16(0), []byte{})
	f.Add(uint16(netlink.AckTLVs), append(binary.NativeEndian.AppendUint32(nil, 0xffffffea), wireHeader(200, 16, 5, 1, 2)...))
	f.Fuzz(func(t *testing.T, flags uint16, b []byte) {
		info, err := netlink.ParseAck(netlink.HeaderFlags(flags), b)
		if err != nil {
			return
		}
		if info.Errno > 4095 || info.Offset < -1 {
			t.Fatalf("ParseAck accepted errno %d, offset %d", info.Errno, info.Offset)
		}
		for _, capped := range []bool{true, false} {
			req := netlink.Message{Header: info.Request}
			if !capped && info.Request.Length >= 16 && info.Request.Length < 1<<16 {
				req.Data = make([]byte, info.Request.Length-16)
			}
			enc, encFlags := netlink.MarshalAck(req, info, capped)
			got, err := netlink.ParseAck(encFlags, enc)
			if err != nil {
				t.Fatalf("ParseAck of MarshalAck(%+v): %v", info, err)
			}
			wantReq := info.Request
			wantReq.Length = uint32(16 + len(req.Data))
			if got.Errno != info.Errno || got.Message != info.Message || got.Offset != info.Offset ||
				got.MissingType != info.MissingType || !bytes.Equal(got.Cookie, info.Cookie) || got.Request != wantReq {
				t.Fatalf("round trip (capped %v):\n%+v\nbecame\n%+v", capped, info, got)
			}
		}
	})
}

// expectExecute works out, from Execute's documented rules, what Execute
// returns when the kernel answers request seq from port with msgs and
// then acknowledges it: the payloads of the replies, or an error.
func expectExecute(msgs []netlink.Message, seq, port uint32) ([]string, bool) {
	var replies []string
	for _, m := range msgs {
		h := m.Header
		if h.Sequence == 0 {
			h.Sequence = seq // as Request.Reply fills it in
		}
		if h.PID == 0 {
			h.PID = port
		}
		if h.Sequence != seq || h.PID != port {
			continue // not an answer to this request
		}
		switch h.Type {
		case netlink.Noop:
		case netlink.Overrun:
			return nil, true
		case netlink.Error:
			info, err := netlink.ParseAck(h.Flags, m.Data)
			if err != nil || info.Errno != 0 {
				return nil, true
			}
			return replies, false
		case netlink.Done:
			if len(m.Data) >= 4 && int32(binary.NativeEndian.Uint32(m.Data)) < 0 {
				return nil, true
			}
		default:
			replies = append(replies, string(m.Data))
		}
	}
	return replies, false // the real acknowledgement follows
}

// FuzzConnExecute has the fake kernel answer a request with arbitrary
// messages: Execute must neither panic nor hang, must return what its
// rules say, and must leave the Conn usable.
func FuzzConnExecute(f *testing.F) {
	f.Add(seedLinkMessage(0, 0))
	f.Add(bytes.Join([][]byte{seedLinkMessage(0, netlink.Multi), seedLinkMessage(0, netlink.Multi)}, nil))
	flags, ack := seedAck(syscall.ENOENT, false, netlink.AckInfo{Message: "no such device", Offset: 20})
	f.Add(wireMessage(uint16(netlink.Error), uint16(flags), 0, 0, ack))
	flags, ack = seedAck(0, true, netlink.AckInfo{Offset: -1})
	f.Add(bytes.Join([][]byte{seedLinkMessage(0, 0), wireMessage(uint16(netlink.Error), uint16(flags), 0, 0, ack)}, nil))
	f.Add(wireMessage(uint16(netlink.Error), 0, 0, 0, []byte{1, 2, 3}))
	f.Add(wireMessage(uint16(netlink.Done), uint16(netlink.Multi), 0, 0, ne32(uint32(0xfffffffb))))
	f.Add(bytes.Join([][]byte{wireMessage(uint16(netlink.Noop), 0, 0, 0, nil), wireMessage(uint16(netlink.Overrun), 0, 0, 0, nil)}, nil))
	f.Add(wireMessage(0x10, 0, 12345, 0, []byte("stale")))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := netlink.ParseMessages(b)
		if err != nil || len(msgs) == 0 || len(b) > 1<<16 {
			return
		}
		var want []string
		var wantErr, answered, quiet bool
		ep := nltest.NewEndpoint(testProto, nltest.Config{Input: func(r *nltest.Request) error {
			if quiet {
				return nil
			}
			answered = true
			want, wantErr = expectExecute(msgs, r.Message.Header.Sequence, r.Port)
			return r.Reply(msgs...)
		}})
		c, err := ep.Dial(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		replies, err := mustReturn(t, func() opResult {
			msgs, err := c.Execute(context.Background(), netlink.Message{Header: netlink.Header{Type: typeGet}})
			return opResult{msgs, err}
		}).unpack()
		if !answered {
			t.Fatal("the kernel never saw the request")
		}
		if (err != nil) != wantErr {
			t.Fatalf("Execute error %v, want error: %v", err, wantErr)
		}
		if err == nil {
			if len(replies) != len(want) {
				t.Fatalf("Execute returned %d replies, want %d", len(replies), len(want))
			}
			for i := range want {
				if string(replies[i].Data) != want[i] {
					t.Fatalf("reply %d is % x, want % x", i, replies[i].Data, want[i])
				}
			}
		} else if !errors.As(err, new(*netlink.OpError)) {
			t.Fatalf("error %T is not an *OpError", err)
		}
		// Leftovers are skipped by the next request, unless the fuzzer
		// chose sequence numbers, which could match it by chance.
		for _, m := range msgs {
			if m.Header.Sequence != 0 {
				return
			}
		}
		quiet = true
		replies, err = mustReturn(t, func() opResult {
			msgs, err := c.Execute(context.Background(), netlink.Message{Header: netlink.Header{Type: typeSet}})
			return opResult{msgs, err}
		}).unpack()
		if err != nil || len(replies) != 0 {
			t.Fatalf("next Execute = %d replies, %v", len(replies), err)
		}
	})
}
