package genl_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/genl"
	"github.com/nlkit/nlkit/genl/genltest"
	"github.com/nlkit/nlkit/netlink"
)

// A family client: resolve the family by name, send a command with
// attributes, decode the reply's attributes. It runs here on the fake
// kernel of genltest; genl.Dial(nil) gives the real one.
func Example() {
	k := genltest.New()
	k.Register(genl.Family{Name: "nlhello", Version: 1, Ops: []genl.Op{{ID: 1, Flags: genl.OpCapDo}}},
		func(r *genltest.Request) error {
			var e netlink.AttributeEncoder
			e.String(1, "Thank you")
			attrs, err := e.Encode()
			if err != nil {
				return err
			}
			return r.Reply(genl.Message{Header: genl.Header{Command: 1, Version: 1}, Data: attrs})
		})
	c, err := k.Dial(nil) // genl.Dial(nil) on Linux
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	f, err := c.Family(ctx, "nlhello")
	if err != nil {
		fmt.Println(err)
		return
	}
	var e netlink.AttributeEncoder
	e.String(1, "Hello world") // NLHELLO_GENL_ATTR_TEXT
	attrs, err := e.Encode()
	if err != nil {
		fmt.Println(err)
		return
	}
	replies, err := c.Execute(ctx, f.ID, genl.Message{Header: genl.Header{Command: 1, Version: f.Version}, Data: attrs}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range replies {
		d := netlink.NewAttributeDecoder(r.Data)
		for d.Next() {
			if d.Type() == 1 {
				fmt.Printf("%s replied: %s\n", f.Name, d.String())
			}
		}
	}
	_, err = c.Family(ctx, "nosuch")
	fmt.Println(errors.Is(err, genl.ErrFamilyNotFound))
	// Output:
	// nlhello replied: Thank you
	// true
}
