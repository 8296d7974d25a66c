package netlink_test

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the run if goroutines started by the tests are still
// running at the end: every Conn, dump and context watcher must be gone.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !fuzzing() {
		if err := checkGoroutines(before); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzing reports whether the binary runs as a fuzzer, whose engine keeps
// goroutines of its own.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// checkGoroutines waits a little for goroutines on their way out (timer
// callbacks, context.AfterFunc) and reports those still running.
func checkGoroutines(before int) error {
	var n int
	for range 500 {
		if n = runtime.NumGoroutine(); n <= before {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return fmt.Errorf("leaked goroutines: %d at start, %d at end:\n%s", before, n, buf)
}
