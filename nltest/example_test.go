package nltest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// An endpoint with a multicast group: a request changes state and the
// change is announced to the group, as kernel families do.
func ExampleNewEndpoint() {
	const setType = netlink.MinType
	ep := nltest.NewEndpoint(31, nltest.Config{
		Groups: 1,
		Input: func(r *nltest.Request) error {
			_, err := r.Multicast(1, netlink.Message{
				Header: netlink.Header{Type: setType},
				Data:   append([]byte("set to "), r.Message.Data...),
			})
			return err
		},
	})
	listener, err := ep.Dial(&netlink.Config{Groups: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer listener.Close()
	c, err := ep.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx := context.Background()
	if _, err := c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: setType}, Data: []byte("42")}); err != nil {
		log.Fatal(err)
	}
	events, err := listener.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range events {
		fmt.Printf("event: %s\n", m.Data)
	}
	// Output:
	// event: set to 42
}
