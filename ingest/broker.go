package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is the embedded single-node Kafka-protocol broker (franz-go's
// kfake) that Aisle runs when no broker is configured. It speaks the real
// wire protocol on a loopback port, so any Kafka client, kcat included,
// works against it; its log lives in a data directory, written with fsync,
// so acknowledged records survive a crash.
type Broker struct {
	c   *kfake.Cluster
	dir string
}

// StartBroker starts the embedded broker with its data in dir. port 0 picks
// a free port.
func StartBroker(dir string, port int) (*Broker, error) {
	if err := atomicfile.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("ingest: broker data directory: %w", err)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DataDir(dir),
		kfake.SyncWrites(),
		kfake.BrokerConfigs(map[string]string{"group.consumer.heartbeat.interval.ms": "100"}),
	)
	if err != nil {
		return nil, fmt.Errorf("ingest: starting the embedded broker: %w", err)
	}
	b := &Broker{c: c, dir: dir}
	// Other processes (aisle import) find the broker through this file.
	addr := filepath.Join(dir, BrokerAddrFile)
	if err := atomicfile.Write(addr, []byte(strings.Join(c.ListenAddrs(), " ")+"\n")); err != nil {
		c.Close()
		return nil, fmt.Errorf("ingest: writing the broker address: %w", err)
	}
	return b, nil
}

// Addrs returns the broker's listen addresses.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker, saving its state, and removes its address file.
func (b *Broker) Close() {
	os.Remove(filepath.Join(b.dir, BrokerAddrFile))
	b.c.Close()
}
