package ids

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"sync"
	"time"
)

// EVETimeLayout is the timestamp format of Suricata's EVE log:
// microseconds and a numeric zone without colon.
const EVETimeLayout = "2006-01-02T15:04:05.000000-0700"

// EVEAlert is one line of an EVE log with event_type "alert", with the
// fields and field order Suricata writes, so that tools reading EVE
// (jq filters, Filebeat's Suricata module, EveBox, Evebox-agent, ...)
// read it unchanged. Ports are present for TCP and UDP, icmp_type and
// icmp_code for ICMP.
type EVEAlert struct {
	Timestamp string    `json:"timestamp"`
	FlowID    uint64    `json:"flow_id"`
	InIface   string    `json:"in_iface,omitempty"`
	EventType string    `json:"event_type"`
	SrcIP     string    `json:"src_ip"`
	SrcPort   *uint16   `json:"src_port,omitempty"`
	DestIP    string    `json:"dest_ip"`
	DestPort  *uint16   `json:"dest_port,omitempty"`
	Proto     string    `json:"proto"`
	ICMPType  *uint8    `json:"icmp_type,omitempty"`
	ICMPCode  *uint8    `json:"icmp_code,omitempty"`
	Alert     EVEDetail `json:"alert"`
	// Payload (base64) and PayloadPrintable (non-printable bytes as
	// '.') are the inspected payload, written when EVEWriter.Payload is
	// set, as Suricata's eve-log "payload" and "payload-printable"
	// options do.
	Payload          string `json:"payload,omitempty"`
	PayloadPrintable string `json:"payload_printable,omitempty"`
}

// EVEDetail is the "alert" object of an EVE alert.
type EVEDetail struct {
	// Action is "blocked" for a drop rule (the packet was dropped) and
	// "allowed" for an alert rule, as Suricata writes in IPS mode.
	Action      string `json:"action"`
	GID         uint32 `json:"gid"`
	SignatureID uint32 `json:"signature_id"`
	Rev         uint32 `json:"rev"`
	Signature   string `json:"signature"`
	Category    string `json:"category"`
	Severity    int    `json:"severity"`
}

// protoNames are the names Suricata gives IP protocols in EVE.
var protoNames = map[uint8]string{
	ipProtoICMP: "ICMP", ipProtoTCP: "TCP", ipProtoUDP: "UDP", ipProtoICMPv6: "IPv6-ICMP",
	2: "IGMP", 47: "GRE", 50: "ESP", 51: "AH", 132: "SCTP",
}

// NewEVEAlert builds the EVE record of rule r matching packet p.
func NewEVEAlert(p *Packet, r *Rule) EVEAlert {
	ts := p.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	a := EVEAlert{
		Timestamp: ts.Format(EVETimeLayout),
		FlowID:    flowID(p),
		InIface:   p.InIface,
		EventType: "alert",
		SrcIP:     p.Src.String(),
		DestIP:    p.Dst.String(),
		Proto:     protoNames[p.IPProto],
		Alert: EVEDetail{
			Action: "allowed", GID: r.GID, SignatureID: r.SID, Rev: r.Rev,
			Signature: r.Msg, Category: r.Category, Severity: r.Priority,
		},
	}
	if a.Proto == "" {
		a.Proto = strconv.Itoa(int(p.IPProto))
	}
	if r.Action == ActionDrop {
		a.Alert.Action = "blocked"
	}
	switch {
	case (p.IPProto == ipProtoTCP || p.IPProto == ipProtoUDP) && !p.Fragment:
		sp, dp := p.SrcPort, p.DstPort
		a.SrcPort, a.DestPort = &sp, &dp
	case p.IPProto == ipProtoICMP || p.IPProto == ipProtoICMPv6:
		t, c := p.ICMPType, p.ICMPCode
		a.ICMPType, a.ICMPCode = &t, &c
	}
	return a
}

// flowID hashes the 5-tuple, the same in both directions, into the
// 48-bit range Suricata uses for flow_id.
func flowID(p *Packet) uint64 {
	a, b := p.Src.AsSlice(), p.Dst.AsSlice()
	ap, bp := p.SrcPort, p.DstPort
	if p.Dst.Less(p.Src) {
		a, b, ap, bp = b, a, bp, ap
	}
	h := fnv.New64a()
	h.Write(a)
	h.Write(b)
	h.Write([]byte{byte(ap >> 8), byte(ap), byte(bp >> 8), byte(bp), p.IPProto})
	return h.Sum64() & 0x0000ffffffffffff
}

// EVEWriter writes EVE JSON lines, one object per line, buffered. It is
// safe for concurrent use. Call Flush to push buffered lines out (the
// CLI does so periodically and on exit).
type EVEWriter struct {
	// Payload adds the payload to every alert (set before the first
	// write).
	Payload bool

	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

// NewEVEWriter returns a writer to w.
func NewEVEWriter(w io.Writer) *EVEWriter {
	return &EVEWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Alert writes the alert of rule r on packet p.
func (e *EVEWriter) Alert(p *Packet, r *Rule) error {
	a := NewEVEAlert(p, r)
	if e.Payload && len(p.Payload) > 0 {
		a.Payload = base64.StdEncoding.EncodeToString(p.Payload)
		pr := make([]byte, len(p.Payload))
		for i, c := range p.Payload {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			pr[i] = c
		}
		a.PayloadPrintable = string(pr)
	}
	return e.Write(a)
}

// Write writes one record as a JSON line. After a write error every
// call returns that error.
func (e *EVEWriter) Write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ids: eve: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	b = append(b, '\n')
	if _, err := e.w.Write(b); err != nil {
		e.err = fmt.Errorf("ids: eve: %w", err)
	}
	return e.err
}

// Flush writes out buffered lines.
func (e *EVEWriter) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	if err := e.w.Flush(); err != nil {
		e.err = fmt.Errorf("ids: eve: %w", err)
	}
	return e.err
}
