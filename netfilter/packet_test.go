package netfilter

import (
	"bytes"
	"net"
	"testing"
	"time"
)

func TestPacketHelpers(t *testing.T) {
	ts := time.Unix(1700000000, 123456000)
	b := AppendTimestamp(nil, ts)
	if got, err := ParseTimestamp(b); err != nil || !got.Equal(ts) {
		t.Fatalf("timestamp round trip: %v %v", got, err)
	}
	if _, err := ParseTimestamp(b[:15]); err == nil {
		t.Error("short timestamp accepted")
	}
	bad := append(b[:8:8], 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40) // 1,000,000 µs
	if _, err := ParseTimestamp(bad); err == nil {
		t.Error("a million microseconds accepted")
	}
	hw := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	hb, err := AppendHWAddr(nil, hw)
	if err != nil || len(hb) != HWAddrLen {
		t.Fatalf("encode hw: %v %d", err, len(hb))
	}
	got, err := ParseHWAddr(hb)
	if err != nil || !bytes.Equal(got, hw) {
		t.Fatalf("hw round trip: %v %v", got, err)
	}
	hb[1] = 9 // claims 9 bytes
	if _, err := ParseHWAddr(hb); err == nil {
		t.Error("9-byte hardware address accepted")
	}
	if _, err := AppendHWAddr(nil, make(net.HardwareAddr, 9)); err == nil {
		t.Error("9-byte hardware address encoded")
	}
	if HookInput.String() != "input" || Hook(9).String() != "hook(9)" {
		t.Error("hook names")
	}
}
