package uevent_test

import (
	"context"
	"fmt"

	"github.com/nlkit/nlkit/netlink"
	"github.com/nlkit/nlkit/uevent"
	"github.com/nlkit/nlkit/uevent/ueventtest"
)

// Subscribe to the kernel's events of network devices. The fake socket
// stands in for the kernel; uevent.Subscribe(nil, opts) opens a real one.
func ExampleNewSubscription() {
	sock := ueventtest.New()
	sub, err := uevent.NewSubscription(sock.Conn(), &uevent.Options{
		Filter: uevent.Filter{Subsystems: []string{"net"}},
	})
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	// A forgery from a user port, a disk, and a veth from the kernel.
	sock.Deliver([]byte("add@/devices/virtual/net/evil\x00ACTION=add\x00DEVPATH=/devices/virtual/net/evil\x00SUBSYSTEM=net\x00"),
		netlink.Addr{Port: 4242, Groups: 1, HasCreds: true})
	sock.Kernel(uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/block/loop0", Subsystem: "block", SeqNum: 1})
	sock.Kernel(uevent.Event{Action: uevent.Add, DevPath: "/devices/virtual/net/veth0", Subsystem: "net", SeqNum: 2,
		Properties: []uevent.Property{{Key: "INTERFACE", Value: "veth0"}}})

	ev, err := sub.Next(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Source, ev.Action, ev.DevPath, ev.Property("INTERFACE"), ev.SeqNum)
	st := sub.Stats()
	fmt.Printf("rejected %d, filtered %d\n", st.Rejected, st.Filtered)
	// Output:
	// kernel add /devices/virtual/net/veth0 veth0 2
	// rejected 1, filtered 1
}

// Decode a datagram as the kernel sends it.
func ExampleEvent_UnmarshalBinary() {
	b := []byte("remove@/devices/virtual/net/veth0\x00ACTION=remove\x00DEVPATH=/devices/virtual/net/veth0\x00SUBSYSTEM=net\x00INTERFACE=veth0\x00IFINDEX=3\x00SEQNUM=2911\x00")
	var ev uevent.Event
	if err := ev.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	fmt.Println(ev.Action, ev.Subsystem, ev.SeqNum)
	for _, p := range ev.Properties {
		fmt.Println(p)
	}
	// Output:
	// remove net 2911
	// ACTION=remove
	// DEVPATH=/devices/virtual/net/veth0
	// SUBSYSTEM=net
	// INTERFACE=veth0
	// IFINDEX=3
	// SEQNUM=2911
}
