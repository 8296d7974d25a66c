package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/hello"
	"github.com/nlkit/nlkit/netlink"
)

// checkUnprivileged runs this program again as uid/gid 65534 without
// capabilities: it may talk to the module (hello, stats) but not subscribe
// to the packet notifications, nor send to the multicast group.
func checkUnprivileged(e *env) error {
	cmd := exec.Command("/proc/self/exe", "-child", "unprivileged",
		"-protocol", strconv.Itoa(e.protocol), "-ifname", e.ifname)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		logf("child: %s", l)
	}
	if err != nil {
		return fmt.Errorf("unprivileged child: %v", err)
	}
	return nil
}

// childUnprivileged is the body of the unprivileged child.
func childUnprivileged(e *env) error {
	fmt.Printf("uid %d euid %d\n", os.Getuid(), os.Geteuid())
	if os.Geteuid() == 0 {
		return errors.New("still root")
	}
	if _, err := netlink.Dial(e.protocol, &netlink.Config{Groups: 1 << (hello.GroupPackets - 1)}); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("bind to group %d: %v, want EPERM", hello.GroupPackets, err)
	}
	fmt.Println("netlink.Dial with Config.Groups = packets -> EPERM")
	if _, err := hello.Watch(e.protocol, nil); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("hello.Watch: %v, want EPERM", err)
	} else {
		fmt.Printf("hello.Watch -> %v\n", err)
	}

	// What a hostile local process would try: a fake notification sent to
	// the group. The library never sends to a group; raw syscalls.
	s, err := openSock(e.protocol)
	if err != nil {
		return err
	}
	defer s.Close()
	fake := encode(uint16(hello.MsgPacket), 0, 0, encodeAttr(uint16(hello.PacketIfIndex), []byte{1, 0, 0, 0}))
	err = unix.Sendto(s.fd, fake, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (hello.GroupPackets - 1)})
	if !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("sending a fake notification to the group: %v, want EPERM", err)
	}
	fmt.Println("sendto() the packets group -> EPERM")

	c, err := client(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := sayHello(c, "Hello from nobody"); err != nil {
		return err
	}
	if _, err := stats(c); err != nil {
		return err
	}
	fmt.Println("raw Hello and Stats -> answered")

	ctx := context.Background()
	if _, err := hello.WatchGeneric(ctx, nil); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("hello.WatchGeneric: %v, want EPERM", err)
	} else {
		fmt.Printf("hello.WatchGeneric -> %v\n", err)
	}
	g, err := genericClient()
	if err != nil {
		return err
	}
	defer g.Close()
	if err := sayHello(g, "hi"); err != nil {
		return err
	}
	sctx, cancel := timeout(0)
	defer cancel()
	if _, err := g.Stats(sctx); err != nil {
		return err
	}
	fmt.Println("genl Hello and Stats -> answered")
	return nil
}
