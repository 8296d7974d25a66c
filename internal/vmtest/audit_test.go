package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// AuditCaptureEnv, set to 1, makes TestAuditVM save the raw datagrams
// the guest captured to audit/testdata/.
const AuditCaptureEnv = "NLKIT_AUDIT_CAPTURE"

// TestAuditVM boots Debian's kernel (audit built in, off at boot) with
// audit/vmcheck and the nlkit command and fails if any check in the guest
// fails: status, enabling, rules added and listed back, registering as
// the audit daemon and receiving the grouped events of a watched write
// and an exec, `nlkit audit` as root and as nobody, the read-log group,
// and restoring everything. The host's audit configuration is never
// touched. Extra vmcheck flags can be given in NLKIT_AUDITCHECK_ARGS
// (e.g. "-run rules"); NLKIT_AUDIT_CAPTURE=1 refreshes audit/testdata.
func TestAuditVM(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VM tests run on Linux only")
	}
	start := time.Now()
	tools := EnsureTools(t)
	check := BuildGo(t, "./audit/vmcheck")
	nlkit := BuildGo(t, "./cmd/nlkit")
	capture := os.Getenv(AuditCaptureEnv) == "1"
	cmd := []string{"/bin/auditcheck", "-nlkit", "/bin/nlkit"}
	if capture {
		cmd = append(cmd, "-capture")
	}
	cmd = append(cmd, strings.Fields(os.Getenv("NLKIT_AUDITCHECK_ARGS"))...)
	res := Boot(t, Config{
		Tools:   tools,
		Files:   map[string]string{"/bin/auditcheck": check, "/bin/nlkit": nlkit},
		Command: cmd,
		Timeout: 3 * time.Minute,
	})
	var failed []string
	passed := 0
	for _, l := range strings.Split(res.Console, "\n") {
		switch {
		case strings.HasPrefix(l, "--- FAIL"):
			failed = append(failed, l)
		case strings.HasPrefix(l, "--- PASS"):
			passed++
		}
	}
	if len(failed) > 0 {
		t.Errorf("failed in the guest:\n%s", strings.Join(failed, "\n"))
	}
	if passed == 0 {
		t.Errorf("no check passed in the guest")
	}
	if capture {
		if err := saveAuditCaptures(t, res.Console); err != nil {
			t.Error(err)
		}
	}
	t.Logf("boot %v, guest checks %v, whole test %v",
		res.BootTime.Round(time.Millisecond), res.RunTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// saveAuditCaptures writes the guest's "CAPTURE-NOTE name text" and
// "CAPTURE name hex" lines to audit/testdata/name: the note as a comment,
// then one datagram per line in hex.
func saveAuditCaptures(t *testing.T, console string) error {
	files := map[string]*strings.Builder{}
	get := func(name string) *strings.Builder {
		b, ok := files[name]
		if !ok {
			b = &strings.Builder{}
			files[name] = b
		}
		return b
	}
	for _, l := range strings.Split(console, "\n") {
		verb, rest, _ := strings.Cut(l, " ")
		name, data, ok := strings.Cut(rest, " ")
		if !ok || filepath.Base(name) != name || !strings.HasSuffix(name, ".hex") {
			continue
		}
		switch verb {
		case "CAPTURE-NOTE":
			fmt.Fprintf(get(name), "# %s\n", data)
		case "CAPTURE":
			fmt.Fprintf(get(name), "%s\n", data)
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("%s=1 but the guest captured nothing", AuditCaptureEnv)
	}
	dir := filepath.Join(RepoRoot(t), "audit", "testdata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name, b := range files {
		head := fmt.Sprintf("# Captured by TestAuditVM (%s=1) in a VM running %s.\n", AuditCaptureEnv, guestKernel())
		if err := os.WriteFile(filepath.Join(dir, name), []byte(head+b.String()), 0o644); err != nil {
			return err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	t.Logf("saved %s in %s", strings.Join(names, ", "), dir)
	return nil
}

// guestKernel names the kernel image the VM booted.
func guestKernel() string {
	tools, err := FindTools()
	if err != nil {
		return "an unknown kernel"
	}
	return "Linux " + tools.Release
}
