package rtnl

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// ifaddrmsg builds a struct ifaddrmsg.
func addrTestHeader(family AddrFamily, plen, flags uint8, scope Scope, index int32) []byte {
	b := []byte{uint8(family), plen, flags, uint8(scope), 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	return b
}

// attr appends one attribute to b.
func addrTestAttr(b []byte, typ uint16, data []byte) []byte {
	var e netlink.AttributeEncoder
	e.Reset(b)
	e.Raw(typ, data)
	out, _ := e.Encode()
	return out
}

func addrTestCacheInfo(pref, valid uint32) []byte {
	b := make([]byte, ifaCacheInfoLen)
	binary.NativeEndian.PutUint32(b[0:], pref)
	binary.NativeEndian.PutUint32(b[4:], valid)
	binary.NativeEndian.PutUint32(b[8:], 1234) // cstamp
	binary.NativeEndian.PutUint32(b[12:], 5678)
	return b
}

func addrTestIP(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func TestAddressRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Address
	}{
		{"empty", Address{}},
		{"ipv4", Address{Family: AddrFamilyIPv4, Index: 3, Prefix: netip.MustParsePrefix("10.0.0.1/24")}},
		{"ipv4 full", Address{
			Family: AddrFamilyIPv4, Index: 7, Prefix: netip.MustParsePrefix("192.0.2.10/28"),
			Broadcast: netip.MustParseAddr("192.0.2.15"), Label: "veth0:web", Scope: ScopeLink,
			Flags: AddrSecondary | AddrPermanent, ValidLifetime: Forever, PreferredLifetime: Forever,
			Metric: 100, Protocol: 2,
		}},
		{"ipv4 peer", Address{
			Family: AddrFamilyIPv4, Index: 2, Prefix: netip.MustParsePrefix("10.0.1.1/32"),
			Peer: netip.MustParsePrefix("10.0.1.2/32"),
		}},
		{"ipv6", Address{
			Family: AddrFamilyIPv6, Index: 4, Prefix: netip.MustParsePrefix("2001:db8::1/64"),
			Flags: AddrNoDAD | AddrNoPrefixRoute | AddrManageTempAddr, ValidLifetime: 300 * time.Second,
			PreferredLifetime: 0,
		}},
		{"ipv6 peer", Address{
			Family: AddrFamilyIPv6, Index: 4, Prefix: netip.MustParsePrefix("2001:db8::1/128"),
			Peer: netip.MustParsePrefix("2001:db8::2/128"), Anycast: netip.MustParseAddr("2001:db8::"),
		}},
		{"ipv4-mapped stays 16 bytes", Address{
			Family: AddrFamilyIPv6, Index: 1, Prefix: netip.MustParsePrefix("::ffff:10.0.0.1/128"),
		}},
		{"lifetimes", Address{
			Family: AddrFamilyIPv4, Index: 1, Prefix: netip.MustParsePrefix("10.0.0.1/8"),
			ValidLifetime: 100 * time.Second, PreferredLifetime: 50 * time.Second,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Address
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, tt.in)
			}
		})
	}
}

// TestAddressMarshalWire checks the bytes as `ip address add` sends them
// (iproute2's ipaddr_modify): IFA_LOCAL then IFA_ADDRESS, the peer's
// length as ifa_prefixlen, flags above 0xff in IFA_FLAGS only.
func TestAddressMarshalWire(t *testing.T) {
	// ip address add 10.0.1.1 peer 10.0.1.2/30 dev (index 5) label x
	//   valid_lft 100 preferred_lft 50 noprefixroute
	a := Address{
		Family: AddrFamilyIPv4, Index: 5, Prefix: netip.MustParsePrefix("10.0.1.1/32"), Peer: netip.MustParsePrefix("10.0.1.2/30"),
		Label: "x", ValidLifetime: 100 * time.Second, PreferredLifetime: 50 * time.Second,
		Flags: AddrNoPrefixRoute,
	}
	got, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	ci := make([]byte, ifaCacheInfoLen)
	binary.NativeEndian.PutUint32(ci[0:], 50)
	binary.NativeEndian.PutUint32(ci[4:], 100)
	flags := binary.NativeEndian.AppendUint32(nil, uint32(AddrNoPrefixRoute))
	want := addrTestHeader(AddrFamilyIPv4, 30, 0, 0, 5)
	want = addrTestAttr(want, ifaLocal, addrTestIP("10.0.1.1"))
	want = addrTestAttr(want, ifaAddress, addrTestIP("10.0.1.2"))
	want = addrTestAttr(want, ifaLabel, []byte("x\x00"))
	want = addrTestAttr(want, ifaCacheInfo, ci)
	want = addrTestAttr(want, ifaFlags, flags)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wire:\n got % x\nwant % x", got, want)
	}
}

func TestAddressUnmarshalSemantics(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Address
	}{
		{
			// The kernel's IPv4 address without peer: IFA_ADDRESS == IFA_LOCAL.
			"ipv4 local",
			addrTestAttr(addrTestAttr(addrTestAttr(addrTestAttr(addrTestAttr(addrTestHeader(2, 24, 0x80, 0, 3), ifaAddress, addrTestIP("10.0.0.1")),
				ifaLocal, addrTestIP("10.0.0.1")), ifaBroadcast, addrTestIP("10.0.0.255")), ifaLabel, []byte("va\x00")),
				ifaCacheInfo, addrTestCacheInfo(0xFFFFFFFF, 0xFFFFFFFF)),
			Address{Family: 2, Index: 3, Prefix: netip.MustParsePrefix("10.0.0.1/24"), Flags: AddrPermanent,
				Broadcast: netip.MustParseAddr("10.0.0.255"), Label: "va", ValidLifetime: Forever, PreferredLifetime: Forever},
		},
		{
			// Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer.
			"ipv4 peer",
			addrTestAttr(addrTestAttr(addrTestHeader(2, 32, 0, 0, 3), ifaAddress, addrTestIP("10.0.1.2")), ifaLocal, addrTestIP("10.0.1.1")),
			Address{Family: 2, Index: 3, Prefix: netip.MustParsePrefix("10.0.1.1/32"), Peer: netip.MustParsePrefix("10.0.1.2/32")},
		},
		{
			// IPv6 sends only IFA_ADDRESS when there is no peer.
			"ipv6 address only",
			addrTestAttr(addrTestAttr(addrTestHeader(10, 64, 0, ScopeLink, 2), ifaAddress, addrTestIP("fe80::1")), ifaCacheInfo, addrTestCacheInfo(10, 20)),
			Address{Family: 10, Index: 2, Prefix: netip.MustParsePrefix("fe80::1/64"), Scope: ScopeLink,
				ValidLifetime: 20 * time.Second, PreferredLifetime: 10 * time.Second},
		},
		{
			// IFA_FLAGS overrides the 8-bit ifa_flags.
			"flags attribute",
			addrTestAttr(addrTestAttr(addrTestHeader(10, 64, 0x02, 0, 2), ifaAddress, addrTestIP("2001:db8::1")), ifaFlags,
				binary.NativeEndian.AppendUint32(nil, 0x282)),
			Address{Family: 10, Index: 2, Prefix: netip.MustParsePrefix("2001:db8::1/64"),
				Flags: AddrNoDAD | AddrPermanent | AddrNoPrefixRoute},
		},
		{
			// A family with 1-byte addresses (phonet) is skipped, not fatal.
			"other family",
			addrTestAttr(addrTestHeader(35, 0, 0, 0, 9), ifaLocal, []byte{0x40}),
			Address{Family: 35, Index: 9},
		},
		{
			"unknown attribute ignored",
			addrTestAttr(addrTestAttr(addrTestHeader(2, 8, 0, 0, 1), 200, []byte{1, 2, 3}), ifaLocal, addrTestIP("10.1.2.3")),
			Address{Family: 2, Index: 1, Prefix: netip.MustParsePrefix("10.1.2.3/8")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Address
			if err := a.UnmarshalBinary(tt.b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", a, tt.want)
			}
		})
	}
}

func TestAddressUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"short header", make([]byte, 7)},
		{"prefix too long", addrTestAttr(addrTestHeader(2, 33, 0, 0, 1), ifaLocal, addrTestIP("10.0.0.1"))},
		{"ipv6 prefix too long", addrTestAttr(addrTestHeader(10, 129, 0, 0, 1), ifaAddress, addrTestIP("::1"))},
		{"short cacheinfo", addrTestAttr(addrTestAttr(addrTestHeader(2, 8, 0, 0, 1), ifaLocal, addrTestIP("10.0.0.1")), ifaCacheInfo, make([]byte, 8))},
		{"3-byte ipv4 address", addrTestAttr(addrTestHeader(2, 8, 0, 0, 1), ifaLocal, []byte{10, 0, 0})},
		{"2-byte flags", addrTestAttr(addrTestHeader(2, 8, 0, 0, 1), ifaFlags, []byte{1, 2})},
		{"attribute past the end", append(addrTestHeader(2, 8, 0, 0, 1), 40, 0, ifaLabel, 0, 'a', 0, 0, 0)},
	}
	for _, tt := range tests {
		var a Address
		err := a.UnmarshalBinary(tt.b)
		if err == nil || !strings.HasPrefix(err.Error(), "rtnl: decode address") {
			t.Errorf("%s: err %v, want a decode error", tt.name, err)
		}
	}
}

func TestAddressUnmarshalCopies(t *testing.T) {
	in := Address{Family: 2, Index: 1, Prefix: netip.MustParsePrefix("10.0.0.1/8"), Label: "lab"}
	b, _ := in.MarshalBinary()
	var out Address
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	clear(b)
	if !reflect.DeepEqual(out, in) {
		t.Fatal("decoded address aliases the message buffer")
	}
}

func TestAddrFlagNames(t *testing.T) {
	tests := []struct {
		f    AddrFlags
		want string
	}{
		{0, ""},
		{AddrSecondary, "secondary"},
		{AddrNoDAD | AddrNoPrefixRoute, "nodad,noprefixroute"},
		{AddrStablePrivacy | AddrTentative | AddrOptimistic, "optimistic,tentative,stable-privacy"},
		{AddrManageTempAddr | AddrMcAutoJoin | AddrHomeAddress | AddrDeprecated | AddrDADFailed, "dadfailed,home,deprecated,mngtmpaddr,autojoin"},
		{AddrPermanent | 0x10000, "permanent,0x10000"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#x: got %q, want %q", uint32(tt.f), got, tt.want)
		}
	}
	// As ip prints them: "dynamic" for non-permanent, "temporary" for IPv6.
	v6 := Address{Family: AddrFamilyIPv6, Flags: AddrTemporary | AddrNoDAD}
	if got := strings.Join(v6.FlagNames(), ","); got != "temporary,nodad,dynamic" {
		t.Errorf("ipv6 FlagNames: %q", got)
	}
	v4 := Address{Family: AddrFamilyIPv4, Flags: AddrSecondary | AddrPermanent}
	if got := strings.Join(v4.FlagNames(), ","); got != "secondary" {
		t.Errorf("ipv4 FlagNames: %q", got)
	}
}

func TestAddrScopeAndFamily(t *testing.T) {
	for s, n := range map[Scope]string{0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere", 7: "7"} {
		if s.String() != n {
			t.Errorf("scope %d: %q, want %q", s, s.String(), n)
		}
		got, err := ParseScope(n)
		if err != nil || got != s {
			t.Errorf("ParseScope(%q) = %v, %v", n, got, err)
		}
	}
	if s, err := ParseScope("universe"); err != nil || s != ScopeGlobal {
		t.Errorf("universe: %v %v", s, err)
	}
	for _, bad := range []string{"", "galaxy", "256", "-1"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
	for f, n := range map[AddrFamily]string{0: "unspec", 2: "inet", 10: "inet6", 35: "35"} {
		if f.String() != n {
			t.Errorf("family %d: %q", f, f.String())
		}
	}
}

func TestIPv4Broadcast(t *testing.T) {
	tests := []struct{ p, want string }{
		{"10.0.0.1/24", "10.0.0.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"192.0.2.9/30", "192.0.2.11"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"10.0.0.1/31", ""},
		{"10.0.0.1/32", ""},
		{"2001:db8::1/64", ""},
	}
	for _, tt := range tests {
		got, ok := IPv4Broadcast(netip.MustParsePrefix(tt.p))
		if (tt.want == "") == ok || (ok && got.String() != tt.want) {
			t.Errorf("%s: %v %v, want %q", tt.p, got, ok, tt.want)
		}
	}
}

func TestAddressLifetimeEncoding(t *testing.T) {
	a := Address{Index: 1, Prefix: netip.MustParsePrefix("10.0.0.1/8"), ValidLifetime: 1500 * time.Millisecond, PreferredLifetime: time.Millisecond}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out Address
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out.ValidLifetime != 2*time.Second || out.PreferredLifetime != time.Second {
		t.Fatalf("sub-second lifetimes round up: got %v %v", out.ValidLifetime, out.PreferredLifetime)
	}
	for _, d := range []time.Duration{-time.Second, Forever + time.Second} {
		a.ValidLifetime = d
		if _, err := a.MarshalBinary(); err == nil {
			t.Errorf("lifetime %v encoded", d)
		}
	}
}

// addrFakeKernel is a fake rtnetlink that answers address dumps with
// addrs and records change requests.
type addrFakeKernel struct {
	mu       sync.Mutex
	addrs    []Address
	requests []netlink.Message
	err      error
}

func (k *addrFakeKernel) dial(t *testing.T, cfg *netlink.Config) *Client {
	t.Helper()
	e := nltest.NewEndpoint(netlink.Route, nltest.Config{Input: func(r *nltest.Request) error {
		k.mu.Lock()
		defer k.mu.Unlock()
		m := r.Message
		m.Data = append([]byte(nil), m.Data...)
		k.requests = append(k.requests, m)
		if m.Header.Type == msgGetAddr {
			var msgs []netlink.Message
			for _, a := range k.addrs {
				b, err := a.MarshalBinary()
				if err != nil {
					return err
				}
				msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: msgNewAddr}, Data: b})
			}
			return r.Dump(msgs, nltest.DumpOptions{})
		}
		return k.err
	}})
	c, err := e.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl := NewClient(c)
	t.Cleanup(func() { cl.Close() })
	return cl
}

func TestAddressesFilter(t *testing.T) {
	k := &addrFakeKernel{addrs: []Address{
		{Family: 2, Index: 1, Prefix: netip.MustParsePrefix("127.0.0.1/8"), Scope: ScopeHost},
		{Family: 2, Index: 2, Prefix: netip.MustParsePrefix("10.0.0.1/24")},
		{Family: 10, Index: 2, Prefix: netip.MustParsePrefix("2001:db8::1/64")},
		{Family: 10, Index: 3, Prefix: netip.MustParsePrefix("fe80::1/64")},
	}}
	c := k.dial(t, nil)
	ctx := context.Background()
	tests := []struct {
		filter *AddressFilter
		want   []string
	}{
		{nil, []string{"127.0.0.1/8", "10.0.0.1/24", "2001:db8::1/64", "fe80::1/64"}},
		{&AddressFilter{Family: AddrFamilyIPv4}, []string{"127.0.0.1/8", "10.0.0.1/24"}},
		{&AddressFilter{Index: 2}, []string{"10.0.0.1/24", "2001:db8::1/64"}},
		{&AddressFilter{Index: 2, Family: AddrFamilyIPv6}, []string{"2001:db8::1/64"}},
		{&AddressFilter{Index: 9}, nil},
	}
	for _, tt := range tests {
		k.requests = nil
		got, err := c.ListAddresses(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range got {
			names = append(names, a.Prefix.String())
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("filter %+v: got %v, want %v", tt.filter, names, tt.want)
		}
		// The request carries the filter in its ifaddrmsg.
		if len(k.requests) != 1 {
			t.Fatalf("%d requests", len(k.requests))
		}
		r := k.requests[0]
		var f AddressFilter
		if tt.filter != nil {
			f = *tt.filter
		}
		if r.Header.Flags&netlink.Dump != netlink.Dump || len(r.Data) != ifAddrLen ||
			AddrFamily(r.Data[0]) != f.Family || int32(binary.NativeEndian.Uint32(r.Data[4:])) != f.Index {
			t.Errorf("filter %+v: request %+v % x", tt.filter, r.Header, r.Data)
		}
	}
	// Breaking out of the stream early leaves the client usable.
	for range c.Addresses(ctx, nil) {
		break
	}
	if all, err := c.ListAddresses(ctx, nil); err != nil || len(all) != 4 {
		t.Fatalf("after an abandoned dump: %d, %v", len(all), err)
	}
}

func TestAddressChanges(t *testing.T) {
	k := &addrFakeKernel{}
	c := k.dial(t, nil)
	ctx := context.Background()
	a := &Address{Index: 4, Prefix: netip.MustParsePrefix("10.0.0.1/24"), Label: "va", ValidLifetime: time.Minute, PreferredLifetime: time.Minute}
	tests := []struct {
		name  string
		do    func(context.Context, *Address) error
		typ   netlink.HeaderType
		flags netlink.HeaderFlags
	}{
		{"add", c.AddAddress, msgNewAddr, netlink.Create | netlink.Excl},
		{"replace", c.ReplaceAddress, msgNewAddr, netlink.Create | netlink.Replace},
		{"delete", c.DeleteAddress, msgDelAddr, 0},
	}
	for _, tt := range tests {
		k.requests = nil
		if err := tt.do(ctx, a); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(k.requests) != 1 {
			t.Fatalf("%s: %d requests", tt.name, len(k.requests))
		}
		r := k.requests[0]
		want := netlink.Request | netlink.Acknowledge | tt.flags
		if r.Header.Type != tt.typ || r.Header.Flags != want {
			t.Errorf("%s: header %v %v, want %v %v", tt.name, r.Header.Type, r.Header.Flags, tt.typ, want)
		}
		var sent Address
		if err := sent.UnmarshalBinary(r.Data); err != nil {
			t.Fatal(err)
		}
		wantSent := *a
		wantSent.Family = AddrFamilyIPv4
		if tt.name == "delete" {
			wantSent.ValidLifetime, wantSent.PreferredLifetime = 0, 0
		}
		if !reflect.DeepEqual(sent, wantSent) {
			t.Errorf("%s sent %+v, want %+v", tt.name, sent, wantSent)
		}
	}

	// A kernel error comes back wrapped, errno and extended ack kept.
	k.err = &nltest.Error{Errno: syscall.EEXIST, Message: "address exists"}
	err := c.AddAddress(ctx, a)
	var oe *netlink.OpError
	if !errors.Is(err, syscall.EEXIST) || !errors.As(err, &oe) || oe.Message != "address exists" ||
		!strings.Contains(err.Error(), "rtnl: add address 10.0.0.1/24 on link 4") {
		t.Fatalf("kernel error: %v", err)
	}
}

func TestAddressInvalidInput(t *testing.T) {
	k := &addrFakeKernel{}
	c := k.dial(t, nil)
	ctx := context.Background()
	p := netip.MustParsePrefix("10.0.0.1/24")
	tests := []struct {
		name string
		a    *Address
		want string
	}{
		{"nil", nil, "nil *Address"},
		{"no prefix", &Address{Index: 1}, "no local prefix"},
		{"no index", &Address{Prefix: p}, "no interface"},
		{"negative index", &Address{Prefix: p, Index: -3}, "no interface"},
		{"family mismatch", &Address{Prefix: p, Index: 1, Family: AddrFamilyIPv6}, "does not match"},
		{"mapped", &Address{Prefix: netip.MustParsePrefix("::ffff:10.0.0.1/120"), Index: 1}, "IPv4-mapped"},
		{"peer family", &Address{Prefix: p, Index: 1, Peer: netip.MustParsePrefix("2001:db8::1/128")}, "peer"},
		{"broadcast v6", &Address{Prefix: netip.MustParsePrefix("2001:db8::1/64"), Index: 1, Broadcast: netip.MustParseAddr("2001:db8::ffff")}, "only IPv4"},
		{"label", &Address{Prefix: p, Index: 1, Label: "0123456789abcdef"}, "longer than 15"},
		{"preferred only", &Address{Prefix: p, Index: 1, PreferredLifetime: time.Second}, "without ValidLifetime"},
		{"preferred > valid", &Address{Prefix: p, Index: 1, PreferredLifetime: time.Hour, ValidLifetime: time.Minute}, "longer than valid"},
		{"negative", &Address{Prefix: p, Index: 1, ValidLifetime: -time.Second}, "out of range"},
	}
	for _, tt := range tests {
		err := c.AddAddress(ctx, tt.a)
		if !errors.Is(err, ErrInvalidAddress) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrInvalidAddress with %q", tt.name, err, tt.want)
		}
	}
	if err := c.DeleteAddress(ctx, &Address{Prefix: p}); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("delete without index: %v", err)
	}
	if len(k.requests) != 0 {
		t.Fatalf("invalid input reached the kernel: %d requests", len(k.requests))
	}
}

func FuzzAddressUnmarshal(f *testing.F) {
	seeds := []Address{
		{Family: 2, Index: 3, Prefix: netip.MustParsePrefix("10.0.0.1/24"), Broadcast: netip.MustParseAddr("10.0.0.255"),
			Label: "va", ValidLifetime: Forever, PreferredLifetime: 20 * time.Second, Flags: 0x280, Metric: 5, Protocol: 1},
		{Family: 10, Index: 2, Prefix: netip.MustParsePrefix("2001:db8::1/64"), Peer: netip.MustParsePrefix("2001:db8::2/64")},
	}
	for _, s := range seeds {
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Add(addrTestAttr(addrTestHeader(35, 0, 0, 0, 9), ifaLocal, []byte{0x40}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Address
		if err := a.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", a, err)
		}
		var again Address
		if err := again.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-decode of %+v: %v", a, err)
		}
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("round trip:\n first %+v\nsecond %+v", a, again)
		}
	})
}
