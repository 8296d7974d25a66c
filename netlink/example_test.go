package netlink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"syscall"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/nltest"
)

// A request and its reply, on a fake kernel endpoint that answers "Hello
// world" with "Thank you" and anything else with an extended-ack error.
func ExampleConn_Execute() {
	const helloType = netlink.MinType
	ep := nltest.NewEndpoint(31, nltest.Config{
		Input: func(r *nltest.Request) error {
			if string(r.Message.Data) != "Hello world\x00" {
				return &nltest.Error{Errno: syscall.EINVAL, Message: "say hello"}
			}
			return r.Reply(netlink.Message{
				Header: netlink.Header{Type: r.Message.Header.Type},
				Data:   []byte("Thank you\x00"),
			})
		},
	})
	c, err := ep.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	replies, err := c.Execute(ctx, netlink.Message{
		Header: netlink.Header{Type: helloType},
		Data:   []byte("Hello world\x00"),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range replies {
		fmt.Printf("reply type %v: %s\n", m.Header.Type, bytes.TrimRight(m.Data, "\x00"))
	}

	_, err = c.Execute(ctx, netlink.Message{
		Header: netlink.Header{Type: helloType},
		Data:   []byte("Goodbye\x00"),
	})
	fmt.Println(err)
	fmt.Println("EINVAL:", errors.Is(err, syscall.EINVAL))
	// Output:
	// reply type 0x10: Thank you
	// netlink execute: invalid argument: say hello
	// EINVAL: true
}

// A dump streams the kernel's multi-part answer one message at a time.
func ExampleConn_Dump() {
	ep := nltest.NewEndpoint(31, nltest.Config{
		Input: func(r *nltest.Request) error {
			var msgs []netlink.Message
			for _, name := range []string{"lo", "eth0", "wlan0"} {
				var e netlink.AttributeEncoder
				e.String(1, name)
				b, err := e.Encode()
				if err != nil {
					return err
				}
				msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: netlink.MinType}, Data: b})
			}
			return r.Dump(msgs, nltest.DumpOptions{})
		},
	})
	c, err := ep.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	for m, err := range c.Dump(context.Background(), netlink.Message{Header: netlink.Header{Type: netlink.MinType}}) {
		if err != nil {
			log.Fatal(err)
		}
		d := netlink.NewAttributeDecoder(m.Data) // m.Data is valid until the loop continues
		for d.Next() {
			if d.Type() == 1 {
				fmt.Println(d.String(), m.Header.Flags)
			}
		}
		if err := d.Err(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// lo multi
	// eth0 multi
	// wlan0 multi
}

func ExampleAttributeDecoder() {
	// Encode a name, an MTU and a nest holding a flag, as a family would.
	var e netlink.AttributeEncoder
	e.String(3, "eth0")
	e.Uint32(4, 1500)
	e.Nested(18, func(e *netlink.AttributeEncoder) {
		e.Flag(1, true)
	})
	b, err := e.Encode()
	if err != nil {
		log.Fatal(err)
	}

	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case 3:
			fmt.Println("name:", d.String())
		case 4:
			fmt.Println("mtu:", d.Uint32())
		case 18:
			fmt.Printf("nest %d, NLA_F_NESTED set: %v\n", d.Type(), d.TypeWithFlags()&netlink.AttrNested != 0)
			d.Nested(func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					fmt.Println("  flag", nd.Type(), nd.Flag())
				}
				return nil
			})
		}
	}
	if err := d.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// name: eth0
	// mtu: 1500
	// nest 18, NLA_F_NESTED set: true
	//   flag 1 true
}

func ExampleParser() {
	var buf []byte
	for i, typ := range []netlink.HeaderType{netlink.MinType, netlink.MinType, netlink.Done} {
		m := netlink.Message{Header: netlink.Header{Type: typ, Flags: netlink.Multi, Sequence: 7}, Data: []byte{byte(i)}}
		var err error
		if buf, err = m.AppendBinary(buf); err != nil {
			log.Fatal(err)
		}
	}
	var p netlink.Parser
	p.Reset(buf)
	for p.Next() {
		fmt.Println(netlink.FormatMessage(p.Message()))
	}
	if err := p.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {len=17 type=0x10 flags=multi seq=7 pid=0} payload=1B
	// {len=17 type=0x10 flags=multi seq=7 pid=0} payload=1B
	// {len=17 type=done flags=multi seq=7 pid=0}
}
