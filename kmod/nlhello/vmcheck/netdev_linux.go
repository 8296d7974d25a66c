package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func ioctlSock() (int, error) {
	return unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
}

// ifIndex returns the index of an interface (SIOCGIFINDEX).
func ifIndex(name string) (int, error) {
	fd, err := ioctlSock()
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// setUp sets IFF_UP on an interface.
func setUp(name string) error {
	fd, err := ioctlSock()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS %s: %w", name, err)
	}
	return nil
}

// setAddr gives an interface an IPv4 address and netmask.
func setAddr(name string, addr, mask [4]byte) error {
	fd, err := ioctlSock()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, x := range []struct {
		req uint
		ip  [4]byte
	}{{unix.SIOCSIFADDR, addr}, {unix.SIOCSIFNETMASK, mask}} {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := ifr.SetInet4Addr(x.ip[:]); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, x.req, ifr); err != nil {
			return fmt.Errorf("ioctl %#x %s: %w", x.req, name, err)
		}
	}
	return nil
}

// disableIPv6 stops IPv6 autoconfiguration traffic (router solicitations,
// MLD) on an interface so that only the packets a check sends go out.
func disableIPv6(name string) error {
	err := os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1\n"), 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// prepareIface makes the interface ready for traffic: IPv6 off, up, and
// 10.199.0.1/24 so that UDP to 10.199.0.2 is routed through it.
func prepareIface(name string) (int, error) {
	idx, err := ifIndex(name)
	if err != nil {
		return 0, err
	}
	if err := disableIPv6(name); err != nil {
		return 0, err
	}
	if err := setUp(name); err != nil {
		return 0, err
	}
	if err := setAddr(name, [4]byte{10, 199, 0, 1}, [4]byte{255, 255, 255, 0}); err != nil {
		return 0, err
	}
	return idx, nil
}

var udpPeer = unix.SockaddrInet4{Port: 5555, Addr: [4]byte{10, 199, 0, 2}}

// pktSender sends packets out of one interface through an AF_PACKET socket.
type pktSender struct {
	fd      int
	ifindex int
}

func newPktSender(ifindex int) (*pktSender, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket(AF_PACKET): %w", err)
	}
	return &pktSender{fd: fd, ifindex: ifindex}, nil
}

func (p *pktSender) send(proto uint16, data []byte) error {
	return unix.Sendto(p.fd, data, 0, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: p.ifindex})
}

func (p *pktSender) Close() error { return unix.Close(p.fd) }

// module helpers

func loadModule(ko, params string) error {
	f, err := os.Open(ko)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), params, 0); err != nil {
		return fmt.Errorf("finit_module(%s, %q): %w", ko, params, err)
	}
	return nil
}

func unloadModule() error {
	if err := unix.DeleteModule("nlhello", unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("delete_module(nlhello): %w", err)
	}
	return nil
}

func moduleLoaded() bool {
	_, err := os.Stat("/sys/module/nlhello")
	return err == nil
}

func readSys(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
