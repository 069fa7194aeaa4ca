package commerce

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// Tests of several processes sharing one PostgreSQL database. Each child
// is this test binary started again (TestPGChild), with its own Store
// and its own replica id, speaking to the parent over stdin and stdout.

const (
	envChildDB   = "AISLE_PG_CHILD_DB"
	envChildRole = "AISLE_PG_CHILD_ROLE"
	envChildName = "AISLE_PG_CHILD_NAME"
)

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its stdout, line by line; closed at EOF
}

func startChild(t *testing.T, db, role, name string) *child {
	t.Helper()
	return startChildEnv(t, db, role, name)
}

func startChildEnv(t *testing.T, db, role, name string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPGChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), envChildDB+"="+db+"&application_name=aisle-child", envChildRole+"="+role, envChildName+"="+name, "AISLE_COMMERCE_PG=off")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return c
}

// expect waits for a line starting with prefix, failing on a line
// starting "error" or the end of the output.
func (c *child) expect(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child ended before %q", prefix)
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("child: %s", l)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q from the child in 5 minutes", prefix)
		}
	}
}

// waitChildrenGone waits until the database has no session of a child.
func waitChildrenGone(t *testing.T, db string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	must(t, err)
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var n int
		must(t, conn.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aisle-child'`).Scan(&n))
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of killed children still open after 2 minutes", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func requirePG(t *testing.T) {
	if !testPG {
		t.Skip("PostgreSQL only: runs in the suite's PostgreSQL pass")
	}
}

// TestPGChild is the child process's body; it does nothing in a normal run.
func TestPGChild(t *testing.T) {
	db := os.Getenv(envChildDB)
	if db == "" {
		t.Skip("the body of a child process of the PostgreSQL tests")
	}
	name := os.Getenv(envChildName)
	st, err := Open(Options{DB: db, Replica: name, GroupCommit: true})
	if err != nil {
		fmt.Printf("error opening: %v\n", err)
		os.Exit(1)
	}
	co := NewCheckout(st, checkoutWarehouses, NewSandbox(), CheckoutOptions{})
	in := bufio.NewScanner(os.Stdin)
	switch os.Getenv(envChildRole) {
	case "race":
		childRace(co, name, in)
	case "kill":
		childKill(co, name)
	case "relay":
		childRelay(st)
	}
	st.Close()
	os.Exit(0)
}

// prepare makes a session ready to confirm for user buying one unit of v.
func prepare(co *Checkout, user string) (*Session, error) {
	s, err := co.Create(user, "", []SessionLine{line("v", 1)})
	if err == nil {
		_, err = co.SetAddress(user, s.ID, "", testAddress)
	}
	if err == nil {
		_, err = co.SetShipping(user, s.ID, "", "standard")
	}
	if err == nil {
		s, err = co.SetPayment(context.Background(), user, s.ID, "", CardDetails{CardApprove, 12, 2099 - 60, "123"})
	}
	return s, err
}

// childRace readies 100 shoppers, says "ready", waits for "go", confirms
// them all at once and reports "won N lost M".
func childRace(co *Checkout, name string, in *bufio.Scanner) {
	const shoppers = 100
	sessions := make([]*Session, shoppers)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range sessions {
		wg.Go(func() {
			s, err := prepare(co, fmt.Sprintf("%s-u%d", name, i))
			if err != nil {
				failed.Store(err)
			}
			sessions[i] = s
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Printf("error preparing: %v\n", err)
		return
	}
	fmt.Println("ready")
	if !in.Scan() || in.Text() != "go" {
		fmt.Println("error: no go")
		return
	}
	var won, lost atomic.Int64
	for _, s := range sessions {
		wg.Go(func() {
			_, err := co.Confirm(context.Background(), s.UserID, s.ID, "k")
			var se *ShortError
			switch {
			case err == nil:
				won.Add(1)
			case errors.As(err, &se):
				lost.Add(1)
			default:
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Printf("error confirming: %v\n", err)
		return
	}
	fmt.Printf("won %d lost %d\n", won.Load(), lost.Load())
}

// TestPGSharedStockTwoProcesses: two processes, each with 100 shoppers,
// race for S units of one variant (split over two warehouses) in one
// database. Exactly S orders are placed across both, the stock ends
// empty with nothing reserved, and with S = 150 each process sold at
// least the 50 units the other could not.
func TestPGSharedStockTwoProcesses(t *testing.T) {
	requirePG(t)
	for _, S := range []int{1, 37, 150} {
		t.Run(fmt.Sprintf("S=%d", S), func(t *testing.T) {
			db := pgCluster.Database(t)
			st, err := Open(Options{DB: db, Replica: "parent"})
			must(t, err)
			defer st.Close()
			_, err = st.SetStock("p", "v", "w-nyc", S/2)
			must(t, err)
			_, err = st.SetStock("p", "v", "w-la", S-S/2)
			must(t, err)
			a, b := startChild(t, db, "race", "a"), startChild(t, db, "race", "b")
			a.expect(t, "ready")
			b.expect(t, "ready")
			fmt.Fprintln(a.stdin, "go")
			fmt.Fprintln(b.stdin, "go")
			won, each := 0, []int{}
			for _, c := range []*child{a, b} {
				var w, l int
				if _, err := fmt.Sscanf(c.expect(t, "won "), "won %d lost %d", &w, &l); err != nil {
					t.Fatal(err)
				}
				if w+l != 100 {
					t.Fatalf("a child answered %d of its 100 shoppers", w+l)
				}
				t.Logf("process: %d orders, %d out of stock", w, l)
				won += w
				each = append(each, w)
			}
			if S > 100 && (each[0] < S-100 || each[1] < S-100) {
				t.Fatalf("S=%d over 2 x 100 shoppers, but the processes sold %v", S, each)
			}
			orders := 0
			must(t, st.EachOrder(func(catalog.OrderEvent) bool { orders++; return true }))
			left, reserved := 0, 0
			cells, err := st.Stocks()
			must(t, err)
			for _, c := range cells {
				left += c.Available
				reserved += c.Reserved
			}
			if won != S || orders != S || left != 0 || reserved != 0 {
				t.Fatalf("S=%d: %d confirmed, %d orders stored, %d left, %d reserved", S, won, orders, left, reserved)
			}
		})
	}
}

// childKill confirms shoppers k<name>-<i> one after the other on 8
// goroutines, forever, printing "placed <user> <order>" after each
// acknowledged confirm, until it is killed.
func childKill(co *Checkout, name string) {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				user := fmt.Sprintf("%s-u%d", name, next.Add(1))
				s, err := prepare(co, user)
				if err != nil {
					fmt.Printf("error preparing: %v\n", err)
					return
				}
				o, err := co.Confirm(context.Background(), user, s.ID, "k")
				var se *ShortError
				switch {
				case errors.As(err, &se):
					mu.Lock()
					fmt.Printf("short %s\n", user)
					mu.Unlock()
				case err != nil:
					fmt.Printf("error confirming: %v\n", err)
					return
				default:
					mu.Lock()
					fmt.Printf("placed %s %s\n", user, o.ID)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// TestPGKill9MidCheckout: a process confirming checkouts on 8 goroutines
// is killed with SIGKILL mid-flight, three times over. Every order it
// acknowledged is in the database; after Recover in another process
// finishes the checkouts it left confirming, every unit is accounted for
// (sold in exactly one order, or available), nothing stays reserved,
// and no shopper has two orders.
func TestPGKill9MidCheckout(t *testing.T) {
	requirePG(t)
	const S = 10_000
	db := pgCluster.Database(t)
	st, err := Open(Options{DB: db, Replica: "parent"})
	must(t, err)
	defer st.Close()
	_, err = st.SetStock("p", "v", "w-nyc", S)
	must(t, err)
	acked := map[string]string{} // user -> order id
	for round := range 3 {
		c := startChild(t, db, "kill", "k"+strconv.Itoa(round))
		for n := 0; n < 40; {
			l := c.expect(t, "placed ")
			f := strings.Fields(l)
			acked[f[1]] = f[2]
			n++
		}
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond) // mid-flight at a random point
		must(t, c.cmd.Process.Signal(syscall.SIGKILL))
		c.cmd.Wait()
		for l := range c.lines { // what it printed before dying
			if f := strings.Fields(l); len(f) == 3 && f[0] == "placed" {
				acked[f[1]] = f[2]
			}
		}
	}
	// A transaction whose COMMIT a killed child had sent may still commit:
	// wait for the server to finish the dead processes' sessions.
	waitChildrenGone(t, db)
	co := NewCheckout(st, checkoutWarehouses, NewSandbox(), CheckoutOptions{})
	recovered, err := co.Recover(context.Background(), 0)
	must(t, err)
	perUser := map[string]int{}
	sold := 0
	must(t, st.EachOrder(func(e catalog.OrderEvent) bool {
		perUser[e.UserID]++
		for _, l := range e.Lines {
			sold += l.Quantity
		}
		return true
	}))
	for u, id := range acked {
		o, err := co.Order(u, id)
		if err != nil || o == nil {
			t.Fatalf("acknowledged order %s of %s is lost: %v", id, u, err)
		}
	}
	for u, n := range perUser {
		if n != 1 {
			t.Fatalf("%s has %d orders", u, n)
		}
	}
	cell, err := st.Stock("v", "w-nyc")
	must(t, err)
	if cell.Reserved != 0 || cell.Available+sold != S {
		t.Fatalf("stock %+v and %d units sold; want %d in all, none reserved", cell, sold, S)
	}
	t.Logf("%d acknowledged orders, %d orders in all (%d recovered), %d units sold, %d available", len(acked), len(perUser), recovered, sold, cell.Available)
}

const envChildBrokers = "AISLE_PG_CHILD_BROKERS"

// childRelay relays the outbox to the brokers until it is killed.
func childRelay(st *Store) {
	prod, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(os.Getenv(envChildBrokers), ",")...), kgo.ProducerLinger(0))
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return
	}
	fmt.Println("relaying")
	err = st.Relay(context.Background(), slowPublisher{kgoPublisher{prod}}, RelayOptions{Poll: 10 * time.Millisecond, Batch: 50})
	fmt.Printf("error relaying: %v\n", err)
}

// slowPublisher waits after the broker acknowledged, before the outbox
// records are deleted: a kill lands there often.
type slowPublisher struct{ kgoPublisher }

func (p slowPublisher) Publish(ctx context.Context, recs []Record) error {
	err := p.kgoPublisher.Publish(ctx, recs)
	time.Sleep(20 * time.Millisecond)
	return err
}

// TestPGOutboxRelayKill9: writers commit numbered events (each key's
// number taken from a counter row written in the same transaction) while
// two relay processes at a time, sharing the database, are killed with
// SIGKILL mid-relay, three times over; then this process relays the rest.
// Every event reaches the broker at least once, and for every key the
// first delivery of each number comes in commit order.
func TestPGOutboxRelayKill9(t *testing.T) {
	requirePG(t)
	const topic, keys, writers, perWriter = "relaytest", 20, 8, 150
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	must(t, err)
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	db := pgCluster.Database(t)
	st, err := Open(Options{DB: db, Replica: "parent", GroupCommit: true})
	must(t, err)
	defer st.Close()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("k%d", (w*7+i)%keys)
				err := st.txn(func(tx kvTx) (error, error) {
					meta := tx.Bucket(bucketMeta)
					n := 0
					if v := meta.Get([]byte("ctr/" + key)); v != nil {
						n, _ = strconv.Atoi(string(v))
					}
					n++
					if err := meta.Put([]byte("ctr/"+key), []byte(strconv.Itoa(n))); err != nil {
						return nil, err
					}
					return nil, enqueue(tx, topic, []byte(key), []byte(strconv.Itoa(n)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for round := range 3 {
		var kids []*child
		for _, name := range []string{"a", "b"} {
			ch := startChildEnv(t, db, "relay", name+strconv.Itoa(round), envChildBrokers+"="+brokers)
			ch.expect(t, "relaying")
			kids = append(kids, ch)
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
		for _, ch := range kids {
			must(t, ch.cmd.Process.Signal(syscall.SIGKILL))
			ch.cmd.Wait()
		}
	}
	wg.Wait()
	left, err := st.OutboxLen()
	must(t, err)
	t.Logf("%d events left in the outbox after the kills", left)

	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(0))
	must(t, err)
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	relayed := make(chan error, 1)
	go func() { relayed <- st.Relay(rctx, kgoPublisher{prod}, RelayOptions{Poll: 10 * time.Millisecond}) }()

	cons, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	must(t, err)
	defer cons.Close()
	seen := map[string]int{} // key -> highest number delivered
	got, dups := 0, 0
	for got < writers*perWriter {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d of %d events delivered", got, writers*perWriter)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n, _ := strconv.Atoi(string(r.Value))
			switch last := seen[string(r.Key)]; {
			case n <= last:
				dups++
			case n == last+1:
				seen[string(r.Key)] = n
				got++
			default:
				t.Fatalf("key %s: event %d delivered before %d", r.Key, n, last+1)
			}
		})
	}
	stop()
	<-relayed
	t.Logf("%d events delivered in order per key, %d duplicates", got, dups)
}

// TestPGDroppedConnections: while 8 writers add to their carts, another
// session terminates every other connection to the database every 20 ms
// (as a failover or a restarted pooler would). Writes whose connection
// died before COMMIT are retried and acknowledged; a write whose COMMIT
// answer was lost is reported as such (errUnknownOutcome), never as done.
// Every acknowledged add is in the cart, and nothing is applied that was
// neither acknowledged nor of unknown outcome.
func TestPGDroppedConnections(t *testing.T) {
	requirePG(t)
	db := pgCluster.Database(t)
	st, err := Open(Options{DB: db, Replica: "r", GroupCommit: true})
	must(t, err)
	defer st.Close()
	killer, err := pgx.Connect(context.Background(), db)
	must(t, err)
	defer killer.Close(context.Background())
	stop := make(chan struct{})
	killed := make(chan int, 1)
	go func() {
		n := 0
		defer func() { killed <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var k int
			err := killer.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&k)
			if err != nil {
				t.Error(err)
				return
			}
			n += k
		}
	}()
	const writers, adds = 8, 40
	var acked, unknown [writers]int
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range adds {
				_, err := st.Update(fmt.Sprintf("u%d", w), func(c *Cart) error { return c.Add("v", 1) })
				switch {
				case err == nil:
					acked[w]++
				case errors.Is(err, errUnknownOutcome):
					unknown[w]++
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	terminated := <-killed
	retries := st.db.(*pgBackend).retries.Load()
	resolved := st.db.(*pgBackend).resolved.Load()
	totalUnknown := 0
	for w := range writers {
		c, err := st.Load(fmt.Sprintf("u%d", w))
		must(t, err)
		if q := c.Quantity("v"); q < acked[w] || q > acked[w]+unknown[w] {
			t.Fatalf("writer %d: %d units in the cart, %d adds acknowledged and %d of unknown outcome", w, q, acked[w], unknown[w])
		}
		totalUnknown += unknown[w]
	}
	if terminated == 0 || retries == 0 {
		t.Fatalf("%d sessions terminated, %d transactions retried: the test proved nothing", terminated, retries)
	}
	t.Logf("%d sessions terminated, %d transactions retried, %d lost COMMIT answers resolved from their markers, %d writes of unknown outcome, the rest acknowledged",
		terminated, retries, resolved, totalUnknown)
}

// TestPGMigrations: eight stores opening one new database at once apply
// each embedded migration once (under the advisory lock), and a database
// migrated past what this binary knows refuses to open, with the numbers.
func TestPGMigrations(t *testing.T) {
	requirePG(t)
	db := pgCluster.Database(t)
	files, err := migrationFiles()
	must(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			st, err := Open(Options{DB: db, Replica: fmt.Sprintf("r%d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()
	conn, err := pgx.Connect(context.Background(), db)
	must(t, err)
	defer conn.Close(context.Background())
	var n, max int
	must(t, conn.QueryRow(context.Background(), `SELECT count(*), max(version) FROM commerce_migrations`).Scan(&n, &max))
	if n != len(files) || max != len(files) {
		t.Fatalf("%d migrations recorded up to %d; want each of the %d once", n, max, len(files))
	}
	_, err = conn.Exec(context.Background(), `INSERT INTO commerce_migrations (version, name) VALUES ($1, 'from the future')`, len(files)+1)
	must(t, err)
	if _, err := Open(Options{DB: db, Replica: "old"}); err == nil || !strings.Contains(err.Error(), "run a newer binary") {
		t.Fatalf("opening a database migrated past this binary: %v", err)
	}
}
