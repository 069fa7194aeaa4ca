package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

// benchCatalog returns an NDJSON catalog file of n products shaped like
// the store's (a description, attributes, two variants with stock).
func benchCatalog(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"id":"b-%d","title":"Stainless steel kettle %d","description":"A kettle that boils water quickly; brushed steel, 1.7 litres, auto shut-off. Model %d.","brand":"Acme","category_path":["Home","Kitchen","Kettles"],"attributes":{"color":"silver","capacity":"1.7 l"},"images":["https://img.example/%d.jpg"],"variants":[{"variant_id":"b-%d-1","sku":"K-%d","price_cents":%d,"stock":{"wh-east":3,"wh-west":1}},{"variant_id":"b-%d-2","price_cents":%d,"compare_price_cents":%d,"stock":{"wh-east":0}}]}`+"\n",
			i, i%1000, i, i, i, i, 1000+i%5000, i, 1200+i%5000, 1500+i%5000)
	}
	return b.Bytes()
}

// BenchmarkImport imports a fresh catalog into an empty topic each round
// (the embedded broker, fsynced, in this process) and reports products/s
// from the start to the last acknowledgement.
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{20_000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			file := benchCatalog(n)
			var took, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				br, err := StartBroker(b.TempDir(), 0)
				if err != nil {
					b.Fatal(err)
				}
				prod, _ := NewProducer(br.Addrs())
				if _, err := EnsureTopics(context.Background(), prod, 8); err != nil {
					b.Fatal(err)
				}
				prod.Close()
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()
				res, err := Import(context.Background(), []ImportSource{{Name: "bench", Format: catalog.FileNDJSON, R: bytes.NewReader(file)}},
					ImportOptions{Brokers: br.Addrs(), SpoolDir: b.TempDir()})
				if err != nil || res.Published != n {
					b.Fatalf("%v %+v", err, res)
				}
				took += time.Since(start)
				cpu += processCPU() - cpu0
				b.Logf("read %.2f s, publish %.2f s", res.Read.Seconds(), res.Publish.Seconds())
				b.StopTimer()
				br.Close()
				b.StartTimer()
			}
			b.SetBytes(int64(len(file)))
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "products/s")
			// The process's CPU time (user and system) per product: the
			// importer's and the embedded broker's.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "cpu-ns/product")
		})
	}
}
