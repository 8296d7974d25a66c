package connector_test

import (
	"context"
	"fmt"

	"github.com/nlkit/nlkit/connector"
	"github.com/nlkit/nlkit/connector/connectortest"
)

// Watch exits, here from a fake process connector; with the real one,
// call connector.SubscribeProc(ctx, nil, connector.ProcEventExit).
func ExampleProcSubscription_Events() {
	kernel := connectortest.New(nil)
	c, _ := kernel.Dial(nil)
	ctx := context.Background()
	sub, err := connector.NewProcSubscription(ctx, c, connector.ProcEventExit)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()

	kernel.Emit(
		connector.ProcEvent{What: connector.ProcEventExec, Exec: &connector.ExecEvent{PID: 42, TGID: 42}},
		connector.ProcEvent{What: connector.ProcEventExit, Exit: &connector.ExitEvent{PID: 42, TGID: 42, Code: 3 << 8}},
		connector.ProcEvent{What: connector.ProcEventExit, Exit: &connector.ExitEvent{PID: 43, TGID: 43, Code: 9}},
	)
	n := 0
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if ev.Lost {
			fmt.Println("events were lost")
			continue
		}
		if x := ev.Exit; x.Signal() != 0 {
			fmt.Printf("%d killed by %v\n", x.PID, x.Signal())
		} else {
			fmt.Printf("%d exited with %d\n", x.PID, x.Status())
		}
		if n++; n == 2 {
			break
		}
	}
	// Output:
	// 42 exited with 3
	// 43 killed by SIGKILL
}
