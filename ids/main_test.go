package ids_test

import (
	"testing"

	"github.com/nlkit/nlkit/internal/leaktest"
)

// TestMain fails the run if goroutines started by the tests leak.
func TestMain(m *testing.M) { leaktest.Main(m) }
