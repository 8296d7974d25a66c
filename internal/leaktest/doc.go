// Package leaktest fails a package's test run if goroutines started by its
// tests are still running at the end: every Conn, dump loop and context
// watcher must be gone. Use it from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.Main(m) }
//
// Fuzzing runs are exempt: the fuzzing engine keeps goroutines of its own.
package leaktest
