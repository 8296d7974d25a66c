package main

import (
	"strings"
	"testing"
)

// TestGenlBadArguments: argument errors are found before any socket is
// opened, on every OS.
func TestGenlBadArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"genl", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"genl", "show", "a", "b"}, `unknown argument "b"`},
		{[]string{"genl", "list", "extra"}, `unknown argument "extra"`},
		{[]string{"genl", "ctrl", "get"}, "genl ctrl get: missing family"},
		{[]string{"genl", "ctrl", "get", "name"}, `genl ctrl: missing value after "name"`},
		{[]string{"genl", "ctrl", "get", "id"}, `genl ctrl: missing value after "id"`},
		{[]string{"genl", "ctrl", "get", "id", "zz"}, `id "zz": not a family ID from 0 to 0xffff`},
		{[]string{"genl", "ctrl", "get", "id", "0x10000"}, `id "0x10000": not a family ID`},
		{[]string{"genl", "ctrl", "frob"}, `unknown command "frob"`},
	}
	for _, tt := range tests {
		out, errOut, code := nlkit(t, tt.args...)
		if code == 0 || out != "" || !strings.HasPrefix(errOut, "nlkit: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error containing %q", tt.args, code, out, errOut, tt.want)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("%v: stack trace: %s", tt.args, errOut)
		}
	}
}
