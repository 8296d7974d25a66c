package vmtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// RepoRoot returns the root directory of the main Go module (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("not inside a Go module")
	}
	return filepath.Dir(gomod)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// CacheDir is where built modules are kept between runs: $NLKIT_VM_CACHE, or
// nlkit/vmtest in the user cache directory, or in the temp directory.
func CacheDir() string {
	if d := os.Getenv("NLKIT_VM_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "nlkit", "vmtest")
	}
	return filepath.Join(os.TempDir(), "nlkit-vmtest-cache")
}

// BuildModule builds the out-of-tree kernel module whose kbuild Makefile and
// sources are in srcDir against tools.KDIR and returns the path of the .ko.
// The sources are copied to a cache directory first, so srcDir stays clean;
// a build with the same sources, headers and release is reused. Compiler
// warnings are errors (the Makefile's WERROR=1).
func BuildModule(t testing.TB, tools *Tools, srcDir string) string {
	t.Helper()
	ko, cached, err := buildModule(tools, srcDir)
	if err != nil {
		t.Fatalf("building kernel module in %s: %v", srcDir, err)
	}
	if cached {
		t.Logf("kernel module: %s (cached)", ko)
	} else {
		t.Logf("kernel module: %s (built)", ko)
	}
	return ko
}

func buildModule(tools *Tools, srcDir string) (ko string, cached bool, err error) {
	files, err := moduleSources(srcDir)
	if err != nil {
		return "", false, err
	}
	if len(files) == 0 {
		return "", false, fmt.Errorf("no sources in %s", srcDir)
	}
	h := sha256.New()
	fmt.Fprintf(h, "release=%s\nkdir=%s\n", tools.Release, tools.KDIR)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(srcDir, f))
		if err != nil {
			return "", false, err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	cache := filepath.Join(CacheDir(), "kmod")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		// An unwritable cache (read-only HOME in CI) must not stop the test.
		cache = filepath.Join(os.TempDir(), "nlkit-vmtest-cache", "kmod")
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return "", false, err
		}
	}
	outDir := filepath.Join(cache, filepath.Base(srcDir)+"-"+tools.Release+"-"+key)
	if kos, _ := filepath.Glob(filepath.Join(outDir, "*.ko")); len(kos) == 1 {
		return kos[0], true, nil
	}

	work, err := os.MkdirTemp(filepath.Dir(outDir), "build-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(work)
	for _, f := range files {
		if err := copyFile(filepath.Join(work, f), filepath.Join(srcDir, f), 0o644); err != nil {
			return "", false, err
		}
	}
	cmd := exec.Command(tools.Make, "-C", work, "KDIR="+tools.KDIR, "WERROR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", false, fmt.Errorf("make: %v\n%s", err, out.String())
	}
	if w := compilerWarnings(out.String()); w != "" {
		return "", false, fmt.Errorf("compiler warnings:\n%s", w)
	}
	kos, _ := filepath.Glob(filepath.Join(work, "*.ko"))
	if len(kos) != 1 {
		return "", false, fmt.Errorf("expected one .ko after make, got %v\n%s", kos, out.String())
	}
	info, err := ModuleInfo(kos[0])
	if err != nil {
		return "", false, err
	}
	if vm := strings.Fields(info["vermagic"]); len(vm) == 0 || vm[0] != tools.Release {
		return "", false, fmt.Errorf("module vermagic %q does not match kernel %s", info["vermagic"], tools.Release)
	}

	// Publish atomically: build in a temp dir, rename the finished dir.
	stage, err := os.MkdirTemp(filepath.Dir(outDir), "stage-")
	if err != nil {
		return "", false, err
	}
	if err := copyFile(filepath.Join(stage, filepath.Base(kos[0])), kos[0], 0o644); err != nil {
		os.RemoveAll(stage)
		return "", false, err
	}
	if err := os.Rename(stage, outDir); err != nil {
		os.RemoveAll(stage)
		// Lost a race with a concurrent build of the same sources?
		if kos, _ := filepath.Glob(filepath.Join(outDir, "*.ko")); len(kos) == 1 {
			return kos[0], true, nil
		}
		return "", false, err
	}
	return filepath.Join(outDir, filepath.Base(kos[0])), false, nil
}

// moduleSources lists the regular files of a kbuild module directory that
// are sources (not build products, not hidden, not in subdirectories).
func moduleSources(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") {
			continue
		}
		switch {
		case n == "Makefile", n == "Kbuild", strings.HasSuffix(n, ".c"), strings.HasSuffix(n, ".h"):
			if !strings.HasSuffix(n, ".mod.c") {
				files = append(files, n)
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

func compilerWarnings(out string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "warning:") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func copyFile(dst, src string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ModuleInfo returns the key=value pairs of a .ko's .modinfo section
// (vermagic, depends, license, parm, ...). Repeated keys are joined by "\n".
func ModuleInfo(ko string) (map[string]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s: no .modinfo section", ko)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	info := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		if old, dup := info[k]; dup {
			v = old + "\n" + v
		}
		info[k] = v
	}
	return info, nil
}

// ModuleDeps returns, in load order, the host paths of the modules that ko
// depends on (its .modinfo "depends", resolved through modules.dep of the
// guest kernel's release). Most modules, nlhello included, have none.
func ModuleDeps(tools *Tools, ko string) ([]string, error) {
	info, err := ModuleInfo(ko)
	if err != nil {
		return nil, err
	}
	var direct []string
	for _, d := range strings.Split(info["depends"], ",") {
		if d = strings.TrimSpace(d); d != "" {
			direct = append(direct, d)
		}
	}
	if len(direct) == 0 {
		return nil, nil
	}
	depFile := filepath.Join(tools.ModulesDir, "modules.dep")
	data, err := os.ReadFile(depFile)
	if err != nil {
		return nil, fmt.Errorf("module %s depends on %v: %w", ko, direct, err)
	}
	// modules.dep: "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko" (deps of a,
	// transitive, the ones to load first last).
	byName := map[string][]string{}
	paths := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mod, deps, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n := modName(mod)
		paths[n] = mod
		byName[n] = strings.Fields(deps)
	}
	var order []string
	seen := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		p, ok := paths[n]
		if !ok {
			return fmt.Errorf("dependency %s not in %s", n, depFile)
		}
		for _, d := range byName[n] {
			if err := visit(modName(d)); err != nil {
				return err
			}
		}
		if !strings.HasSuffix(p, ".ko") {
			return fmt.Errorf("dependency %s is compressed (%s); busybox insmod needs a plain .ko", n, p)
		}
		order = append(order, filepath.Join(tools.ModulesDir, p))
		return nil
	}
	for _, d := range direct {
		if err := visit(d); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func modName(path string) string {
	n := filepath.Base(path)
	if i := strings.Index(n, ".ko"); i >= 0 {
		n = n[:i]
	}
	return strings.ReplaceAll(n, "-", "_")
}

// BuildGo builds package main pkg (a path relative to the repository root,
// like "./kmod/nlhello/vmcheck") as a static linux/amd64 binary and returns
// its path in a test temp directory.
func BuildGo(t testing.TB, pkg string, tags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	args := []string{"build", "-o", out, "-ldflags=-s -w"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	runGo(t, append(args, pkg)...)
	return out
}

// BuildGoTest compiles the tests of pkg (go test -c) as a static
// linux/amd64 binary and returns its path; run it in the guest with
// "-test.v" and friends.
func BuildGoTest(t testing.TB, pkg string, tags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".test")
	args := []string{"test", "-c", "-o", out, "-ldflags=-s -w"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	runGo(t, append(args, pkg)...)
	return out
}

func runGo(t testing.TB, args ...string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("go %s (%v)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}
