package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// childEnv, when set, makes the test binary run an App with the options
// JSON it holds, logging to stderr, until SIGTERM: the child process of
// the tests that kill one (startAisleProcess).
const childEnv = "AISLE_APP_TEST_CHILD"

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(runChild(raw))
	}
	os.Exit(m.Run())
}

func runChild(raw string) int {
	var opts Options
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		fmt.Fprintln(os.Stderr, "aisle test child:", err)
		return 2
	}
	opts.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := Open(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aisle:", err)
		return 2
	}
	select {
	case <-ctx.Done():
	case <-a.Done():
	}
	if err := a.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "aisle:", err)
		return 2
	}
	return 0
}
