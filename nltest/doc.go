// Package nltest is a fake netlink kernel for unit tests: the kernel side
// of the netlink classroom, in Go, with no privileges needed.
//
// An Endpoint is what a driver creates with netlink_kernel_create(net,
// protocol, cfg): a protocol number, a number of multicast groups and an
// input callback. User sockets dialled to it are real *netlink.Conn values,
// so every layer above the wire (family clients, the CLI's logic) runs
// unchanged on it:
//
//	ep := nltest.NewEndpoint(31, nltest.Config{
//		Groups: 1,
//		Input: func(r *nltest.Request) error {
//			if string(r.Message.Data) != "Hello world\x00" {
//				return &nltest.Error{Errno: syscall.EINVAL, Message: "say hello"}
//			}
//			return r.Reply(netlink.Message{
//				Header: netlink.Header{Type: r.Message.Header.Type},
//				Data:   []byte("Thank you\x00"),
//			})
//		},
//	})
//	c, _ := ep.Dial(nil)
//	replies, err := c.Execute(ctx, netlink.Message{Header: netlink.Header{Type: 0x10}, Data: []byte("Hello world\x00")})
//
// The callback sees each request message and the sender's port ID. It can
// unicast replies to that port (Request.Reply), produce multi-part dumps
// (Request.Dump, also interrupted ones or ones ending in an error),
// multicast to groups (Endpoint.Multicast) and fail with an errno and
// extended-ack text (*Error). Acknowledgements follow the kernel's
// netlink_rcv_skb: an error always answers, success answers only when
// NLM_F_ACK was set, and a dump is never acknowledged.
//
// Faithful where it matters for clients: each socket has a receive buffer
// (a datagram that does not fit is dropped and the next read reports
// ENOBUFS), dumps are produced a datagram at a time as the socket reads
// them and a second dump while one runs fails with EBUSY, joining a group
// beyond Config.Groups fails with EINVAL, and SpoofUnicast and
// SpoofMulticast deliver messages from a user-space port, as any local
// process could, to test sender checks.
//
// Concurrency: an Endpoint and its sockets are safe for concurrent use.
// The input callback runs in the sending goroutine, as the kernel runs
// cfg.input in the sender's context.
package nltest
