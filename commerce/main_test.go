package commerce

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aisle/aisle/internal/pgtest"
)

// The commerce suite runs twice: on bbolt, then on PostgreSQL (a real
// cluster, fsync on), where every test's store is a database of its own.
// The PostgreSQL run is skipped only where PostgreSQL is not installed and
// CI is unset.
var (
	testPG    bool
	pgCluster = &pgtest.Shared{}
	pgDBs     sync.Map // Options.Path -> connection string: a reopen finds its database
)

func TestMain(m *testing.M) {
	// AISLE_COMMERCE_PG=off runs bbolt only, =only PostgreSQL only.
	code := 0
	if os.Getenv("AISLE_COMMERCE_PG") != "only" {
		code = m.Run()
	}
	if code == 0 && os.Getenv("AISLE_COMMERCE_PG") != "off" {
		if _, err := pgCluster.Get(); err != nil && os.Getenv("CI") == "" {
			fmt.Printf("commerce: the suite on PostgreSQL skipped: %v\n", err)
		} else {
			fmt.Println("commerce: the suite on PostgreSQL")
			testPG = true
			code = m.Run()
		}
	}
	if err := pgCluster.Stop(); err != nil {
		fmt.Println(err)
	}
	os.Exit(code)
}

// openTest opens the store of o: o.Path's bbolt file, or on the
// PostgreSQL run the database that stands for that path.
func openTest(tb testing.TB, o Options) (*Store, error) {
	tb.Helper()
	if testPG && o.Path != "" {
		url, ok := pgDBs.Load(o.Path)
		if !ok {
			url, _ = pgDBs.LoadOrStore(o.Path, pgCluster.Database(tb))
		}
		o.Path, o.DB = "", url.(string)
	}
	return Open(o)
}
