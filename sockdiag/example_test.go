package sockdiag_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/sockdiag"
)

// List the listening TCP sockets of namespace "blue", as
// `ip netns exec blue ss -tln` does.
func ExampleClient_InetSockets() {
	c, err := sockdiag.Dial(&netlink.Config{NetNS: "blue"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	for _, f := range []sockdiag.Family{sockdiag.FamilyIPv4, sockdiag.FamilyIPv6} {
		req := sockdiag.InetRequest{Family: f, Protocol: sockdiag.ProtocolTCP, States: sockdiag.States(sockdiag.StateListen)}
		for s, err := range c.InetSockets(ctx, req) {
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(s.ID.Local, "backlog", s.SendQueue, "inode", s.Inode)
		}
	}
}

// Close every connection to a server that went away, as
// `ss -K dst 192.0.2.7` does.
func ExampleClient_Destroy() {
	c, err := sockdiag.Dial(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	socks, err := c.ListInetSockets(ctx, sockdiag.InetRequest{
		Family: sockdiag.FamilyIPv4, Protocol: sockdiag.ProtocolTCP, States: sockdiag.ConnectedStates,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range socks {
		if s.ID.Remote.Addr().String() != "192.0.2.7" {
			continue
		}
		err := c.Destroy(ctx, s)
		switch {
		case errors.Is(err, sockdiag.ErrNoSocket):
			// closed meanwhile
		case errors.Is(err, sockdiag.ErrNotSupported):
			fmt.Println("this kernel cannot destroy sockets:", err)
			return
		case err != nil:
			fmt.Println(err) // EPERM without CAP_NET_ADMIN
			return
		}
	}
}
