package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
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
	if _, err := openSock(e.protocol, 1<<(groupPackets-1)); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("bind to group %d: %v, want EPERM", groupPackets, err)
	}
	fmt.Println("bind() to the packets group -> EPERM")
	s, err := openSock(e.protocol, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.join(groupPackets); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("NETLINK_ADD_MEMBERSHIP %d: %v, want EPERM", groupPackets, err)
	}
	fmt.Println("NETLINK_ADD_MEMBERSHIP -> EPERM")
	fake := encode(msgPacket, 0, 0, encodeAttr(pktIfindex, []byte{1, 0, 0, 0}))
	err = unix.Sendto(s.fd, fake, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (groupPackets - 1)})
	if !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("sending a fake notification to the group: %v, want EPERM", err)
	}
	fmt.Println("sendto() the packets group -> EPERM")
	m, err := s.request(msgHello, fReq, 5, []byte("Hello from nobody\x00"))
	if err != nil {
		return err
	}
	if err := checkHelloReply(m, 5); err != nil {
		return err
	}
	if _, err := rawStats(s, 6); err != nil {
		return err
	}
	fmt.Println("raw HELLO and STATS -> answered")

	g, f, err := openGenl()
	if err != nil {
		return err
	}
	defer g.Close()
	if err := g.join(int(f.Groups[genlMcgrp])); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("joining genl group %q: %v, want EPERM", genlMcgrp, err)
	}
	fmt.Println("genl join \"packets\" -> EPERM")
	m, err = g.request(f.ID, fReq, 7, genlMsg(genlCmdHello, encodeAttr(genlAttrText, []byte("hi\x00"))))
	if err != nil {
		return err
	}
	if err := checkGenlHelloReply(g, f, m, 7); err != nil {
		return err
	}
	if _, err := genlStats(g, f, 8); err != nil {
		return err
	}
	fmt.Println("genl HELLO and GET_STATS -> answered")
	return nil
}
