package taskstats_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nlkit/nlkit/taskstats"
)

// Read this process's accounting, as getdelays -d -i -p does (needs
// CAP_NET_ADMIN).
func ExampleClient_Task() {
	ctx := context.Background()
	c, err := taskstats.Dial(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	st, err := c.Task(ctx, uint32(os.Getpid()))
	if errors.Is(err, taskstats.ErrNoProcess) {
		fmt.Println(err) // taskstats: no process with pid N
		return
	}
	if err != nil {
		fmt.Println(err) // EPERM without CAP_NET_ADMIN
		return
	}
	fmt.Println(st.Comm, st.UserTime+st.SystemTime, st.ReadChars, st.CPU.Average())
}

// struct taskstats is decoded by the offsets of the version it carries.
func ExampleStats_UnmarshalBinary() {
	in := taskstats.Stats{Version: 16, Comm: "sleep", PID: 42, UserTime: 1500 * time.Microsecond,
		CPU: taskstats.Delay{Count: 2, Total: 3 * time.Millisecond}}
	b, _ := in.MarshalBinary()
	var st taskstats.Stats
	if err := st.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(b), st.Version, st.Comm, st.PID, st.UserTime, st.CPU.Average())
	// Output: 560 16 sleep 42 1.5ms 1.5ms
}
