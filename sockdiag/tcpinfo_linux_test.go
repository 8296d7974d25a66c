//go:build linux

package sockdiag

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpInfoNames maps TCPInfo's fields to golang.org/x/sys/unix.TCPInfo's
// (generated from the kernel's struct tcp_info), with the kernel unit of
// times.
var tcpInfoNames = map[string]struct {
	unix string
	unit time.Duration
}{
	"State": {"State", 0}, "CAState": {"Ca_state", 0}, "Retransmits": {"Retransmits", 0},
	"Probes": {"Probes", 0}, "Backoff": {"Backoff", 0}, "Options": {"Options", 0},
	"RTO": {"Rto", time.Microsecond}, "ATO": {"Ato", time.Microsecond}, "SendMSS": {"Snd_mss", 0},
	"RecvMSS": {"Rcv_mss", 0}, "Unacked": {"Unacked", 0}, "Sacked": {"Sacked", 0}, "Lost": {"Lost", 0},
	"Retrans": {"Retrans", 0}, "Fackets": {"Fackets", 0},
	"LastDataSent": {"Last_data_sent", time.Millisecond}, "LastAckSent": {"Last_ack_sent", time.Millisecond},
	"LastDataRecv": {"Last_data_recv", time.Millisecond}, "LastAckRecv": {"Last_ack_recv", time.Millisecond},
	"PMTU": {"Pmtu", 0}, "RecvSSThresh": {"Rcv_ssthresh", 0}, "RTT": {"Rtt", time.Microsecond},
	"RTTVar": {"Rttvar", time.Microsecond}, "SendSSThresh": {"Snd_ssthresh", 0}, "SendCwnd": {"Snd_cwnd", 0},
	"AdvMSS": {"Advmss", 0}, "Reordering": {"Reordering", 0}, "RecvRTT": {"Rcv_rtt", time.Microsecond},
	"RecvSpace": {"Rcv_space", 0}, "TotalRetrans": {"Total_retrans", 0}, "PacingRate": {"Pacing_rate", 0},
	"MaxPacingRate": {"Max_pacing_rate", 0}, "BytesAcked": {"Bytes_acked", 0},
	"BytesReceived": {"Bytes_received", 0}, "SegsOut": {"Segs_out", 0}, "SegsIn": {"Segs_in", 0},
	"NotSentBytes": {"Notsent_bytes", 0}, "MinRTT": {"Min_rtt", time.Microsecond},
	"DataSegsIn": {"Data_segs_in", 0}, "DataSegsOut": {"Data_segs_out", 0},
	"DeliveryRate": {"Delivery_rate", 0}, "BusyTime": {"Busy_time", time.Microsecond},
	"RwndLimited": {"Rwnd_limited", time.Microsecond}, "SndbufLimited": {"Sndbuf_limited", time.Microsecond},
	"Delivered": {"Delivered", 0}, "DeliveredCE": {"Delivered_ce", 0}, "BytesSent": {"Bytes_sent", 0},
	"BytesRetrans": {"Bytes_retrans", 0}, "DSACKDups": {"Dsack_dups", 0}, "ReordSeen": {"Reord_seen", 0},
	"RecvOOOPack": {"Rcv_ooopack", 0}, "SendWindow": {"Snd_wnd", 0}, "RecvWindow": {"Rcv_wnd", 0},
	"Rehash": {"Rehash", 0}, "TotalRTO": {"Total_rto", 0}, "TotalRTORecoveries": {"Total_rto_recoveries", 0},
	"TotalRTOTime": {"Total_rto_time", time.Millisecond}, "ReceivedCE": {"Received_ce", 0},
	"DeliveredE1Bytes": {"Delivered_e1_bytes", 0}, "DeliveredE0Bytes": {"Delivered_e0_bytes", 0},
	"DeliveredCEBytes": {"Delivered_ce_bytes", 0}, "ReceivedE1Bytes": {"Received_e1_bytes", 0},
	"ReceivedE0Bytes": {"Received_e0_bytes", 0}, "ReceivedCEBytes": {"Received_ce_bytes", 0},
}

// Every field is read at the offset and size the kernel's struct has, as
// golang.org/x/sys/unix (generated from the kernel headers) lays it out:
// each field of a unix.TCPInfo gets a distinct value, its bytes are
// decoded, and each of TCPInfo's fields must hold its counterpart's.
func TestTCPInfoMatchesKernelLayout(t *testing.T) {
	if unix.SizeofTCPInfo != tcpInfoLen {
		t.Fatalf("unix.SizeofTCPInfo %d, tcpInfoLen %d", unix.SizeofTCPInfo, tcpInfoLen)
	}
	var ref unix.TCPInfo
	rv := reflect.ValueOf(&ref).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if !f.CanSet() {
			continue // padding
		}
		// Distinct, and small enough for every field's size.
		f.SetUint(uint64(i + 1))
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&ref)), unsafe.Sizeof(ref))
	var got TCPInfo
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	gv := reflect.ValueOf(got)
	checked := 0
	for i := 0; i < gv.NumField(); i++ {
		name := gv.Type().Field(i).Name
		m, ok := tcpInfoNames[name]
		if !ok {
			continue
		}
		want := rv.FieldByName(m.unix)
		if !want.IsValid() {
			t.Fatalf("unix.TCPInfo has no field %s", m.unix)
		}
		var g uint64
		if d, ok := gv.Field(i).Interface().(time.Duration); ok {
			g = uint64(d / m.unit)
		} else {
			g = gv.Field(i).Uint()
		}
		if g != want.Uint() {
			t.Errorf("%s = %d, want %d (unix.TCPInfo.%s)", name, g, want.Uint(), m.unix)
		}
		checked++
	}
	if checked != len(tcpInfoNames) {
		t.Fatalf("checked %d fields of %d", checked, len(tcpInfoNames))
	}
	// Every field of unix.TCPInfo has a counterpart (the two bit-field
	// bytes aside, which x/sys leaves out).
	have := map[string]bool{}
	for _, m := range tcpInfoNames {
		have[m.unix] = true
	}
	for i := 0; i < rv.NumField(); i++ {
		if n := rv.Type().Field(i).Name; n != "_" && !have[n] {
			t.Errorf("unix.TCPInfo.%s is not decoded", n)
		}
	}
}
