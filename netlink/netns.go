package netlink

import (
	"path/filepath"
	"strings"
)

// NetNSPath returns the file of a network namespace given as `ip netns`
// names it (a file in /run/netns) or, if it holds a slash, as a path such
// as /proc/PID/ns/net.
func NetNSPath(name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	return filepath.Join("/run/netns", name)
}
