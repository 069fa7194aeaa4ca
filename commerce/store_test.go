package commerce

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func openStore(t testing.TB, replica string, group bool) *Store {
	t.Helper()
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "commerce.db"), Replica: replica, GroupCommit: group})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOptionsValidate(t *testing.T) {
	o := Options{BatchDelay: -1}
	o.EnsureDefaults()
	err := o.Validate()
	if err == nil {
		t.Fatal("empty options accepted")
	}
	t.Log(err)
}

func TestStoreCartSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := openTest(t, Options{Path: path, Replica: "r1"})
	must(t, err)
	if _, err := s.Update("u1", func(c *Cart) error { return c.Add("shoe", 2) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := s.Update("u1", func(c *Cart) error { c.Add("hat", 1); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update error %v, want boom", err)
	}
	must(t, s.Close())
	if _, err := s.Load("u1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close: %v", err)
	}
	s, err = openTest(t, Options{Path: path, Replica: "r1"})
	must(t, err)
	defer s.Close()
	c, err := s.Load("u1")
	must(t, err)
	if got := c.Items(); !slices.Equal(got, []Item{{"shoe", 2}}) {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestStoreReplicasMerge(t *testing.T) {
	a, b := openStore(t, "a", false), openStore(t, "b", false)
	ca, err := a.Update("u", func(c *Cart) error { return c.Add("shoe", 1) })
	must(t, err)
	_, err = b.Merge("u", ca)
	must(t, err)
	cb, err := b.Update("u", func(c *Cart) error { return c.Remove("shoe") })
	must(t, err)
	ca, err = a.Update("u", func(c *Cart) error { return c.Add("sock", 1) }) // concurrent with the remove
	must(t, err)
	ga, err := a.Merge("u", cb)
	must(t, err)
	gb, err := b.Merge("u", ca)
	must(t, err)
	want := []Item{{"sock", 1}}
	if !slices.Equal(ga.Items(), want) || !slices.Equal(gb.Items(), want) || string(ga.Encode()) != string(gb.Encode()) {
		t.Fatalf("replicas disagree: %s vs %s", ga.Encode(), gb.Encode())
	}
}

// TestStoreUpdateAtomic: concurrent writes to one cart are serialised,
// with and without group commit.
func TestStoreUpdateAtomic(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			s := openStore(t, "r", group)
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Go(func() {
					_, err := s.Update("u", func(c *Cart) error {
						if err := c.Add("shoe", 1); err != nil {
							return err
						}
						return c.Add(fmt.Sprintf("v%d", i), 1)
					})
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			c, err := s.Load("u")
			must(t, err)
			if c.Len() != 41 || c.Quantity("shoe") != 40 {
				t.Fatalf("lines %d, shoes %d; want 41 and 40", c.Len(), c.Quantity("shoe"))
			}
		})
	}
}
