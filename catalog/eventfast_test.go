package catalog

import (
	stdjson "encoding/json"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// fastAgrees checks the fast reader against decode on b: when it reads b,
// decode must read it too, to an equal event. It reports whether the fast
// reader read b.
func fastAgrees(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := decodeProductEventFast(b)
	if !ok {
		return false
	}
	var want ProductEvent
	if err := decode(b, &want); err != nil {
		t.Fatalf("the fast reader reads %q, decode refuses it: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the fast reader and decode differ on %q:\n fast   %+v\n decode %+v", b, got, want)
	}
	return true
}

// fastEvents are event texts the fast reader must read itself.
func fastEvents(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for name, p := range binaryCases() {
		if name == "big values" { // infinite numbers are not JSON
			continue
		}
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		e := ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: p.Version + 1, Product: &p}
		b, err := AppendProductEvent(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		out["AppendProductEvent "+name] = b
		if b, err = stdjson.Marshal(e); err != nil {
			t.Fatal(err)
		}
		out["encoding/json "+name] = b
	}
	for _, c := range parityCases[:2] {
		out[c.name] = []byte(c.value)
	}
	out["escapes"] = []byte(`{"schema":1,"id":"p\"1","version":2,"product":{"id":"p\"1","title":"27\" monitor \u00e9\ud83d\ude00 \\ \/ \b\f\n\r\t \u003c\u0026","attributes":{"a\"b":"\u0000"},"variants":[]}}`)
	out["white space"] = []byte(" {\n \"schema\" : 1 ,\t\"id\":\"p\", \"version\" :3, \"deleted\" : false , \"product\" : { \"id\" : \"p\" , \"category\" : [ \"a\" , \"b\" ] , \"rating\" : { \"avg\" : -1.5e-3 , \"count\" : 0 } , \"variants\" : [ { \"variant_id\" : \"v\" , \"stock\" : { \"w\" : -0 } } ] } }\r\n")
	out["numbers"] = []byte(`{"schema":1,"id":"p","version":18446744073709551615,"product":{"id":"p","sales_velocity":0.000001,"seller_quality":1E+2,"sponsored_bid":-9223372036854775808,"rating":{"avg":4.25,"count":9223372036854775807},"variants":[{"price":{"amount":0,"currency":""}}]}}`)
	out["times"] = []byte(`{"schema":1,"id":"p","version":3,"product":{"id":"p","created_at":"0001-01-01T00:00:00Z","updated_at":"2026-11-23T20:00:00.123456789Z"}}`)
	return out
}

// TestProductEventFast checks that the events Aisle writes, and a few
// written by hand, take the fast path and read as decode reads them; and
// that what the fast reader gives up on still decodes as before.
func TestProductEventFast(t *testing.T) {
	for name, b := range fastEvents(t) {
		if !fastAgrees(t, b) {
			t.Errorf("%s: the fast reader gave up on %q", name, b)
		}
	}
	giveUp := map[string]string{
		"unknown member":      `{"schema":1,"id":"p","version":2,"extra":1,"deleted":true}`,
		"null in an array":    `{"schema":1,"id":"p","version":2,"product":{"id":"p","variants":[null]}}`,
		"duplicate name":      `{"schema":1,"id":"p","id":"q","version":2,"deleted":true}`,
		"duplicate key":       `{"schema":1,"id":"p","version":2,"product":{"id":"p","attributes":{"a":"1","a":"2"}}}`,
		"time with an offset": `{"schema":1,"id":"p","version":2,"product":{"id":"p","created_at":"2026-11-23T20:00:00+05:30"}}`,
		"lone surrogate":      `{"schema":1,"id":"p\ud800","version":2,"deleted":true}`,
		"invalid UTF-8":       "{\"schema\":1,\"id\":\"p\xff\",\"version\":2,\"deleted\":true}",
		"float for int":       `{"schema":1.0,"id":"p","version":2,"deleted":true}`,
		"over uint64":         `{"schema":1,"id":"p","version":18446744073709551616,"deleted":true}`,
		"trailing text":       `{"schema":1,"id":"p","version":2,"deleted":true} x`,
		"truncated":           `{"schema":1,"id":"p","version":2,"deleted":tru`,
		"escaped name":        `{"schema":1,"\u0069d":"p","version":2,"deleted":true}`,
		"case-insensitive":    `{"Schema":1,"id":"p","version":2,"deleted":true}`,
	}
	for name, s := range giveUp {
		if _, ok := decodeProductEventFast([]byte(s)); ok {
			t.Errorf("%s: the fast reader read %q", name, s)
		}
		var want ProductEvent
		werr := decode([]byte(s), &want)
		got, err := DecodeProductEvent([]byte("p"), []byte(s))
		if werr != nil {
			if err == nil {
				t.Errorf("%s: DecodeProductEvent accepts what decode refuses (%v)", name, werr)
			}
			continue
		}
		if err == nil && !reflect.DeepEqual(got.Product, want.Product) {
			t.Errorf("%s: DecodeProductEvent differs from decode", name)
		}
	}
}

// FuzzProductEventFast holds the fast reader to decode: whatever it reads,
// decode reads to an equal event.
func FuzzProductEventFast(f *testing.F) {
	for _, b := range fastEvents(f) {
		f.Add(b)
	}
	for _, c := range parityCases {
		f.Add([]byte(c.value))
	}
	f.Fuzz(func(t *testing.T, b []byte) { fastAgrees(t, b) })
}

func BenchmarkDecodeProductEventGeneral(b *testing.B) {
	v := benchProductEvent(b)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		var e ProductEvent
		if err := decode(v, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeProductEventFast(b *testing.B) {
	v := benchProductEvent(b)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, ok := decodeProductEventFast(v); !ok {
			b.Fatal("gave up")
		}
	}
}

// reportCPU returns what reports the process's CPU time (user and system)
// per operation since it was called: on a loaded machine it moves far less
// than the wall time.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
