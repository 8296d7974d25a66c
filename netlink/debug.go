package netlink

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// DebugEnv is the environment variable that turns on message tracing for
// Conns whose Config.Debug is nil: 1 prints a decoded line per message to
// standard error, 2 adds a hex dump of each payload.
const DebugEnv = "NLKIT_DEBUG"

type debugger struct {
	mu       sync.Mutex
	w        io.Writer
	hex      bool
	protocol int
}

func newDebugger(w io.Writer, protocol int) *debugger {
	level := os.Getenv(DebugEnv)
	if w == nil {
		if level == "" || level == "0" {
			return nil
		}
		w = os.Stderr
	}
	return &debugger{w: w, hex: level == "2", protocol: protocol}
}

// datagram prints every message in b.
func (d *debugger) datagram(dir string, b []byte, from Addr) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var p Parser
	p.Reset(b)
	for p.Next() {
		d.line(dir, p.Message(), from)
	}
	if err := p.Err(); err != nil {
		fmt.Fprintf(d.w, "nlkit: %s proto=%d malformed datagram: %v\n", dir, d.protocol, err)
	}
}

// raw prints a datagram that is not made of netlink messages.
func (d *debugger) raw(dir string, b []byte, from Addr) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.w, "nlkit: %s proto=%d raw datagram %dB%s\n", dir, d.protocol, len(b), formatFrom(from))
	if d.hex {
		for _, l := range strings.Split(strings.TrimRight(hex.Dump(b), "\n"), "\n") {
			fmt.Fprintf(d.w, "nlkit:   %s\n", l)
		}
	}
}

func (d *debugger) dropped(b []byte, from Addr, why error) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.w, "nlkit: drop proto=%d from port %d (%d bytes): %v\n", d.protocol, from.Port, len(b), why)
}

func (d *debugger) note(dir, text string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.w, "nlkit: %s proto=%d %s\n", dir, d.protocol, text)
}

func (d *debugger) line(dir string, m Message, from Addr) {
	var sb strings.Builder
	sb.WriteString(FormatMessage(m))
	sb.WriteString(formatFrom(from))
	fmt.Fprintf(d.w, "nlkit: %s proto=%d %s\n", dir, d.protocol, sb.String())
	if d.hex && len(m.Data) > 0 {
		for _, l := range strings.Split(strings.TrimRight(hex.Dump(m.Data), "\n"), "\n") {
			fmt.Fprintf(d.w, "nlkit:   %s\n", l)
		}
	}
}

// formatFrom describes a sender for debug lines: nothing for the
// kernel's unicasts without control data.
func formatFrom(from Addr) string {
	var s string
	if from.Port != 0 || from.Groups != 0 {
		s += fmt.Sprintf(" from={port=%d groups=%#x}", from.Port, from.Groups)
	}
	if from.HasNSID {
		s += fmt.Sprintf(" nsid=%d", from.NSID)
	}
	if from.HasCreds {
		s += fmt.Sprintf(" creds={pid=%d uid=%d gid=%d}", from.Creds.PID, from.Creds.UID, from.Creds.GID)
	}
	return s
}

// FormatMessage returns a one-line, human-readable description of m: its
// header fields by name and, for NLMSG_ERROR, the decoded error.
func FormatMessage(m Message) string {
	h := m.Header
	s := fmt.Sprintf("{len=%d type=%s flags=%s seq=%d pid=%d}", h.Length, h.Type, h.Flags, h.Sequence, h.PID)
	switch h.Type {
	case Error:
		info, err := ParseAck(h.Flags, m.Data)
		switch {
		case err != nil:
			s += fmt.Sprintf(" error=<%v>", err)
		case info.Errno == 0:
			s += fmt.Sprintf(" ack{seq=%d}", info.Request.Sequence)
		default:
			s += fmt.Sprintf(" error{errno=%d %q seq=%d", int(info.Errno), info.Errno.Error(), info.Request.Sequence)
			if info.Message != "" {
				s += fmt.Sprintf(" msg=%q", info.Message)
			}
			if info.Offset >= 0 {
				s += fmt.Sprintf(" offset=%d", info.Offset)
			}
			s += "}"
		}
		if info.Errno == 0 && info.Message != "" {
			s += fmt.Sprintf(" warning=%q", info.Message)
		}
	case Done:
		if len(m.Data) >= 4 {
			s += fmt.Sprintf(" status=%d", int32(nativeUint32(m.Data)))
		}
	default:
		s += fmt.Sprintf(" payload=%dB", len(m.Data))
	}
	return s
}
