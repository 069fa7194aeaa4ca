package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/atomicfile"
)

// RunCluster is `aisle cluster`: a cluster on one machine for trying it
// (doc/cluster.md). It starts an embedded Kafka-protocol cluster of three
// kfake brokers (its log in DATA/kafka), creates the topics, publishes the
// shipped store when the products topic is empty (Store demo), and runs
// as separate processes of this binary Nodes index nodes in each of the
// replica sets (ReplicaSets: names, or one number N for sets rs1..rsN;
// default 2),
// each with its own DATA/NODE directory, and a router on Addr. It prints
// their addresses and runs until ctx ends (Ctrl-C), then stops them all.
// A node that dies (kill -9 to try the failover) is reported, not
// restarted.
func RunCluster(ctx context.Context, o Options) error {
	o = o.EnsureDefaults()
	sets := o.ReplicaSets
	if len(sets) == 0 {
		sets = []string{"2"}
	}
	if len(sets) == 1 {
		if n, err := strconv.Atoi(sets[0]); err == nil {
			sets = nil
			for i := range n {
				sets = append(sets, fmt.Sprintf("rs%d", i+1))
			}
		}
	}
	if len(sets) == 0 || o.Nodes < 1 {
		return fmt.Errorf("cluster: --nodes %d and --replica-sets %v: want at least one of each", o.Nodes, o.ReplicaSets)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	kdir := filepath.Join(o.Data, "kafka")
	if err := atomicfile.MkdirAll(kdir); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.DataDir(kdir), kfake.SyncWrites(),
		kfake.BrokerConfigs(map[string]string{"group.consumer.heartbeat.interval.ms": "100"}))
	if err != nil {
		return fmt.Errorf("cluster: starting the embedded brokers: %w", err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	fmt.Fprintf(o.Log, "aisle: embedded Kafka cluster (3 kfake brokers) on %s\n", strings.Join(brokers, ","))
	prod, err := ingest.NewProducer(brokers)
	if err != nil {
		return err
	}
	defer prod.Close()
	if _, err := ingest.EnsureTopics(ctx, prod, int32(o.Shards)); err != nil {
		return err
	}
	if o.Store == StoreDemo {
		published, err := ingest.Bootstrap(ctx, prod, func() ([]*catalog.Product, error) { return corpora.DefaultStore() })
		if err != nil {
			return err
		}
		if published {
			fmt.Fprintf(o.Log, "aisle: published the shipped store to %s\n", ingest.TopicProducts)
		}
	}
	common := []string{"serve", "--brokers", strings.Join(brokers, ","), "--shards", strconv.Itoa(o.Shards)}
	var procs []*exec.Cmd
	start := func(name string, args ...string) error {
		cmd := exec.Command(exe, append(append([]string(nil), common...), args...)...)
		cmd.Stdout = prefixed(o.Log, name)
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("cluster: starting %s: %w", name, err)
		}
		fmt.Fprintf(o.Log, "aisle: %s is process %d\n", name, cmd.Process.Pid)
		procs = append(procs, cmd)
		return nil
	}
	defer func() { stopAll(procs, o.Log) }()
	for _, rs := range sets {
		for n := range o.Nodes {
			id := fmt.Sprintf("%s-n%d", rs, n+1)
			if err := start(id, "--role", "index", "--replica-set", rs, "--node-id", id,
				"--addr", "127.0.0.1:0", "--data", filepath.Join(o.Data, id)); err != nil {
				return err
			}
		}
	}
	if err := start("router", "--role", "router", "--replica-sets", strings.Join(sets, ","), "--addr", o.Addr,
		"--data", filepath.Join(o.Data, "router"), "--search-rate", strconv.FormatFloat(o.SearchRate, 'g', -1, 64)); err != nil {
		return err
	}
	exited := make(chan string, len(procs))
	for _, p := range procs {
		go func() {
			err := p.Wait()
			exited <- fmt.Sprintf("process %d exited: %v", p.Process.Pid, err)
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-exited:
			fmt.Fprintf(o.Log, "aisle: %s\n", m)
		}
	}
}

// stopAll sends SIGTERM to every process still running and waits for
// them, up to 30 s, then kills what is left.
func stopAll(procs []*exec.Cmd, log io.Writer) {
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range procs {
		for p.ProcessState == nil && processAlive(p.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if processAlive(p.Process.Pid) {
			fmt.Fprintf(log, "aisle: process %d did not stop; killing it\n", p.Process.Pid)
			p.Process.Kill()
		}
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// prefixed returns a writer that copies lines to w prefixed "[name] ".
func prefixed(w io.Writer, name string) io.Writer {
	pr, pw := io.Pipe()
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(w, "[%s] %s\n", name, sc.Text())
			mu.Unlock()
		}
	}()
	return pw
}
