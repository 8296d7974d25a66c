//go:build linux

package main

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nlkit/nlkit/internal/nstest"
)

// On a kernel without nlhello (this host: the module only runs in the VM
// of internal/vmtest), every hello command fails and says why.
func TestHelloNotLoaded(t *testing.T) {
	for _, p := range []int{31, 30} {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, p)
		if err == nil {
			unix.Close(fd)
			t.Skipf("something serves netlink protocol %d here (nlhello loaded?)", p)
		}
		if !errors.Is(err, unix.EPROTONOSUPPORT) {
			t.Fatalf("socket(AF_NETLINK, %d): %v", p, err)
		}
	}
	ns := nstest.New(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"hello"}, "protocol 31: is nlhello.ko loaded?"},
		{[]string{"hello", "Hello world"}, "protocol 31: is nlhello.ko loaded?"},
		{[]string{"-j", "hello", "stats"}, "protocol 31: is nlhello.ko loaded?"},
		{[]string{"hello", "watch", "-c", "1"}, "protocol 31: is nlhello.ko loaded?"},
		{[]string{"hello", "--protocol", "30"}, "protocol 30: is nlhello.ko loaded?"},
		{[]string{"hello", "--protocol", "30", "stats"}, "protocol 30: is nlhello.ko loaded?"},
		{[]string{"hello", "--genl"}, `family "nlhello": is nlhello.ko loaded?`},
		{[]string{"hello", "--genl", "stats"}, `family "nlhello": is nlhello.ko loaded?`},
		{[]string{"hello", "--genl", "watch"}, `family "nlhello": is nlhello.ko loaded?`},
		{[]string{"-n", ns.Name, "hello"}, "protocol 31: is nlhello.ko loaded?"},
		{[]string{"-n", ns.Name, "hello", "--genl", "stats"}, `family "nlhello": is nlhello.ko loaded?`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error containing %q", tt.args, code, out, errOut, tt.want)
		}
		if strings.Count(errOut, "\n") != 1 || strings.Count(errOut, "hello:") > 1 {
			t.Errorf("%v: error not one clear line: %q", tt.args, errOut)
		}
	}
}
