// Package pgtest starts a real, throwaway PostgreSQL cluster for tests
// and benchmarks: Debian's postgresql package, initdb in a temporary
// directory, pg_ctl on a free loopback port, fsync on. When the process
// is root the cluster runs as the postgres user (PostgreSQL refuses to
// run as root), through runuser.
//
// A test calls Require, which skips when PostgreSQL is not installed and
// the CI variable is unset, and fails under CI. A Cluster is safe for
// concurrent use; each test takes a database of its own with NewDatabase.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrAbsent is returned by Start where PostgreSQL is not installed.
var ErrAbsent = errors.New("pgtest: PostgreSQL is not installed (apt-get install -y postgresql)")

// Options configure a cluster.
type Options struct {
	// NoFsync turns fsync and synchronous_commit off, for tests that do not
	// test durability through a crash of PostgreSQL itself.
	NoFsync bool
	// MaxConnections is PostgreSQL's max_connections; default 300.
	MaxConnections int
}

// Cluster is a running PostgreSQL cluster in a temporary directory.
type Cluster struct {
	Port int
	bin  string
	dir  string
	as   *user.User

	mu sync.Mutex
	n  int
}

// Bin returns the directory of the newest installed PostgreSQL's
// programs, or ErrAbsent.
func Bin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrAbsent
}

// Start makes a cluster in a new temporary directory and starts it on a
// free loopback port.
func Start(opts Options) (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	cl := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if cl.as, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root and there is no postgres user to run the cluster as: %w", err)
		}
	}
	if cl.dir, err = os.MkdirTemp("", "aisle-pgtest-"); err != nil {
		return nil, err
	}
	if cl.as != nil {
		uid, _ := strconv.Atoi(cl.as.Uid)
		gid, _ := strconv.Atoi(cl.as.Gid)
		if err := os.Chown(cl.dir, uid, gid); err != nil {
			os.RemoveAll(cl.dir)
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := filepath.Join(cl.dir, "data")
	if err := cl.run(ctx, "initdb", "-D", data, "-A", "trust", "-U", "aisle", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(cl.dir)
		return nil, err
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = 300
	}
	sync := "-c fsync=on -c synchronous_commit=on"
	if opts.NoFsync {
		sync = "-c fsync=off -c synchronous_commit=off"
	}
	// A port taken between Listen and pg_ctl makes start fail: try a few.
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.RemoveAll(cl.dir)
			return nil, err
		}
		cl.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 %s -c max_connections=%d -c shared_buffers=128MB -c jit=off",
			cl.Port, cl.dir, sync, opts.MaxConnections)
		err = cl.run(ctx, "pg_ctl", "-D", data, "-o", o, "-l", filepath.Join(cl.dir, "log"), "-w", "-t", "120", "start")
		if err == nil {
			return cl, nil
		}
		if try == 2 {
			os.RemoveAll(cl.dir)
			return nil, err
		}
	}
}

func (cl *Cluster) cmd(ctx context.Context, prog string, args ...string) *exec.Cmd {
	p := filepath.Join(cl.bin, prog)
	if cl.as != nil {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", cl.as.Username, "--", p}, args...)...)
	}
	return exec.CommandContext(ctx, p, args...)
}

func (cl *Cluster) run(ctx context.Context, prog string, args ...string) error {
	out, err := cl.cmd(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s %s: %w: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// URL returns the connection string of database db.
func (cl *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://aisle@127.0.0.1:%d/%s?sslmode=disable", cl.Port, db)
}

// NewDatabase creates a new empty database and returns its connection
// string.
func (cl *Cluster) NewDatabase() (string, error) {
	cl.mu.Lock()
	cl.n++
	name := fmt.Sprintf("t%d", cl.n)
	cl.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, cl.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: creating database %s: %w", name, err)
	}
	return cl.URL(name), nil
}

// Stop stops the cluster and removes its directory.
func (cl *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cl.run(ctx, "pg_ctl", "-D", filepath.Join(cl.dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(cl.dir))
}

// Require fails tb when a cluster could not be started (err) under CI, and
// skips it where PostgreSQL is absent and CI is unset.
func Require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrAbsent) && os.Getenv("CI") == "" {
		tb.Skipf("%v; CI is unset, so this test skips", err)
	}
	tb.Fatalf("PostgreSQL: %v", err)
}

// Shared starts one cluster for a whole test binary on first use; Stop
// it from TestMain after m.Run.
type Shared struct {
	Options Options
	once    sync.Once
	cl      *Cluster
	err     error
}

// Get returns the shared cluster, starting it on the first call.
func (s *Shared) Get() (*Cluster, error) {
	s.once.Do(func() { s.cl, s.err = Start(s.Options) })
	return s.cl, s.err
}

// Database returns a new database of the shared cluster, skipping or
// failing tb as Require does when there is no cluster.
func (s *Shared) Database(tb testing.TB) string {
	tb.Helper()
	cl, err := s.Get()
	Require(tb, err)
	url, err := cl.NewDatabase()
	if err != nil {
		tb.Fatal(err)
	}
	return url
}

// Stop stops the cluster if it was started.
func (s *Shared) Stop() error {
	if s.cl == nil {
		return nil
	}
	return s.cl.Stop()
}
