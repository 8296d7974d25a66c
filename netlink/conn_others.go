//go:build !linux

package netlink

import (
	"errors"
)

// errUnsupported is returned by Dial on systems without netlink.
var errUnsupported = errors.New("netlink: not supported on this operating system")

// Dial opens a netlink socket; netlink exists only on Linux, so here it
// always fails. The wire code and Conn over other Sockets (nltest) work
// everywhere.
func Dial(protocol int, cfg *Config) (*Conn, error) {
	return nil, &OpError{Op: "dial", Err: errUnsupported, Offset: -1}
}

// RunInNetNS runs fn; namespaces exist only on Linux, so naming one fails.
func RunInNetNS(cfg *Config, fn func() error) error {
	if cfg != nil && (cfg.NetNSFD > 0 || cfg.NetNS != "") {
		return errUnsupported
	}
	return fn()
}
