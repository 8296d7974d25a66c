// Command nlkit does with netlink what ip, ip monitor, ss, conntrack and
// genl do, with JSON output throughout. See `nlkit --help`.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
