package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileMode and DirMode are the modes of the files and directories Aisle
// writes under its data directory.
const (
	FileMode os.FileMode = 0o600
	DirMode  os.FileMode = 0o700
)

// Write replaces path with data atomically (see the package comment).
func Write(path string, data []byte) error {
	_, err := WriteFunc(path, func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
	return err
}

// WriteFunc replaces path atomically with what fill writes, and returns
// fill's count. When fill fails, path is untouched and the temporary file
// is removed.
func WriteFunc(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return 0, fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	n, err := fill(f)
	if err != nil {
		err = fmt.Errorf("atomicfile: writing %s: %w", tmp, err)
	} else if err = f.Chmod(FileMode); err != nil {
		err = fmt.Errorf("atomicfile: %w", err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("atomicfile: fsync %s: %w", tmp, err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("atomicfile: closing %s: %w", tmp, cerr)
	}
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			err = fmt.Errorf("atomicfile: %w", err)
		}
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := SyncDir(dir); err != nil {
		return 0, err
	}
	return n, nil
}

// Rename renames from to to and fsyncs the directory of to (and of from,
// when it differs).
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := SyncDir(filepath.Dir(to)); err != nil {
		return err
	}
	if filepath.Dir(from) != filepath.Dir(to) {
		return SyncDir(filepath.Dir(from))
	}
	return nil
}

// Remove removes path, if it exists, and fsyncs its directory.
func Remove(path string) error {
	if err := os.Remove(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("atomicfile: %w", err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs directory dir, so the entries created, renamed or removed
// in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("atomicfile: fsync directory %s: %w", dir, err)
	}
	return nil
}

// MkdirAll creates dir and its missing parents with DirMode, and narrows
// an existing dir to DirMode: the data directory of an older version was
// 0755.
func MkdirAll(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := os.Chmod(dir, DirMode); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}
