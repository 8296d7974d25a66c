package sockdiag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
)

func u16(v uint16) []byte    { return binary.NativeEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte    { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte    { return binary.NativeEndian.AppendUint64(nil, v) }
func be16(v uint16) []byte   { return binary.BigEndian.AppendUint16(nil, v) }
func cat(p ...[]byte) []byte { return bytes.Join(p, nil) }

// attr builds one attribute by hand (independent of the encoder).
func attr(typ uint16, data []byte) []byte {
	b := cat(u16(uint16(4+len(data))), u16(typ), data)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// addr16 lays out an address as inet_diag_sockid does: IPv4 in the
// first 4 of 16 bytes.
func addr16(s string) []byte {
	a := netip.MustParseAddr(s)
	b := make([]byte, 16)
	if a.Is4() {
		a4 := a.As4()
		copy(b, a4[:])
	} else {
		a16 := a.As16()
		copy(b, a16[:])
	}
	return b
}

// sockID builds a struct inet_diag_sockid by hand.
func sockID(sport, dport uint16, src, dst string, ifindex uint32, cookie uint64) []byte {
	return cat(be16(sport), be16(dport), addr16(src), addr16(dst), u32(ifindex), u32(uint32(cookie)), u32(uint32(cookie>>32)))
}

func TestInetRequestMarshal(t *testing.T) {
	tests := []struct {
		name string
		req  InetRequest
		want []byte
	}{
		{"listening TCP with info", InetRequest{Family: FamilyIPv4, Protocol: ProtocolTCP, Extensions: ExtInfo, States: States(StateListen)},
			cat([]byte{2, 6, 2, 0}, u32(1<<10), sockID(0, 0, "0.0.0.0", "0.0.0.0", 0, NoCookie))},
		{"all UDP over IPv6 (states 0 means all)", InetRequest{Family: FamilyIPv6, Protocol: ProtocolUDP},
			cat([]byte{10, 17, 0, 0}, u32(0xffe), sockID(0, 0, "::", "::", 0, NoCookie))},
		{"one IPv4 socket", InetRequest{Family: FamilyIPv4, Protocol: ProtocolTCP, States: AllStates, ID: SocketID{
			Local: netip.MustParseAddrPort("127.0.0.1:5000"), Remote: netip.MustParseAddrPort("127.0.0.2:40000"), Interface: 3, Cookie: 0x1122334455667788}},
			cat([]byte{2, 6, 0, 0}, u32(0xffe), sockID(5000, 40000, "127.0.0.1", "127.0.0.2", 3, 0x1122334455667788))},
		{"IPv4-mapped addresses of an IPv4 request", InetRequest{Family: FamilyIPv4, Protocol: ProtocolTCP, States: AllStates, ID: SocketID{
			Local: netip.MustParseAddrPort("[::ffff:10.0.0.1]:1")}},
			cat([]byte{2, 6, 0, 0}, u32(0xffe), sockID(1, 0, "10.0.0.1", "0.0.0.0", 0, NoCookie))},
		{"MPTCP: the protocol in an attribute", InetRequest{Family: FamilyIPv4, Protocol: ProtocolMPTCP, States: States(StateListen)},
			cat([]byte{2, 6, 0, 0}, u32(1<<10), sockID(0, 0, "0.0.0.0", "0.0.0.0", 0, NoCookie), attr(inetDiagReqProtocol, u32(262)))},
		{"one IPv6 socket", InetRequest{Family: FamilyIPv6, Protocol: ProtocolTCP, States: AllStates, ID: SocketID{
			Local: netip.MustParseAddrPort("[2001:db8::1]:443"), Remote: netip.MustParseAddrPort("[2001:db8::2]:50000")}},
			cat([]byte{10, 6, 0, 0}, u32(0xffe), sockID(443, 50000, "2001:db8::1", "2001:db8::2", 0, NoCookie))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.req.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.want) {
				t.Fatalf("got\n % x\nwant\n % x", b, tt.want)
			}
			var back InetRequest
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if back.Family != tt.req.Family || back.Protocol != tt.req.Protocol || back.Extensions != tt.req.Extensions {
				t.Fatalf("decoded %+v", back)
			}
		})
	}
	if _, err := (InetRequest{Family: FamilyUnix}).MarshalBinary(); !errors.Is(err, errFamily) {
		t.Fatalf("unix family: %v", err)
	}
	var r InetRequest
	if err := r.UnmarshalBinary(make([]byte, 55)); !errors.Is(err, netlink.ErrShortMessage) {
		t.Fatalf("short request: %v", err)
	}
}

// inetMsg builds a struct inet_diag_msg by hand.
func inetMsg(family, state, timer, retrans uint8, id []byte, expires, rq, wq, uid, inode uint32, attrs ...[]byte) []byte {
	return cat([]byte{family, state, timer, retrans}, id, u32(expires), u32(rq), u32(wq), u32(uid), u32(inode), cat(attrs...))
}

func TestInetSocketUnmarshal(t *testing.T) {
	info := make([]byte, 104) // the struct tcp_info of Linux 4.1
	info[0] = uint8(StateEstablished)
	binary.NativeEndian.PutUint32(info[68:], 1500) // rtt, µs
	binary.NativeEndian.PutUint32(info[80:], 10)   // snd_cwnd
	tests := []struct {
		name string
		in   []byte
		want InetSocket
	}{
		{"listening IPv4", inetMsg(2, 10, 0, 0, sockID(22, 0, "0.0.0.0", "0.0.0.0", 0, 0x40), 0, 0, 128, 0, 1234,
			attr(inetDiagShutdown, []byte{0})),
			InetSocket{Family: FamilyIPv4, State: StateListen, SendQueue: 128, Inode: 1234, ID: SocketID{
				Local: netip.MustParseAddrPort("0.0.0.0:22"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), Cookie: 0x40}}},
		{"established IPv6 with everything", inetMsg(10, 1, 1, 2, sockID(443, 50000, "2001:db8::1", "2001:db8::2", 7, 0xabcdef0123), 200, 10, 20, 1000, 99,
			attr(inetDiagMemInfo, cat(u32(1), u32(2), u32(3), u32(4))),
			attr(inetDiagInfo, info),
			attr(inetDiagCong, []byte("cubic\x00")),
			attr(inetDiagTClass, []byte{0x10}),
			attr(inetDiagSKMemInfo, cat(u32(0), u32(131072), u32(0), u32(16384), u32(0), u32(0), u32(0), u32(0), u32(5))),
			attr(inetDiagShutdown, []byte{2}),
			attr(inetDiagV6Only, []byte{1}),
			attr(inetDiagMark, u32(0x42)),
			attr(inetDiagClassID, u32(7)),
			attr(inetDiagCgroupID, u64(0x1234)),
			attr(99, []byte("unknown attributes are skipped"))),
			InetSocket{Family: FamilyIPv6, State: StateEstablished, Timer: TimerOn, Retransmits: 2, Expires: 200 * time.Millisecond,
				RecvQueue: 10, SendQueue: 20, UID: 1000, Inode: 99,
				ID: SocketID{Local: netip.MustParseAddrPort("[2001:db8::1]:443"), Remote: netip.MustParseAddrPort("[2001:db8::2]:50000"),
					Interface: 7, Cookie: 0xabcdef0123},
				MemInfo:    &MemInfo{RecvAlloc: 1, SendQueued: 2, ForwardAlloc: 3, SendAlloc: 4},
				TCPInfo:    &TCPInfo{State: StateEstablished, RTT: 1500 * time.Microsecond, SendCwnd: 10, Size: 104},
				SKMemInfo:  &SKMemInfo{RecvBuf: 131072, SendBuf: 16384, Drops: 5},
				Congestion: "cubic", TClass: 0x10, HasTClass: true, Shutdown: 2, V6Only: true, Mark: 0x42, HasMark: true,
				ClassID: 7, CgroupID: 0x1234}},
		{"an older kernel's shorter skmeminfo", inetMsg(2, 7, 0, 0, sockID(53, 0, "127.0.0.1", "0.0.0.0", 0, 1), 0, 0, 0, 0, 5,
			attr(inetDiagSKMemInfo, cat(u32(1), u32(2)))),
			InetSocket{Family: FamilyIPv4, State: StateClose, Inode: 5, ID: SocketID{
				Local: netip.MustParseAddrPort("127.0.0.1:53"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), Cookie: 1},
				SKMemInfo: &SKMemInfo{RecvAlloc: 1, RecvBuf: 2}}},
		{"SCTP info is not tcp_info", inetMsg(2, 1, 0, 0, sockID(1, 2, "10.0.0.1", "10.0.0.2", 0, 0), 0, 0, 0, 0, 0,
			attr(inetDiagInfo, make([]byte, 64)), attr(inetDiagProtocol, []byte{132})),
			InetSocket{Family: FamilyIPv4, Protocol: ProtocolSCTP, State: StateEstablished, ID: SocketID{
				Local: netip.MustParseAddrPort("10.0.0.1:1"), Remote: netip.MustParseAddrPort("10.0.0.2:2")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got InetSocket
			if err := got.UnmarshalBinary(tt.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			enc, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var again InetSocket
			if err := again.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", again, got)
			}
		})
	}
}

func TestInetSocketUnmarshalErrors(t *testing.T) {
	id := sockID(1, 2, "10.0.0.1", "10.0.0.2", 0, 0)
	tests := []struct {
		name string
		in   []byte
	}{
		{"short header", make([]byte, inetMsgLen-1)},
		{"unix family", inetMsg(1, 1, 0, 0, id, 0, 0, 0, 0, 0)},
		{"cut attribute", inetMsg(2, 1, 0, 0, id, 0, 0, 0, 0, 0, []byte{8, 0, 8, 0, 1})},
		{"meminfo too short", inetMsg(2, 1, 0, 0, id, 0, 0, 0, 0, 0, attr(inetDiagMemInfo, u32(1)))},
		{"shutdown of 4 bytes", inetMsg(2, 1, 0, 0, id, 0, 0, 0, 0, 0, attr(inetDiagShutdown, u32(1)))},
		{"mark of 2 bytes", inetMsg(2, 1, 0, 0, id, 0, 0, 0, 0, 0, attr(inetDiagMark, u16(1)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s InetSocket
			err := s.UnmarshalBinary(tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), "sockdiag: decode inet socket") {
				t.Fatalf("error %v, want one saying what was decoded", err)
			}
		})
	}
}

func TestInetSocketMarshalErrors(t *testing.T) {
	if _, err := (InetSocket{Family: FamilyUnix}).MarshalBinary(); !errors.Is(err, errFamily) {
		t.Errorf("unix family: %v", err)
	}
	if _, err := (InetSocket{Family: FamilyIPv4, Expires: -time.Second}).MarshalBinary(); err == nil {
		t.Error("negative expiry encoded")
	}
}
