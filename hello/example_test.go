package hello_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/hello/hellotest"
	"github.com/nlkit/nlkit/netlink"
)

// Say hello to the module. On a real system, hello.Dial(0, nil) opens the
// socket; here the fake module of package hellotest answers.
func ExampleClient_Hello() {
	m := hellotest.New(nil)
	c, err := m.Dial(nil) // hello.Dial(0, nil)
	if errors.Is(err, hello.ErrNotLoaded) {
		fmt.Println(err) // hello: no kernel endpoint on netlink protocol 31: is nlhello.ko loaded?
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	reply, err := c.Hello(context.Background(), "Hello world")
	fmt.Println(reply, err)
	// Output: Thank you <nil>
}

// Watch the packets the module's interface sends.
func ExampleSubscription_Packets() {
	m := hellotest.New(nil)
	sub, err := m.Watch(nil) // hello.Watch(0, nil): subscribed when it returns
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	m.InjectPacket(hello.Packet{Protocol: 0x0800, Data: []byte{0x45, 0, 0, 20}})

	for p, err := range sub.Packets(context.Background()) {
		if errors.Is(err, netlink.ErrOverrun) {
			fmt.Println("packets were lost")
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("if %d: %d bytes, protocol %#04x, % x\n", p.IfIndex, p.Length, p.Protocol, p.Data)
		break
	}
	// Output: if 2: 4 bytes, protocol 0x0800, 45 00 00 14
}
