package vmtest

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNLHelloVM builds kmod/nlhello, kmod/nlhello/vmcheck and the nlkit
// command, boots them in QEMU and fails if any check inside the guest
// fails or the guest kernel logs a bug. vmcheck drives the module through
// the library (package hello) and runs /bin/nlkit hello ... as a user
// would. Extra vmcheck flags can be given in NLKIT_VMCHECK_ARGS (e.g.
// "-run raw/ -flood-count 100").
func TestNLHelloVM(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VM tests run on Linux only")
	}
	start := time.Now()
	tools := EnsureTools(t)
	t.Logf("kernel %s, kbuild %s, %s", tools.Kernel, tools.KDIR, tools.QEMU)

	root := RepoRoot(t)
	ko := BuildModule(t, tools, filepath.Join(root, "kmod", "nlhello"))
	info, err := ModuleInfo(ko)
	if err != nil {
		t.Fatal(err)
	}
	if deps := strings.TrimSpace(info["depends"]); deps != "" {
		t.Logf("nlhello.ko depends on %s (loaded first)", deps)
	}
	check := BuildGo(t, "./kmod/nlhello/vmcheck")
	nlkit := BuildGo(t, "./cmd/nlkit")

	guestKo := path.Join(GuestModuleDir, filepath.Base(ko))
	cmd := []string{"/bin/vmcheck", "-ko", guestKo, "-nlkit", "/bin/nlkit"}
	cmd = append(cmd, strings.Fields(os.Getenv("NLKIT_VMCHECK_ARGS"))...)
	res := Boot(t, Config{
		Tools:   tools,
		Modules: []Module{{Path: ko}},
		Files:   map[string]string{"/bin/vmcheck": check, "/bin/nlkit": nlkit},
		Command: cmd,
		Timeout: 4 * time.Minute,
	})
	var failed []string
	for _, l := range strings.Split(res.Console, "\n") {
		if strings.HasPrefix(l, "--- FAIL") {
			failed = append(failed, l)
		}
	}
	if len(failed) > 0 {
		t.Errorf("failed in the guest:\n%s", strings.Join(failed, "\n"))
	}
	t.Logf("boot %v, guest checks %v, whole test %v",
		res.BootTime.Round(time.Millisecond), res.RunTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
