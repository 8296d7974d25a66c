package netfilter

import (
	"encoding/binary"
	"fmt"
	"net"
	"time"
)

// Hook is the netfilter hook a packet was seen at (enum nf_inet_hooks), as
// NFQUEUE and NFLOG report it.
type Hook uint8

// Hooks.
const (
	HookPrerouting  Hook = 0 // NF_INET_PRE_ROUTING
	HookInput       Hook = 1 // NF_INET_LOCAL_IN
	HookForward     Hook = 2 // NF_INET_FORWARD
	HookOutput      Hook = 3 // NF_INET_LOCAL_OUT
	HookPostrouting Hook = 4 // NF_INET_POST_ROUTING
)

// String returns the hook's name as nft spells it ("input", ...).
func (h Hook) String() string {
	switch h {
	case HookPrerouting:
		return "prerouting"
	case HookInput:
		return "input"
	case HookForward:
		return "forward"
	case HookOutput:
		return "output"
	case HookPostrouting:
		return "postrouting"
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}

// TimestampLen is the size of a packet timestamp attribute (struct
// nfqnl_msg_packet_timestamp, struct nfulnl_msg_packet_timestamp).
const TimestampLen = 16

// ParseTimestamp decodes a packet timestamp attribute: be64 seconds and
// be64 microseconds.
func ParseTimestamp(b []byte) (time.Time, error) {
	if len(b) != TimestampLen {
		return time.Time{}, fmt.Errorf("timestamp of %d bytes, want %d", len(b), TimestampLen)
	}
	sec := int64(binary.BigEndian.Uint64(b[0:8]))
	usec := binary.BigEndian.Uint64(b[8:16])
	if usec >= 1e6 {
		return time.Time{}, fmt.Errorf("timestamp with %d microseconds", usec)
	}
	return time.Unix(sec, int64(usec)*1000), nil
}

// AppendTimestamp appends t as a packet timestamp attribute payload.
func AppendTimestamp(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint64(b, uint64(t.Nanosecond()/1000))
}

// HWAddrLen is the size of a packet's hardware address attribute (struct
// nfqnl_msg_packet_hw, struct nfulnl_msg_packet_hw).
const HWAddrLen = 12

// ParseHWAddr decodes a hardware address attribute: be16 length, two bytes
// of padding, eight bytes of address. The result is a copy.
func ParseHWAddr(b []byte) (net.HardwareAddr, error) {
	if len(b) < HWAddrLen {
		return nil, fmt.Errorf("hardware address attribute of %d bytes, want %d", len(b), HWAddrLen)
	}
	n := int(binary.BigEndian.Uint16(b[0:2]))
	if n > 8 {
		return nil, fmt.Errorf("hardware address of %d bytes, at most 8 fit", n)
	}
	return net.HardwareAddr(append([]byte{}, b[4:4+n]...)), nil
}

// AppendHWAddr appends hw as a hardware address attribute payload.
func AppendHWAddr(b []byte, hw net.HardwareAddr) ([]byte, error) {
	if len(hw) > 8 {
		return nil, fmt.Errorf("hardware address of %d bytes, at most 8 fit", len(hw))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(hw)))
	b = append(b, 0, 0)
	var a [8]byte
	copy(a[:], hw)
	return append(b, a[:]...), nil
}
