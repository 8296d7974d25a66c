// Package ids is an inline intrusion detector: a parser for rules in the
// Suricata/Snort language, a multi-pattern matcher, and a writer of
// Suricata's EVE JSON alerts. It is pure Go and does no I/O of its own;
// `nlkit ids` feeds it packets from NFQUEUE (package nfqueue) and gives
// the verdicts.
//
//	rs, err := ids.ParseFile("local.rules", &ids.Options{Vars: map[string]string{"HOME_NET": "10.0.0.0/8"}})
//	if err != nil { ... } // every faulty line, each a *ids.ParseError
//	det := ids.NewDetector(ids.NewEngine(rs), ids.NewEVEWriter(eveFile))
//	w := det.NewWorker() // one per goroutine
//	verdict := w.Inspect(ipPacket, time.Now(), "eth0") // ids.Accept or ids.Drop
//
// # Rule language
//
// A rule is `ACTION PROTO SRC SPORT DIR DST DPORT (OPTIONS)`, one per line
// (a line ending in \ continues), # comments and blank lines skipped:
//
//   - ACTION: alert (alert, let through), drop (alert as "blocked", drop),
//     pass (let through, no alert, no other rule applies). Suricata's
//     order: pass, then drop, then alert.
//   - PROTO: ip (every packet), tcp, udp, icmp (ICMP and ICMPv6).
//   - Addresses: any, 10.0.0.1, 10.0.0.0/8, fd00::/8, [a,b,...] lists
//     (nested), !negation (`[10.0.0.0/8,!10.1.1.1]`), $VARIABLES.
//   - Ports: any, 80, 1024:65535, 1024: and :1023 ranges, lists, !negation,
//     $VARIABLES. Ports must be any for ip and icmp.
//   - DIR: -> (source to destination) or <> (either way).
//   - Options: msg, sid (required; unique per gid), rev, gid, classtype
//     (sets alert.category and the default priority from the
//     classification table: Suricata's classification.config, plus
//     `config classification: NAME,DESCRIPTION,PRIORITY` lines), priority
//     (alert.severity; default 3), content with !negation, "text|41 42|"
//     hex and the escapes \" \; \\ \: \|, its modifiers nocase, offset,
//     depth, distance, within (relative contents are retried after later
//     occurrences of the previous one, as Suricata does) and fast_pattern,
//     pcre:"/re/flags" (flags i, s, m; Go's RE2 syntax: no back-references
//     or look-around; it sees the payload as text, so \xNN above 0x7f does
//     not match raw bytes), reference and metadata (accepted, unused).
//   - Variables: `var NAME VALUE`, `ipvar` and `portvar` lines in the file,
//     or Options.Vars (nlkit ids --var NAME=VALUE). HOME_NET and
//     EXTERNAL_NET default to any; any other undefined variable is an
//     error.
//
// Anything else (flow, flowbits, threshold, http_* buffers, byte_test, a
// reject action, ...) is an error naming the line and option: no rule is
// ignored silently. Parse reports every faulty line at once.
//
// Inspection is per packet, as Suricata's for packet-level rules: no
// stream reassembly or flow state, so a pattern split across TCP segments
// is not seen. Contents and pcre look at the transport payload (the TCP or
// UDP payload, the ICMP body after its header, the IP payload of other
// protocols). IPv4 fragments are matched by ip rules only.
//
// # Matching
//
// An Engine is the compiled rule set. Each rule's fast pattern (its
// longest content, or the one marked fast_pattern) goes into one
// Aho-Corasick automaton (a case-folding DFA over byte classes); a packet
// costs one pass of the automaton over its payload, then a full check
// (header, every content with its positions, pcre) of only the rules whose
// fast pattern occurred, plus those without content. Packets are decoded
// with gopacket's layers (IPv4, IPv6 with extension headers, TCP, UDP,
// ICMP, ICMPv6), reusing buffers: no allocation per packet.
//
// # EVE
//
// EVEWriter writes one JSON object per line with Suricata's field names
// and layout: timestamp (2006-01-02T15:04:05.000000-0700), flow_id,
// in_iface, event_type "alert", src_ip, src_port, dest_ip, dest_port, proto
// ("TCP", "UDP", "ICMP", "IPv6-ICMP"), icmp_type and icmp_code for ICMP,
// and alert {action "allowed" or "blocked", gid, signature_id, rev,
// signature, category, severity}; optionally payload (base64) and
// payload_printable. Tools that read eve.json read it unchanged.
//
// # Reloading
//
// Engines are immutable. Detector.Swap replaces the engine atomically:
// packets being inspected finish with the old one, the next ones use the
// new one, and none waits. A rules file that fails to parse yields no
// Engine, so the old rules stay.
//
// # Privileges, namespaces, concurrency and lifetimes
//
// The package needs no privilege and knows nothing of namespaces: it
// inspects bytes given to it. Engines, Detectors and EVEWriters are safe
// for concurrent use; Decoders and Workers are not (one per goroutine).
// Packet fields alias the bytes decoded; Results are valid until the next
// Inspect.
package ids
