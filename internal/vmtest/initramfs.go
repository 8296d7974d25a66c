package vmtest

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// File type bits of a cpio mode (as in stat(2)).
const (
	modeDir  = 0o040000
	modeReg  = 0o100000
	modeLink = 0o120000
	modeChr  = 0o020000
)

// Initramfs is an in-memory initramfs image: files, directories, symlinks
// and character devices, written as a "newc" cpio archive (the format the
// kernel unpacks), optionally gzip'd. Parent directories are added
// automatically. The zero value is ready to use.
type Initramfs struct {
	entries map[string]*cpioEntry
}

type cpioEntry struct {
	name         string // without leading "/"
	mode         uint32 // type and permission bits
	data         []byte // file content or symlink target
	major, minor uint32 // of a device node
}

func (r *Initramfs) add(e *cpioEntry) error {
	name := strings.TrimPrefix(path.Clean("/"+e.name), "/")
	if name == "" {
		return fmt.Errorf("initramfs: bad path %q", e.name)
	}
	e.name = name
	if r.entries == nil {
		r.entries = map[string]*cpioEntry{}
	}
	if dir := path.Dir(name); dir != "." {
		if err := r.AddDir(dir, 0o755); err != nil {
			return err
		}
	}
	if old, ok := r.entries[name]; ok {
		if old.mode&0o170000 == modeDir && e.mode&0o170000 == modeDir {
			return nil
		}
		return fmt.Errorf("initramfs: %s added twice", name)
	}
	r.entries[name] = e
	return nil
}

// AddDir adds a directory.
func (r *Initramfs) AddDir(name string, perm os.FileMode) error {
	return r.add(&cpioEntry{name: name, mode: modeDir | uint32(perm.Perm())})
}

// AddFile adds a regular file with the given content.
func (r *Initramfs) AddFile(name string, data []byte, perm os.FileMode) error {
	return r.add(&cpioEntry{name: name, mode: modeReg | uint32(perm.Perm()), data: data})
}

// AddHostFile adds the host file src as name, keeping its permission bits.
func (r *Initramfs) AddHostFile(name, src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return r.AddFile(name, data, fi.Mode().Perm())
}

// AddSymlink adds a symbolic link name -> target.
func (r *Initramfs) AddSymlink(name, target string) error {
	return r.add(&cpioEntry{name: name, mode: modeLink | 0o777, data: []byte(target)})
}

// AddCharDev adds a character device node (e.g. /dev/console, 5:1).
func (r *Initramfs) AddCharDev(name string, perm os.FileMode, major, minor uint32) error {
	return r.add(&cpioEntry{name: name, mode: modeChr | uint32(perm.Perm()), major: major, minor: minor})
}

// WriteCPIO writes the archive in newc format (uncompressed). Directories
// come before their contents.
func (r *Initramfs) WriteCPIO(w io.Writer) error {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	// Sorting puts "a" before "a/b", so parents precede children.
	sort.Strings(names)
	bw := bufio.NewWriter(w)
	ino := uint32(1)
	for _, n := range names {
		e := r.entries[n]
		nlink := uint32(1)
		if e.mode&0o170000 == modeDir {
			nlink = 2
		}
		if err := writeCPIOEntry(bw, ino, e.mode, nlink, e.major, e.minor, n, e.data); err != nil {
			return err
		}
		ino++
	}
	if err := writeCPIOEntry(bw, 0, 0, 1, 0, 0, "TRAILER!!!", nil); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteGzip writes the archive gzip-compressed, as the kernel's initrd.
func (r *Initramfs) WriteGzip(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := r.WriteCPIO(zw); err != nil {
		return err
	}
	return zw.Close()
}

// WriteGzipFile writes the gzip'd archive to a host file.
func (r *Initramfs) WriteGzipFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := r.WriteGzip(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var cpioPad [4]byte

// writeCPIOEntry writes one newc entry: the 110-byte ASCII header
// "070701" + 13 8-digit hex fields, the NUL-terminated name padded to a
// multiple of 4 (counting the header), then the data padded to 4.
func writeCPIOEntry(w io.Writer, ino, mode, nlink, rmajor, rminor uint32, name string, data []byte) error {
	namesize := len(name) + 1
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, namesize, 0)
	if _, err := io.WriteString(w, hdr); err != nil {
		return err
	}
	if _, err := io.WriteString(w, name+"\x00"); err != nil {
		return err
	}
	if _, err := w.Write(cpioPad[:pad4(len(hdr)+namesize)]); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	_, err := w.Write(cpioPad[:pad4(len(data))])
	return err
}

func pad4(n int) int { return (4 - n%4) % 4 }
