package netfilter_test

import (
	"context"
	"fmt"

	"github.com/nlkit/nlkit/netfilter"
	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// A subsystem client: a request with big-endian attributes after the
// nfgenmsg header, and the reply's attributes decoded. It runs here on
// nltest's fake kernel; netfilter.Dial(nil) gives the real one.
func Example() {
	ep := nltest.NewEndpoint(netlink.Netfilter, nltest.Config{
		Input: func(r *nltest.Request) error {
			m, err := netfilter.ParseMessage(r.Message)
			if err != nil {
				return err
			}
			// Answer with the request's own attributes.
			reply, err := m.NetlinkMessage(0)
			if err != nil {
				return err
			}
			return r.Reply(reply)
		},
	})
	nc, err := ep.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := netfilter.NewConn(nc)
	defer c.Close()

	e := netfilter.NewAttributeEncoder()
	e.Uint32(8, 42) // CTA_MARK, big-endian
	attrs, err := e.Encode()
	if err != nil {
		fmt.Println(err)
		return
	}
	replies, err := c.Execute(context.Background(), netfilter.Message{
		Type:   netfilter.NewMessageType(netfilter.SubsysCTNetlink, 1), // IPCTNL_MSG_CT_GET
		Header: netfilter.Header{Family: netfilter.FamilyIPv4, Version: netfilter.Version0},
		Data:   attrs,
	}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range replies {
		d := netfilter.NewAttributeDecoder(r.Data)
		for d.Next() {
			fmt.Printf("%v %v: attribute %d = %d\n", r.Type, r.Header.Family, d.Type(), d.Uint32())
		}
		if err := d.Err(); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// ctnetlink/1 ipv4: attribute 8 = 42
}
