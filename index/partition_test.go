package index

import "testing"

// The expected values are those of Kafka's Java client
// (org.apache.kafka.common.utils.Utils.murmur2, as tested in
// UtilsTest.testMurmur2), reinterpreted as unsigned.
func TestMurmur2(t *testing.T) {
	cases := []struct {
		in   string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	}
	for _, c := range cases {
		if got := int32(Murmur2([]byte(c.in))); got != c.want {
			t.Errorf("Murmur2(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestPartitionSpread(t *testing.T) {
	const n = 8
	var counts [n]int
	for i := range 8000 {
		p := Partition("product-"+itoa(i), n)
		if p < 0 || p >= n {
			t.Fatalf("partition %d out of range", p)
		}
		counts[p]++
	}
	for i, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d got %d of 8000 ids; want about 1000", i, c)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
