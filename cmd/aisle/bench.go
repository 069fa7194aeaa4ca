package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// benchCommand runs the benchmark CLI, its own binary so that this one
// links neither peer engine (Bleve, pgx): aisle-bench beside this
// executable or on PATH, else `go run ./cmd/aisle-bench` from the
// repository root.
func benchCommand(ctx context.Context, args []string, stderr io.Writer) error {
	bin, err := exec.LookPath("aisle-bench")
	if self, serr := os.Executable(); serr == nil {
		if p := filepath.Join(filepath.Dir(self), "aisle-bench"); isFile(p) {
			bin, err = p, nil
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if err != nil {
		if _, gerr := exec.LookPath("go"); gerr != nil || !isFile(filepath.Join("cmd", "aisle-bench", "main.go")) {
			return errors.New("bench: the benchmark is its own binary: `go run ./cmd/aisle-bench` from the repository, or go install github.com/aisle/aisle/cmd/aisle-bench")
		}
		cmd = exec.CommandContext(ctx, "go", append([]string{"run", "./cmd/aisle-bench"}, args...)...)
	}
	fmt.Fprintf(stderr, "aisle: running %s\n", cmd)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
