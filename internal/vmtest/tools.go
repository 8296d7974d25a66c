package vmtest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// AptPackages are the Debian packages the VM tests need.
const AptPackages = "linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static make gcc"

// AptInstallCommand installs AptPackages; scripts/install-deps.sh (make deps) runs
// it idempotently.
const AptInstallCommand = "apt-get install -y --no-install-recommends " + AptPackages

// SkipEnv is the environment variable that, set to "1", skips VM tests.
const SkipEnv = "NLKIT_SKIP_VM"

// Tools are the host programs and files a VM test uses.
type Tools struct {
	Kernel     string // guest kernel image, /boot/vmlinuz-<Release>
	Release    string // kernel release, e.g. "6.1.0-56-amd64"
	KDIR       string // kbuild directory for Release, /usr/src/linux-headers-<Release>
	ModulesDir string // /lib/modules/<Release>, for module dependencies; may not exist
	QEMU       string // qemu-system-x86_64
	Busybox    string // a statically linked busybox
	Make       string // make, for kbuild
}

// FindTools locates the tools, or returns an error that lists everything
// missing.
func FindTools() (*Tools, error) {
	var problems []string
	t := &Tools{}

	if err := findKernel(t); err != nil {
		problems = append(problems, err.Error())
	}

	qemu := os.Getenv("NLKIT_VM_QEMU")
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	if p, err := exec.LookPath(qemu); err == nil {
		t.QEMU = p
	} else {
		problems = append(problems, qemu+" not found (package qemu-system-x86)")
	}

	bb := os.Getenv("NLKIT_VM_BUSYBOX")
	if bb == "" {
		bb = "/bin/busybox"
	}
	if err := checkStatic(bb); err != nil {
		problems = append(problems, fmt.Sprintf("%v (package busybox-static)", err))
	} else {
		t.Busybox = bb
	}

	if p, err := exec.LookPath("make"); err == nil {
		t.Make = p
	} else {
		problems = append(problems, "make not found (package make)")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		problems = append(problems, "gcc not found (package gcc)")
	}

	if len(problems) > 0 {
		return nil, errors.New("VM test tools missing:\n  " + strings.Join(problems, "\n  "))
	}
	return t, nil
}

// EnsureTools returns the tools or ends the test: with a skip if
// NLKIT_SKIP_VM=1, else with a failure that says what to install.
func EnsureTools(t testing.TB) *Tools {
	t.Helper()
	tools, err := FindTools()
	if os.Getenv(SkipEnv) == "1" {
		if err != nil {
			t.Skipf("%s=1: skipping VM test (%v)", SkipEnv, err)
		}
		t.Skipf("%s=1: skipping VM test", SkipEnv)
	}
	if err != nil {
		t.Fatalf("%v\ninstall them (as root) with:\n  %s\nor run scripts/install-deps.sh (make deps); set %s=1 to skip VM tests",
			err, AptInstallCommand, SkipEnv)
	}
	return tools
}

// findKernel picks the newest /boot/vmlinuz-*-amd64 that has kbuild headers,
// unless NLKIT_VM_KERNEL / NLKIT_VM_KDIR say otherwise.
func findKernel(t *Tools) error {
	kdirEnv := os.Getenv("NLKIT_VM_KDIR")
	if k := os.Getenv("NLKIT_VM_KERNEL"); k != "" {
		t.Kernel = k
		t.Release = strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		t.KDIR = kdirEnv
		if t.KDIR == "" {
			t.KDIR = "/usr/src/linux-headers-" + t.Release
		}
		t.ModulesDir = "/lib/modules/" + t.Release
		if err := readable(t.Kernel); err != nil {
			return err
		}
		if !isDir(t.KDIR) {
			return fmt.Errorf("kbuild directory %s for NLKIT_VM_KERNEL=%s not found", t.KDIR, k)
		}
		return nil
	}

	images, _ := filepath.Glob("/boot/vmlinuz-*-amd64")
	if len(images) == 0 {
		return errors.New("no Debian kernel /boot/vmlinuz-*-amd64 (package linux-image-amd64)")
	}
	releases := make([]string, 0, len(images))
	for _, img := range images {
		releases = append(releases, strings.TrimPrefix(filepath.Base(img), "vmlinuz-"))
	}
	sort.Slice(releases, func(i, j int) bool { return compareVersions(releases[i], releases[j]) > 0 })
	for _, rel := range releases {
		kdir := kdirEnv
		if kdir == "" {
			kdir = "/usr/src/linux-headers-" + rel
		}
		if !isDir(kdir) {
			continue
		}
		t.Kernel = "/boot/vmlinuz-" + rel
		t.Release = rel
		t.KDIR = kdir
		t.ModulesDir = "/lib/modules/" + rel
		return readable(t.Kernel)
	}
	return fmt.Errorf("kernel(s) %s found but no /usr/src/linux-headers-<release> for any (package linux-headers-amd64)",
		strings.Join(releases, ", "))
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("kernel image: %w", err)
	}
	return f.Close()
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// checkStatic reports whether path is a statically linked ELF executable
// (the guest has no dynamic loader or libc).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("busybox: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked, need a static busybox", path)
		}
	}
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is for %v, need x86-64", path, f.Machine)
	}
	return nil
}

// compareVersions compares release strings like "6.1.0-56-amd64" piecewise:
// runs of digits numerically, everything else as text.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		ca, ra := splitRun(a)
		cb, rb := splitRun(b)
		na, ea := strconv.ParseUint(ca, 10, 64)
		nb, eb := strconv.ParseUint(cb, 10, 64)
		switch {
		case ea == nil && eb == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case ca != cb:
			return strings.Compare(ca, cb)
		}
		a, b = ra, rb
	}
	return strings.Compare(a, b)
}

func splitRun(s string) (run, rest string) {
	digit := s[0] >= '0' && s[0] <= '9'
	i := 1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digit {
		i++
	}
	return s[:i], s[i:]
}
