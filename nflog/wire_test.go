package nflog

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

var fullPacket = Packet{
	HWProtocol: 0x86dd, Hook: HookPrerouting, Prefix: "ssh ", Mark: 3, Timestamp: time.Unix(1700000000, 5000),
	InDev: 2, OutDev: 3, PhysInDev: 4, PhysOutDev: 5, HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 9},
	HWType: 1, HWHeader: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd},
	UID: 0, GID: 0, HasUID: true, HasGID: true, Seq: 10, SeqGlobal: 20, HasSeq: true, HasSeqGlobal: true,
	CTInfo: 2, HasCTInfo: true, Conntrack: []byte{8, 0, 1, 0, 0, 0, 0, 1}, Payload: []byte{0x60, 0, 0, 0},
}

func packetsEqual(a, b Packet) bool {
	return a.Group == b.Group && a.Family == b.Family && a.HWProtocol == b.HWProtocol && a.Hook == b.Hook &&
		a.Prefix == b.Prefix && a.Mark == b.Mark && a.Timestamp.Equal(b.Timestamp) && a.InDev == b.InDev &&
		a.OutDev == b.OutDev && a.PhysInDev == b.PhysInDev && a.PhysOutDev == b.PhysOutDev &&
		bytes.Equal(a.HWAddr, b.HWAddr) && a.HWType == b.HWType && bytes.Equal(a.HWHeader, b.HWHeader) &&
		a.UID == b.UID && a.GID == b.GID && a.HasUID == b.HasUID && a.HasGID == b.HasGID && a.Seq == b.Seq &&
		a.SeqGlobal == b.SeqGlobal && a.HasSeq == b.HasSeq && a.HasSeqGlobal == b.HasSeqGlobal &&
		a.CTInfo == b.CTInfo && a.HasCTInfo == b.HasCTInfo && bytes.Equal(a.Conntrack, b.Conntrack) &&
		bytes.Equal(a.Payload, b.Payload)
}

func TestPacketRoundTrip(t *testing.T) {
	b, err := fullPacket.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	if err := p.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !packetsEqual(p, fullPacket) {
		t.Fatalf("round trip\n got %+v\nwant %+v", p, fullPacket)
	}
	if err := p.UnmarshalBinary(nil); err == nil || !strings.Contains(err.Error(), "no packet header") {
		t.Errorf("empty: %v", err)
	}
	if s := (Seq | Conntrack).String(); s != "seq|conntrack" {
		t.Errorf("flags %s", s)
	}
}

func TestConfigEncoding(t *testing.T) {
	b, err := marshalConfig(Config{CopyRange: 128, Timeout: 50 * time.Millisecond, Flags: Seq})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint16][]byte{}
	d := netfilter.NewAttributeDecoder(b)
	for d.Next() {
		seen[d.Type()] = append([]byte(nil), d.Bytes()...)
	}
	if d.Err() != nil || !bytes.Equal(seen[attrCfgCmd], []byte{cmdBind}) || !bytes.Equal(seen[attrCfgMode], []byte{0, 0, 0, 128, 2, 0}) ||
		!bytes.Equal(seen[attrCfgQThresh], []byte{0, 0, 0, 1}) || !bytes.Equal(seen[attrCfgTimeout], []byte{0, 0, 0, 5}) ||
		!bytes.Equal(seen[attrCfgFlags], []byte{0, 1}) {
		t.Errorf("config attributes %v: %v", seen, d.Err())
	}
}

func TestGroupFakeKernel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ep *nltest.Endpoint
	send := func(port uint32, p Packet) error {
		data, _ := p.MarshalBinary()
		nm, _ := netfilter.Message{Type: netfilter.NewMessageType(netfilter.SubsysULOG, msgPacket), Header: netfilter.Header{Family: netfilter.FamilyIPv6, ResourceID: 5}, Data: data}.NetlinkMessage(netlink.Multi)
		return ep.Unicast(port, nm, netlink.Message{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)})
	}
	bound := uint32(0)
	ep = nltest.NewEndpoint(netlink.Netfilter, nltest.Config{Input: func(r *nltest.Request) error {
		if bound != 0 {
			return &nltest.Error{Errno: syscall.EBUSY}
		}
		bound = r.Port
		return send(r.Port, Packet{Prefix: "early", Payload: []byte{1}})
	}})
	nc, _ := ep.Dial(nil)
	g, err := Bind(ctx, netfilter.NewConn(nc), 5, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	nc2, _ := ep.Dial(nil)
	if _, err := Bind(ctx, netfilter.NewConn(nc2), 5, Config{}); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("second bind: %v", err)
	}
	nc2.Close()
	send(bound, Packet{Prefix: "late", Payload: []byte{2}})
	var got []string
	for p, err := range g.Packets(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Group != 5 || p.Family != netfilter.FamilyIPv6 {
			t.Fatalf("%+v", p)
		}
		got = append(got, p.Prefix)
		if len(got) == 2 {
			break
		}
	}
	if got[0] != "early" || got[1] != "late" {
		t.Errorf("prefixes %v", got)
	}
}

func FuzzPacketUnmarshal(f *testing.F) {
	b, _ := fullPacket.MarshalBinary()
	f.Add(b)
	f.Add([]byte{8, 0, 1, 0, 8, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		if strings.IndexByte(p.Prefix, 0) >= 0 {
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded packet does not encode: %v", err)
		}
		var again Packet
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !packetsEqual(again, p) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, p)
		}
	})
}
