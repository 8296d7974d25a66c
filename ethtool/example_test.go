package ethtool_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/ethtool"
)

// Show a device's link settings, as `ethtool eth0` does (needs a kernel
// with the ethtool family: Linux 5.6 or later).
func ExampleClient_LinkModes() {
	ctx := context.Background()
	c, err := ethtool.Dial(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	dev := ethtool.Device{Name: "eth0"}
	lm, err := c.LinkModes(ctx, dev)
	if errors.Is(err, ethtool.ErrNoDevice) {
		fmt.Println(err) // ethtool: device "eth0" does not exist (kernel: no device matches name)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Speed:", lm.Speed, "Duplex:", lm.Duplex, "Advertised:", lm.Advertised())
	if ls, err := c.LinkState(ctx, dev); err == nil && ls.Link != nil {
		fmt.Println("Link detected:", *ls.Link)
	}
}

// List the features the way `ethtool -k` does.
func ExampleFeatures_Groups() {
	list := func(idx ...uint32) *ethtool.Bitset {
		b := &ethtool.Bitset{Size: 4, NoMask: true}
		for _, i := range idx {
			b.Bits = append(b.Bits, ethtool.Bit{Index: i, Value: true})
		}
		return b
	}
	f := ethtool.Features{
		Names:    []string{"tx-checksum-ipv4", "tx-checksum-ipv6", "rx-gro", "loopback"},
		HW:       &ethtool.Bitset{Size: 4, Bits: []ethtool.Bit{{Index: 0, Value: true}, {Index: 1, Value: true}, {Index: 2, Value: true}, {Index: 3}}},
		Wanted:   list(0, 2),
		Active:   list(0, 2),
		NoChange: list(),
	}
	for _, g := range f.Groups() {
		if g.Name != "tx-checksumming" && g.Name != "generic-receive-offload" && g.Name != "loopback" {
			continue
		}
		fmt.Printf("%s: %v\n", g.Name, g.Active())
		for _, x := range g.Features {
			fmt.Printf("\t%s: active %v fixed %v\n", x.Name, x.Active, x.Fixed)
		}
	}
	// Output:
	// tx-checksumming: true
	// 	tx-checksum-ipv4: active true fixed false
	// 	tx-checksum-ipv6: active false fixed false
	// generic-receive-offload: true
	// 	rx-gro: active true fixed false
	// loopback: false
	// 	loopback: active false fixed true
}

// A bit set decodes to the same bits in either wire form.
func ExampleBitset() {
	b := ethtool.Bitset{Size: 40, Compact: true, Bits: []ethtool.Bit{{Index: 3, Value: true}, {Index: 33}}}
	data, _ := b.MarshalBinary()
	var got ethtool.Bitset
	if err := got.UnmarshalBinary(data); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Has(33), got.Test(33), got.Test(3), got.SetNames())
	// Output: true false true [3]
}
