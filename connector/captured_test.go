package connector_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/netlink"
)

// testdata/ was captured from the kernel named in testdata/KERNEL by
// TestCaptureProcEvents (NLKIT_CONNECTOR_CAPTURE=1):
//
//	proc_events.bin   the netlink messages of every process event about
//	                  a child that started a session, became nobody,
//	                  exec'd /bin/sh, renamed itself and exited with 3
//	proc_events.json  that child's PID, parent and what it did

func TestCapturedProcEvents(t *testing.T) {
	b, err := os.ReadFile("testdata/proc_events.bin")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		PID        int    `json:"pid"`
		ParentTGID int    `json:"parent_tgid"`
		Status     int    `json:"status"`
		Comm       string `json:"comm"`
		UID        uint32 `json:"uid"`
		GID        uint32 `json:"gid"`
	}
	j, err := os.ReadFile("testdata/proc_events.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &want); err != nil {
		t.Fatal(err)
	}
	msgs, err := netlink.ParseMessages(b)
	if err != nil {
		t.Fatal(err)
	}
	var types []connector.ProcEventType
	var evs []connector.ProcEvent
	for _, m := range msgs {
		if m.Header.Type != connector.MessageType {
			t.Errorf("message type %v, want NLMSG_DONE", m.Header.Type)
		}
		var cm connector.Message
		if err := cm.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		if cm.ID != connector.ProcID || len(cm.Data) != 40 {
			t.Errorf("cn_msg id %v with %d bytes, want 1:1 with a 40-byte proc_event", cm.ID, len(cm.Data))
		}
		ev, ok, err := connector.ParseProcEvent(m)
		if err != nil || !ok {
			t.Fatalf("ParseProcEvent: %v, %v", ok, err)
		}
		// Every captured event encodes back to the kernel's bytes.
		enc, err := ev.MarshalBinary()
		if err != nil || string(enc) != string(cm.Data) {
			t.Errorf("%v event re-encoded\n % x\nkernel sent\n % x (%v)", ev.What, enc, cm.Data, err)
		}
		types = append(types, ev.What)
		evs = append(evs, ev)
	}
	wantTypes := []connector.ProcEventType{
		connector.ProcEventFork, connector.ProcEventSID, connector.ProcEventGID, connector.ProcEventUID,
		connector.ProcEventExec, connector.ProcEventComm, connector.ProcEventExit,
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Fatalf("event types %v, want %v", types, wantTypes)
	}
	pid := want.PID
	checks := []struct {
		name string
		ok   bool
	}{
		{"fork", *evs[0].Fork == connector.ForkEvent{ParentPID: evs[0].Fork.ParentPID, ParentTGID: want.ParentTGID, ChildPID: pid, ChildTGID: pid}},
		{"sid", *evs[1].SID == connector.SIDEvent{PID: pid, TGID: pid}},
		{"gid", *evs[2].GID == connector.IDEvent{PID: pid, TGID: pid, Real: want.GID, Effective: want.GID}},
		{"uid", *evs[3].UID == connector.IDEvent{PID: pid, TGID: pid, Real: want.UID, Effective: want.UID}},
		{"exec", *evs[4].Exec == connector.ExecEvent{PID: pid, TGID: pid}},
		{"comm", *evs[5].Comm == connector.CommEvent{PID: pid, TGID: pid, Comm: want.Comm}},
		{"exit", evs[6].Exit.PID == pid && evs[6].Exit.TGID == pid && evs[6].Exit.Status() == want.Status &&
			evs[6].Exit.Signal() == 0 && evs[6].Exit.ExitSignal == 17 && evs[6].Exit.ParentTGID == want.ParentTGID},
	}
	for i, c := range checks {
		if !c.ok {
			t.Errorf("%s event: %+v", c.name, evs[i])
		}
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Timestamp < evs[i-1].Timestamp {
			t.Errorf("event %d is older than event %d", i, i-1)
		}
	}
}
