package ingest

import (
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is the embedded single-node Kafka-protocol broker (franz-go's
// kfake) that Aisle runs when no broker is configured. It speaks the real
// wire protocol on a loopback port, so any Kafka client, kcat included,
// works against it; its log lives in a data directory, written with fsync,
// so acknowledged records survive a crash.
type Broker struct {
	c *kfake.Cluster
}

// StartBroker starts the embedded broker with its data in dir. port 0 picks
// a free port.
func StartBroker(dir string, port int) (*Broker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
	return &Broker{c: c}, nil
}

// Addrs returns the broker's listen addresses.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker, saving its state.
func (b *Broker) Close() { b.c.Close() }
