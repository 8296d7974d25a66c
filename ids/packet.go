package ids

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Packet is what the rules look at: the addresses, ports and protocol of
// one IP packet and its application payload.
type Packet struct {
	// Timestamp is when the kernel saw the packet (EVE's timestamp);
	// zero means now.
	Timestamp time.Time
	// InIface names the interface the packet came in on, if known.
	InIface string

	Src, Dst netip.Addr
	// IPProto is the transport protocol number (6 TCP, 17 UDP, 1 ICMP,
	// 58 ICMPv6, ...).
	IPProto uint8
	// SrcPort and DstPort are set for TCP and UDP.
	SrcPort, DstPort uint16
	// ICMPType and ICMPCode are set for ICMP and ICMPv6.
	ICMPType, ICMPCode uint8
	// Payload is what content and pcre options inspect: the TCP or UDP
	// payload, the ICMP body after its header, or the IP payload of
	// other protocols. It aliases the decoded buffer.
	Payload []byte
	// Fragment is true for an IPv4 or IPv6 fragment (the kernel reassembles
	// before the filter hooks when conntrack is loaded, so queued packets
	// rarely are): its transport header is not decoded, so only ip rules
	// can match it.
	Fragment bool
	// Raw is the whole packet, starting at the IP header (aliases the
	// decoded buffer).
	Raw []byte
}

// IP protocol numbers.
const (
	ipProtoICMP   = 1
	ipProtoTCP    = 6
	ipProtoUDP    = 17
	ipProtoICMPv6 = 58
)

// ErrNotIP reports a packet that does not start with an IPv4 or IPv6
// header.
var ErrNotIP = errors.New("ids: not an IP packet")

// Decoder decodes IP packets (as NFQUEUE and NFLOG deliver them, from
// the network header on) with gopacket's layers, reusing its layer
// structures: it allocates nothing per packet. A Decoder is not safe for
// concurrent use; give each goroutine its own.
type Decoder struct {
	ip4     layers.IPv4
	ip6     layers.IPv6
	ext     layers.IPv6ExtensionSkipper
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	payload gopacket.Payload
	p4, p6  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	d.p4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, &d.ip4, &d.tcp, &d.udp, &d.icmp4, &d.payload)
	d.p6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, &d.ip6, &d.ext, &d.tcp, &d.udp, &d.icmp6, &d.payload)
	for _, p := range []*gopacket.DecodingLayerParser{d.p4, d.p6} {
		p.IgnoreUnsupported = true
	}
	return d
}

// Decode decodes b, an IP packet, into p. The payload and Raw alias b. A
// packet whose transport header is cut short is still returned with its
// addresses (and an empty payload) along with the error, so that ip
// rules can match it.
func (d *Decoder) Decode(b []byte, p *Packet) error {
	*p = Packet{Timestamp: p.Timestamp, InIface: p.InIface, Raw: b}
	if len(b) == 0 {
		return ErrNotIP
	}
	var parser *gopacket.DecodingLayerParser
	switch b[0] >> 4 {
	case 4:
		parser = d.p4
	case 6:
		parser = d.p6
	default:
		return fmt.Errorf("%w: version %d", ErrNotIP, b[0]>>4)
	}
	err := parser.DecodeLayers(b, &d.decoded)
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			p.Src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			p.Dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			p.IPProto = uint8(d.ip4.Protocol)
			p.Payload = d.ip4.Payload
			p.Fragment = d.ip4.FragOffset != 0 || d.ip4.Flags&layers.IPv4MoreFragments != 0
		case layers.LayerTypeIPv6:
			p.Src, _ = netip.AddrFromSlice(d.ip6.SrcIP.To16())
			p.Dst, _ = netip.AddrFromSlice(d.ip6.DstIP.To16())
			p.IPProto = uint8(d.ip6.NextHeader)
			p.Payload = d.ip6.Payload
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Fragment:
			p.IPProto = uint8(d.ext.NextHeader)
			p.Payload = d.ext.Payload
			if t == layers.LayerTypeIPv6Fragment && len(d.ext.Contents) >= 4 && binary.BigEndian.Uint16(d.ext.Contents[2:4]) != 0 {
				// Offset or more-fragments set: what follows is not a
				// whole transport header.
				p.Fragment = true
			}
		case layers.LayerTypeTCP:
			if p.Fragment {
				continue
			}
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.Payload = d.tcp.Payload
		case layers.LayerTypeUDP:
			if p.Fragment {
				continue
			}
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.Payload = d.udp.Payload
		case layers.LayerTypeICMPv4:
			if p.Fragment {
				continue
			}
			p.ICMPType, p.ICMPCode = d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code()
			p.Payload = d.icmp4.Payload
		case layers.LayerTypeICMPv6:
			if p.Fragment {
				continue
			}
			p.ICMPType, p.ICMPCode = d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code()
			// gopacket leaves the 4 bytes after the checksum (echo id
			// and sequence, or unused) in the payload; Suricata's ICMPv6
			// payload starts after them, as ICMPv4's does.
			p.Payload = d.icmp6.Payload
			if len(p.Payload) >= 4 {
				p.Payload = p.Payload[4:]
			}
		}
	}
	if !p.Src.IsValid() {
		if err == nil {
			err = errors.New("no IP header")
		}
		return fmt.Errorf("ids: decode packet: %w", err)
	}
	if err != nil {
		// The transport header did not decode: keep the addresses, let
		// only ip rules see it.
		p.SrcPort, p.DstPort, p.Payload = 0, 0, nil
		return fmt.Errorf("ids: decode packet: %w", err)
	}
	return nil
}
