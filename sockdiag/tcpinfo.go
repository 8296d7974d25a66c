package sockdiag

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
)

// CAState is the congestion avoidance state of a TCP connection
// (tcpi_ca_state, enum tcp_ca_state).
type CAState uint8

// Congestion avoidance states.
const (
	CAOpen     CAState = 0 // TCP_CA_Open
	CADisorder CAState = 1 // TCP_CA_Disorder
	CACWR      CAState = 2 // TCP_CA_CWR
	CARecovery CAState = 3 // TCP_CA_Recovery
	CALoss     CAState = 4 // TCP_CA_Loss
)

var caStateNames = [...]string{"open", "disorder", "cwr", "recovery", "loss"}

// String returns the state's name ("open", "recovery", ...).
func (s CAState) String() string {
	if int(s) < len(caStateNames) {
		return caStateNames[s]
	}
	return fmt.Sprintf("ca-state(%d)", uint8(s))
}

// TCPOptions are the options a TCP connection negotiated
// (tcpi_options, TCPI_OPT_*).
type TCPOptions uint8

// TCP options.
const (
	OptTimestamps TCPOptions = 1   // TCPI_OPT_TIMESTAMPS
	OptSACK       TCPOptions = 2   // TCPI_OPT_SACK
	OptWScale     TCPOptions = 4   // TCPI_OPT_WSCALE
	OptECN        TCPOptions = 8   // TCPI_OPT_ECN: ECN was negotiated
	OptECNSeen    TCPOptions = 16  // TCPI_OPT_ECN_SEEN: at least one ECT packet received
	OptSynData    TCPOptions = 32  // TCPI_OPT_SYN_DATA: SYN-ACK acknowledged data in SYN
	OptUsecTS     TCPOptions = 64  // TCPI_OPT_USEC_TS: timestamps in microseconds
	OptTFOChild   TCPOptions = 128 // TCPI_OPT_TFO_CHILD: passive Fast Open child
)

var tcpOptionNames = []struct {
	o    TCPOptions
	name string
}{
	{OptTimestamps, "ts"}, {OptSACK, "sack"}, {OptWScale, "wscale"}, {OptECN, "ecn"},
	{OptECNSeen, "ecnseen"}, {OptSynData, "fastopen"}, {OptUsecTS, "usec_ts"}, {OptTFOChild, "tfo_child"},
}

// String lists the options with ss -i's names ("ts sack wscale ecn"),
// separated by spaces.
func (o TCPOptions) String() string {
	var parts []string
	for _, n := range tcpOptionNames {
		if o&n.o != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, " ")
}

// TCPInfo is a TCP connection's state as struct tcp_info (linux/tcp.h)
// describes it; sock_diag sends it in INET_DIAG_INFO (ExtInfo), as
// getsockopt(TCP_INFO) returns it. Times are converted from the kernel's
// units (µs or ms) to time.Duration.
//
// The structure grows with kernel versions; each field is decoded by its
// offset and size, so an older kernel's shorter struct leaves the fields
// it lacks at zero (Size tells how much was sent) and a newer kernel's
// longer struct is read as far as this type knows it.
type TCPInfo struct {
	State       State      // tcpi_state
	CAState     CAState    // tcpi_ca_state
	Retransmits uint8      // tcpi_retransmits: unrecovered RTO timeouts
	Probes      uint8      // tcpi_probes: unanswered zero-window probes
	Backoff     uint8      // tcpi_backoff: RTO exponential backoff
	Options     TCPOptions // tcpi_options
	// SendWScale and RecvWScale are the window scale shifts (the
	// tcpi_snd_wscale and tcpi_rcv_wscale bit fields).
	SendWScale, RecvWScale uint8
	// DeliveryRateAppLimited and FastOpenClientFail are the bit fields
	// tcpi_delivery_rate_app_limited and tcpi_fastopen_client_fail.
	DeliveryRateAppLimited bool
	FastOpenClientFail     uint8

	RTO     time.Duration // tcpi_rto (µs)
	ATO     time.Duration // tcpi_ato (µs): delayed ACK timeout
	SendMSS uint32        // tcpi_snd_mss
	RecvMSS uint32        // tcpi_rcv_mss

	Unacked uint32 // tcpi_unacked: segments in flight
	Sacked  uint32 // tcpi_sacked
	Lost    uint32 // tcpi_lost
	Retrans uint32 // tcpi_retrans: retransmitted segments in flight
	Fackets uint32 // tcpi_fackets (unused since Linux 4.15)

	// Time since the last data or ACK sent and received (ms).
	LastDataSent time.Duration // tcpi_last_data_sent
	LastAckSent  time.Duration // tcpi_last_ack_sent (not maintained by Linux)
	LastDataRecv time.Duration // tcpi_last_data_recv
	LastAckRecv  time.Duration // tcpi_last_ack_recv

	PMTU         uint32        // tcpi_pmtu
	RecvSSThresh uint32        // tcpi_rcv_ssthresh
	RTT          time.Duration // tcpi_rtt (µs): smoothed round-trip time
	RTTVar       time.Duration // tcpi_rttvar (µs): its mean deviation
	SendSSThresh uint32        // tcpi_snd_ssthresh
	SendCwnd     uint32        // tcpi_snd_cwnd: congestion window, in segments
	AdvMSS       uint32        // tcpi_advmss
	Reordering   uint32        // tcpi_reordering

	RecvRTT   time.Duration // tcpi_rcv_rtt (µs)
	RecvSpace uint32        // tcpi_rcv_space

	TotalRetrans uint32 // tcpi_total_retrans

	PacingRate    uint64 // tcpi_pacing_rate (bytes/s)
	MaxPacingRate uint64 // tcpi_max_pacing_rate (bytes/s)
	BytesAcked    uint64 // tcpi_bytes_acked
	BytesReceived uint64 // tcpi_bytes_received
	SegsOut       uint32 // tcpi_segs_out
	SegsIn        uint32 // tcpi_segs_in

	NotSentBytes uint32        // tcpi_notsent_bytes
	MinRTT       time.Duration // tcpi_min_rtt (µs)
	DataSegsIn   uint32        // tcpi_data_segs_in
	DataSegsOut  uint32        // tcpi_data_segs_out

	DeliveryRate uint64 // tcpi_delivery_rate (bytes/s)

	BusyTime      time.Duration // tcpi_busy_time (µs): time busy sending
	RwndLimited   time.Duration // tcpi_rwnd_limited (µs): limited by the receive window
	SndbufLimited time.Duration // tcpi_sndbuf_limited (µs): limited by the send buffer

	Delivered   uint32 // tcpi_delivered
	DeliveredCE uint32 // tcpi_delivered_ce

	BytesSent    uint64 // tcpi_bytes_sent
	BytesRetrans uint64 // tcpi_bytes_retrans
	DSACKDups    uint32 // tcpi_dsack_dups
	ReordSeen    uint32 // tcpi_reord_seen

	RecvOOOPack uint32 // tcpi_rcv_ooopack: out-of-order packets received

	SendWindow uint32 // tcpi_snd_wnd: the peer's receive window (bytes)
	RecvWindow uint32 // tcpi_rcv_wnd: our advertised window (bytes)

	Rehash uint32 // tcpi_rehash

	TotalRTO           uint16        // tcpi_total_rto
	TotalRTORecoveries uint16        // tcpi_total_rto_recoveries
	TotalRTOTime       time.Duration // tcpi_total_rto_time (ms)
	ReceivedCE         uint32        // tcpi_received_ce

	// Accurate ECN byte counters (Linux 6.18).
	DeliveredE1Bytes uint32 // tcpi_delivered_e1_bytes
	DeliveredE0Bytes uint32 // tcpi_delivered_e0_bytes
	DeliveredCEBytes uint32 // tcpi_delivered_ce_bytes
	ReceivedE1Bytes  uint32 // tcpi_received_e1_bytes
	ReceivedE0Bytes  uint32 // tcpi_received_e0_bytes
	ReceivedCEBytes  uint32 // tcpi_received_ce_bytes

	// Size is the length of the struct the kernel sent (0 for a value
	// built by hand). Fields past it are zero because the kernel does
	// not have them.
	Size int
}

// tcpInfoLen is the size of struct tcp_info as this type knows it
// (Linux 6.18: 276 bytes of fields, padded to 280).
const tcpInfoLen = 280

// tcpField is one field of struct tcp_info: where it is and where it
// goes. p is *uint8, *uint16, *uint32, *uint64, *State, *CAState,
// *TCPOptions or *time.Duration (then unit is the kernel's unit).
type tcpField struct {
	off, size int
	p         any
	unit      time.Duration
}

func (t *TCPInfo) fields() []tcpField {
	us, ms := time.Microsecond, time.Millisecond
	return []tcpField{
		{0, 1, &t.State, 0}, {1, 1, &t.CAState, 0}, {2, 1, &t.Retransmits, 0}, {3, 1, &t.Probes, 0},
		{4, 1, &t.Backoff, 0}, {5, 1, &t.Options, 0},
		// 6 and 7 are bit fields, handled apart.
		{8, 4, &t.RTO, us}, {12, 4, &t.ATO, us}, {16, 4, &t.SendMSS, 0}, {20, 4, &t.RecvMSS, 0},
		{24, 4, &t.Unacked, 0}, {28, 4, &t.Sacked, 0}, {32, 4, &t.Lost, 0}, {36, 4, &t.Retrans, 0},
		{40, 4, &t.Fackets, 0},
		{44, 4, &t.LastDataSent, ms}, {48, 4, &t.LastAckSent, ms}, {52, 4, &t.LastDataRecv, ms},
		{56, 4, &t.LastAckRecv, ms},
		{60, 4, &t.PMTU, 0}, {64, 4, &t.RecvSSThresh, 0}, {68, 4, &t.RTT, us}, {72, 4, &t.RTTVar, us},
		{76, 4, &t.SendSSThresh, 0}, {80, 4, &t.SendCwnd, 0}, {84, 4, &t.AdvMSS, 0}, {88, 4, &t.Reordering, 0},
		{92, 4, &t.RecvRTT, us}, {96, 4, &t.RecvSpace, 0}, {100, 4, &t.TotalRetrans, 0},
		{104, 8, &t.PacingRate, 0}, {112, 8, &t.MaxPacingRate, 0}, {120, 8, &t.BytesAcked, 0},
		{128, 8, &t.BytesReceived, 0}, {136, 4, &t.SegsOut, 0}, {140, 4, &t.SegsIn, 0},
		{144, 4, &t.NotSentBytes, 0}, {148, 4, &t.MinRTT, us}, {152, 4, &t.DataSegsIn, 0},
		{156, 4, &t.DataSegsOut, 0}, {160, 8, &t.DeliveryRate, 0},
		{168, 8, &t.BusyTime, us}, {176, 8, &t.RwndLimited, us}, {184, 8, &t.SndbufLimited, us},
		{192, 4, &t.Delivered, 0}, {196, 4, &t.DeliveredCE, 0},
		{200, 8, &t.BytesSent, 0}, {208, 8, &t.BytesRetrans, 0}, {216, 4, &t.DSACKDups, 0},
		{220, 4, &t.ReordSeen, 0}, {224, 4, &t.RecvOOOPack, 0}, {228, 4, &t.SendWindow, 0},
		{232, 4, &t.RecvWindow, 0}, {236, 4, &t.Rehash, 0},
		{240, 2, &t.TotalRTO, 0}, {242, 2, &t.TotalRTORecoveries, 0}, {244, 4, &t.TotalRTOTime, ms},
		{248, 4, &t.ReceivedCE, 0},
		{252, 4, &t.DeliveredE1Bytes, 0}, {256, 4, &t.DeliveredE0Bytes, 0}, {260, 4, &t.DeliveredCEBytes, 0},
		{264, 4, &t.ReceivedE1Bytes, 0}, {268, 4, &t.ReceivedE0Bytes, 0}, {272, 4, &t.ReceivedCEBytes, 0},
	}
}

// littleEndian reports the byte order C bit fields follow: on
// little-endian ABIs the first field takes the low bits.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// duration converts v units to a Duration, saturating instead of
// overflowing.
func duration(v uint64, unit time.Duration) time.Duration {
	if v > uint64(math.MaxInt64/unit) {
		v = uint64(math.MaxInt64 / unit)
	}
	return time.Duration(v) * unit
}

// UnmarshalBinary decodes a struct tcp_info of any length: each field
// present in b is decoded, the others are left zero. It never fails; it
// returns an error only to satisfy encoding.BinaryUnmarshaler.
func (t *TCPInfo) UnmarshalBinary(b []byte) error {
	out := TCPInfo{Size: len(b)}
	for _, f := range out.fields() {
		if f.off+f.size > len(b) {
			break // fields are in offset order: the rest is missing too
		}
		raw := b[f.off : f.off+f.size]
		var v uint64
		switch f.size {
		case 1:
			v = uint64(raw[0])
		case 2:
			v = uint64(binary.NativeEndian.Uint16(raw))
		case 4:
			v = uint64(binary.NativeEndian.Uint32(raw))
		case 8:
			v = binary.NativeEndian.Uint64(raw)
		}
		switch p := f.p.(type) {
		case *uint8:
			*p = uint8(v)
		case *State:
			*p = State(v)
		case *CAState:
			*p = CAState(v)
		case *TCPOptions:
			*p = TCPOptions(v)
		case *uint16:
			*p = uint16(v)
		case *uint32:
			*p = uint32(v)
		case *uint64:
			*p = v
		case *time.Duration:
			*p = duration(v, f.unit)
		}
	}
	if len(b) > 6 {
		lo, hi := b[6]&0x0f, b[6]>>4
		if littleEndian {
			out.SendWScale, out.RecvWScale = lo, hi
		} else {
			out.SendWScale, out.RecvWScale = hi, lo
		}
	}
	if len(b) > 7 {
		if littleEndian {
			out.DeliveryRateAppLimited = b[7]&1 != 0
			out.FastOpenClientFail = b[7] >> 1 & 3
		} else {
			out.DeliveryRateAppLimited = b[7]&0x80 != 0
			out.FastOpenClientFail = b[7] >> 5 & 3
		}
	}
	*t = out
	return nil
}

// MarshalBinary encodes t as struct tcp_info: Size bytes, or the whole
// struct as this type knows it if Size is 0. Fields past Size are not
// written. Window scales are taken modulo 16, FastOpenClientFail modulo 4.
func (t TCPInfo) MarshalBinary() ([]byte, error) { return t.marshal(), nil }

func (t *TCPInfo) marshal() []byte {
	n := t.Size
	if n <= 0 {
		n = tcpInfoLen
	}
	b := make([]byte, n)
	for _, f := range t.fields() {
		if f.off+f.size > n {
			break
		}
		var v uint64
		switch p := f.p.(type) {
		case *uint8:
			v = uint64(*p)
		case *State:
			v = uint64(*p)
		case *CAState:
			v = uint64(*p)
		case *TCPOptions:
			v = uint64(*p)
		case *uint16:
			v = uint64(*p)
		case *uint32:
			v = uint64(*p)
		case *uint64:
			v = *p
		case *time.Duration:
			if *p > 0 {
				v = uint64(*p / f.unit)
			}
		}
		raw := b[f.off : f.off+f.size]
		switch f.size {
		case 1:
			raw[0] = uint8(v)
		case 2:
			binary.NativeEndian.PutUint16(raw, uint16(v))
		case 4:
			binary.NativeEndian.PutUint32(raw, uint32(min(v, math.MaxUint32)))
		case 8:
			binary.NativeEndian.PutUint64(raw, v)
		}
	}
	if n > 6 {
		snd, rcv := t.SendWScale&0x0f, t.RecvWScale&0x0f
		if littleEndian {
			b[6] = snd | rcv<<4
		} else {
			b[6] = snd<<4 | rcv
		}
	}
	if n > 7 {
		var lim uint8
		if t.DeliveryRateAppLimited {
			lim = 1
		}
		if littleEndian {
			b[7] = lim | (t.FastOpenClientFail&3)<<1
		} else {
			b[7] = lim<<7 | (t.FastOpenClientFail&3)<<5
		}
	}
	return b
}
