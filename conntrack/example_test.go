package conntrack_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/nlkit/nlkit/conntrack"
	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// Listing the table with a mark filter. It runs here on a fake kernel
// that holds one flow; conntrack.Dial(nil) gives the real table.
func ExampleClient_List() {
	tu := conntrack.Tuple{
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Proto: conntrack.ProtoTCP, SrcPort: 40000, DstPort: 443,
	}
	flow := conntrack.Flow{
		Original: tu, Reply: tu.Reverse(), Mark: 7, Timeout: 300 * time.Second,
		Status: conntrack.StatusSeenReply | conntrack.StatusAssured,
		TCP:    &conntrack.TCPInfo{State: conntrack.TCPEstablished},
	}
	ep := nltest.NewEndpoint(netlink.Netfilter, nltest.Config{Input: func(r *nltest.Request) error {
		attrs, err := flow.MarshalBinary()
		if err != nil {
			return err
		}
		m, err := netfilter.Message{
			Type:   netfilter.NewMessageType(netfilter.SubsysCTNetlink, 0), // IPCTNL_MSG_CT_NEW
			Header: netfilter.Header{Family: netfilter.FamilyIPv4},
			Data:   attrs,
		}.NetlinkMessage(0)
		if err != nil {
			return err
		}
		return r.Dump([]netlink.Message{m}, nltest.DumpOptions{})
	}})
	nc, err := ep.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := conntrack.NewClient(netfilter.NewConn(nc))
	defer c.Close()

	mark := uint32(7)
	flows, err := c.List(context.Background(), &conntrack.Filter{Mark: &mark})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range flows {
		fmt.Println(f.Original.Proto, f.TCP.State, f.Original.Src, f.Original.Dst, f.Original.DstPort, f.Status, f.Timeout)
	}
	// Output:
	// tcp ESTABLISHED 10.0.0.1 10.0.0.2 443 SEEN_REPLY,ASSURED 5m0s
}
