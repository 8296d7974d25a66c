//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "vmcheck runs only on Linux, inside the audit test VM")
	os.Exit(2)
}
