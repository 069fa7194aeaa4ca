package bench

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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aisle/aisle/catalog"
)

// postgresPeer returns the PostgreSQL peer, or why it is skipped: where no
// initdb is installed, or the run is root and there is no "postgres" user
// to run the cluster as (PostgreSQL refuses to run as root).
func (c *Config) postgresPeer() peer {
	bin := c.PostgresBin
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		if len(dirs) > 0 {
			bin = dirs[len(dirs)-1] // Glob sorts; the last is the newest major (single digits aside)
		}
	}
	if bin == "" {
		return peer{name: PeerPostgres, skip: "postgres: skipped, PostgreSQL is not installed (apt-get install -y postgresql)"}
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		return peer{name: PeerPostgres, skip: fmt.Sprintf("postgres: skipped, no initdb in %s", bin)}
	}
	var as *user.User
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return peer{name: PeerPostgres, skip: "postgres: skipped, running as root and there is no postgres user to run the cluster as"}
		}
		as = u
	}
	tmp := c.TempDir
	return peer{name: PeerPostgres, build: func(ctx context.Context, ps []*catalog.Product) (*engine, error) {
		return buildPostgres(ctx, bin, as, tmp, ps)
	}}
}

// cluster is a PostgreSQL cluster started for one run.
type cluster struct {
	bin, dir string
	as       *user.User
	port     int
}

// cmd returns the command for a PostgreSQL program, run as the postgres
// user through runuser when this process is root.
func (cl *cluster) cmd(ctx context.Context, prog string, args ...string) *exec.Cmd {
	path := filepath.Join(cl.bin, prog)
	if cl.as != nil {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", cl.as.Username, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func (cl *cluster) run(ctx context.Context, prog string, args ...string) error {
	out, err := cl.cmd(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// start makes the cluster in a new temporary directory and starts it on a
// free loopback port, tuned for a benchmark (no fsync: the data is
// disposable).
func startCluster(ctx context.Context, bin string, as *user.User, tmp string) (*cluster, error) {
	dir, err := os.MkdirTemp(tmp, "aisle-bench-pg-")
	if err != nil {
		return nil, err
	}
	cl := &cluster{bin: bin, dir: dir, as: as}
	if as != nil {
		uid, _ := strconv.Atoi(as.Uid)
		gid, _ := strconv.Atoi(as.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cl.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(dir, "data")
	if err := cl.run(ctx, "initdb", "-D", data, "-A", "trust", "-U", "bench", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=512MB -c max_connections=200 "+
		"-c jit=off", cl.port, dir)
	if err := cl.run(ctx, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return cl, nil
}

// stop stops the cluster and removes its directory.
func (cl *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cl.run(ctx, "pg_ctl", "-D", filepath.Join(cl.dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(cl.dir))
}

const pgSchema = `
CREATE TABLE products (
	id text PRIMARY KEY,
	title text, brand text, category text, attributes text, description text,
	brand_lc text, cats text[], price bigint, rating float8, in_stock bool, color text, created bigint,
	doc tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
		setweight(to_tsvector('english', coalesce(brand, '')), 'B') ||
		setweight(to_tsvector('english', coalesce(category, '')), 'C') ||
		setweight(to_tsvector('english', coalesce(attributes, '') || ' ' || coalesce(description, '')), 'D')
	) STORED
)`

var pgIndexes = []string{
	`CREATE INDEX products_doc ON products USING gin (doc)`,
	`CREATE INDEX products_cats ON products USING gin (cats)`,
	`CREATE INDEX products_brand ON products (brand_lc)`,
	`CREATE INDEX products_price ON products (price)`,
	`ANALYZE products`,
}

func buildPostgres(ctx context.Context, bin string, as *user.User, tmp string, ps []*catalog.Product) (*engine, error) {
	cl, err := startCluster(ctx, bin, as, tmp)
	if err != nil {
		return nil, fmt.Errorf("bench: postgres: %w", err)
	}
	fail := func(err error) (*engine, error) {
		return nil, errors.Join(fmt.Errorf("bench: postgres: %w", err), cl.stop())
	}
	loadStart := time.Now()
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://bench@127.0.0.1:%d/postgres?sslmode=disable", cl.port))
	if err != nil {
		return fail(err)
	}
	cfg.MaxConns = 128
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		pool.Close()
		return fail(fmt.Errorf("creating the table: %w", err))
	}
	rows := make([][]any, len(ps))
	for i, p := range ps {
		d := bleveDoc(p)
		var color any
		if c, ok := d["color"]; ok {
			color = c
		}
		price, _ := p.Price()
		rows[i] = []any{p.ID, p.Title, p.Brand, d["category"], d["attributes"], p.Description,
			strings.ToLower(p.Brand), ancestorSlugs(p.Category), price.Amount, p.Rating.Avg, p.InStock(), color, p.CreatedAt.Unix()}
	}
	cols := []string{"id", "title", "brand", "category", "attributes", "description", "brand_lc", "cats", "price", "rating", "in_stock", "color", "created"}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"products"}, cols, pgx.CopyFromRows(rows)); err != nil {
		pool.Close()
		return fail(fmt.Errorf("copying %d products: %w", len(ps), err))
	}
	for _, s := range pgIndexes {
		if _, err := pool.Exec(ctx, s); err != nil {
			pool.Close()
			return fail(fmt.Errorf("%s: %w", s, err))
		}
	}
	e := &pgEngine{pool: pool}
	return &engine{name: PeerPostgres, s: e, loaded: time.Since(loadStart),
		close: func() error { pool.Close(); return cl.stop() },
		bytes: func() int64 {
			var n int64
			pool.QueryRow(context.Background(), `SELECT pg_total_relation_size('products')`).Scan(&n)
			return n
		}}, nil
}
