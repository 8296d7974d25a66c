package leaktest

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// Main runs the tests and exits, with status 1 if goroutines leaked.
func Main(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !fuzzing() {
		if err := Check(before); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzing reports whether the binary runs as a fuzzer.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// Check waits up to 5 s for goroutines on their way out (timer callbacks,
// context.AfterFunc) and reports those still running beyond before.
func Check(before int) error {
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
