//go:build linux

package rtnl

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/netlink"
)

// addTun creates a persistent tun or tap device with the TUNSETIFF ioctl
// (the kernel has no rtnetlink path for it), in the Client's namespace,
// then applies the other attributes of l with a link change. If that
// change fails, the device is removed again.
func (c *Client) addTun(ctx context.Context, l *Link, t *Tun) error {
	// TUNSETIFF on an existing name would attach to that device (or fail
	// with EINVAL for another kind): refuse as RTM_NEWLINK would.
	if _, err := c.LinkByName(ctx, l.Name); err == nil {
		return fmt.Errorf("rtnl: add link %q: %w", l.Name, unix.EEXIST)
	} else if !errors.Is(err, ErrNoLink) {
		return err
	}
	err := netlink.RunInNetNS(&c.cfg, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq(l.Name)
		if err != nil {
			return err
		}
		flags := uint16(unix.IFF_TUN | unix.IFF_TUN_EXCL)
		if t.Tap {
			flags = unix.IFF_TAP | unix.IFF_TUN_EXCL
		}
		if !t.PI {
			flags |= unix.IFF_NO_PI
		}
		if t.VnetHdr {
			flags |= unix.IFF_VNET_HDR
		}
		if t.MultiQueue {
			flags |= unix.IFF_MULTI_QUEUE
		}
		ifr.SetUint16(flags)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			return os.NewSyscallError("TUNSETIFF", err)
		}
		if t.Owner != nil {
			if err := unix.IoctlSetInt(fd, unix.TUNSETOWNER, int(*t.Owner)); err != nil {
				return os.NewSyscallError("TUNSETOWNER", err)
			}
		}
		if t.Group != nil {
			if err := unix.IoctlSetInt(fd, unix.TUNSETGROUP, int(*t.Group)); err != nil {
				return os.NewSyscallError("TUNSETGROUP", err)
			}
		}
		return os.NewSyscallError("TUNSETPERSIST", unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1))
	})
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			err = fmt.Errorf("%w (a device with this name exists)", unix.EEXIST)
		}
		return fmt.Errorf("rtnl: add link %q: %w", l.Name, err)
	}
	ch := LinkChange{MTU: l.MTU, HardwareAddr: l.HardwareAddr}
	if l.Master != 0 {
		ch.Master = &l.Master
	}
	if l.TxQueueLen != 0 {
		ch.TxQueueLen = &l.TxQueueLen
	}
	if l.Alias != "" {
		ch.Alias = &l.Alias
	}
	if ch.MTU == 0 && ch.HardwareAddr == nil && ch.Master == nil && ch.TxQueueLen == nil && ch.Alias == nil {
		return nil
	}
	created, err := c.LinkByName(ctx, l.Name)
	if err == nil {
		err = c.SetLink(ctx, created.Index, ch)
		if err != nil {
			_ = c.DeleteLink(ctx, created.Index)
		}
	}
	return err
}
