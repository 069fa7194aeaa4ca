package app

import (
	"runtime/debug"
	"testing"
)

// loadingHeap turns the collector off behind a memory limit and puts both
// back.
func TestLoadingHeap(t *testing.T) {
	if memTotal() <= 0 {
		t.Skip("no /proc/meminfo")
	}
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	limit := debug.SetMemoryLimit(-1)
	restore := loadingHeap()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("while loading the GC target is %d, want off (-1)", got)
	}
	if got := debug.SetMemoryLimit(-1); got >= limit || got > memTotal() {
		t.Errorf("while loading the memory limit is %d; want below the machine's %d", got, memTotal())
	}
	restore()
	if got := debug.SetGCPercent(123); got != 123 {
		t.Errorf("after loading the GC target is %d, want 123 back", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("after loading the memory limit is %d, want %d back", got, limit)
	}
}
