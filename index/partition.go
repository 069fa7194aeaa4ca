package index

// Murmur2 is the 32-bit murmur2 hash of Kafka's Java client, which its default
// partitioner uses for keyed records (and franz-go's StickyKeyPartitioner
// with its default hasher). Sharding with the same function lets the shard
// of a product and the Kafka partition of its events be the same number.
func Murmur2(b []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	h := uint32(seed) ^ uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		b = b[4:]
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// Partition returns the shard of a product id among n shards: Kafka's
// toPositive(murmur2(key)) % n.
func Partition(id string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(Murmur2([]byte(id))&0x7fffffff) % n
}
