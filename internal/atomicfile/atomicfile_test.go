package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, data := range []string{"first", "second, longer", ""} {
		if err := Write(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != FileMode {
			t.Fatalf("mode %v, %v; want %v", fi.Mode().Perm(), err, FileMode)
		}
	}
	assertOnly(t, dir, "f")
}

func TestWriteFuncFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := Write(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err := WriteFunc(path, func(w io.Writer) (int64, error) {
		w.Write([]byte("half a new fi"))
		return 0, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v; want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("file %q after a failed write; want old", got)
	}
	assertOnly(t, dir, "f")
}

func TestErrorsReturned(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such")
	cases := []struct {
		name string
		err  error
	}{
		{"write into a missing dir", Write(filepath.Join(missing, "f"), []byte("x"))},
		{"sync a missing dir", SyncDir(missing)},
		{"rename a missing file", Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b"))},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if err := Remove(filepath.Join(dir, "absent")); err != nil {
		t.Errorf("removing an absent file: %v; want nil", err)
	}
}

func TestMkdirAllNarrows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "a", "b")
	if err := MkdirAll(sub); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, sub} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != DirMode {
			t.Errorf("%s: mode %v, %v; want %v", d, fi.Mode().Perm(), err, DirMode)
		}
	}
}

func TestRenameAndRemove(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := Write(a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := Rename(a, b); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "b")
	if err := Remove(b); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir)
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %v; want %v", dir, got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("%s holds %v; want %v", dir, got, names)
		}
	}
}
