//go:build !linux

package rtnl

import (
	"context"
	"errors"
)

func (c *Client) addTun(context.Context, *Link, *Tun) error {
	return errors.New("rtnl: tun/tap devices exist only on Linux")
}
