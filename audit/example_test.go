package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/nlkit/nlkit/audit"
	"github.com/nlkit/nlkit/netlink"
)

// Rules in auditctl's syntax, and back: what auditctl -l prints.
func ExampleRuleParser_Parse() {
	p := audit.RuleParser{Arch: audit.ArchAMD64} // as on an x86-64 machine
	for _, s := range []string{
		"-w /etc/passwd -p wa -k passwd",
		"-a always,exit -F arch=b64 -S openat -k mykey",
		"-a exit,always -F arch=b64 -S unlinkat,unlink -F auid>=1000 -F auid!=-1",
	} {
		r, err := p.Parse(strings.Fields(s))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Filter, r.Action, len(r.Fields), r.Keys())
	}
	_, err := p.Parse(strings.Fields("-a always,exit -S opnat"))
	fmt.Println(err)
	// Output:
	// exit always 3 [passwd]
	// exit always 2 [mykey]
	// exit always 3 []
	// -S opnat: unknown syscall "opnat" for arch x86_64
}

// A record as the kernel sends it; hex-encoded values come decoded.
func ExampleParseRecord() {
	r, err := audit.ParseRecord(audit.MsgProctitle, []byte("audit(1700000000.123:456): proctitle=2F62696E2F7368002D630074727565"))
	if err != nil {
		log.Fatal(err)
	}
	title, _ := r.Get("proctitle")
	fmt.Println(r.Type, r.Serial, r.Time.Format(time.RFC3339Nano), title)
	fmt.Println(r)
	// Output:
	// PROCTITLE 456 2023-11-14T22:13:20.123Z /bin/sh -c true
	// type=PROCTITLE msg=audit(1700000000.123:456): proctitle=2F62696E2F7368002D630074727565
}

// Records grouped into events by serial: an event ends at its EOE.
func ExampleAssembler() {
	var a audit.Assembler
	now := time.Now()
	for _, in := range []struct {
		t    audit.MessageType
		text string
	}{
		{audit.MsgSyscall, `audit(1.000:7): syscall=59 key="execkey"`},
		{audit.MsgExecve, `audit(1.000:7): argc=1 a0="/bin/true"`},
		{audit.MsgEOE, `audit(1.000:7): `},
	} {
		r, err := audit.ParseRecord(in.t, []byte(in.text))
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range a.Push(r, now) {
			key, _ := ev.Get(audit.MsgSyscall, "key")
			fmt.Println(ev.Serial, len(ev.Records), key, ev.Complete())
		}
	}
	// Output:
	// 7 3 execkey true
}

// Be the audit daemon for a while: every event, grouped.
func ExampleRegister() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := audit.Register(ctx, nil)
	if errors.Is(err, audit.ErrDaemonRegistered) {
		l, err = audit.ReadLog(nil) // auditd runs: read the multicast copy
	}
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close() // unregisters
	for ev, err := range l.Events(ctx) {
		if errors.Is(err, netlink.ErrOverrun) {
			continue // records were lost
		}
		if err != nil {
			break
		}
		exe, _ := ev.Get(audit.MsgSyscall, "exe")
		fmt.Println(ev.Serial, exe)
	}
}
