package ingest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// Headers of catalog.products records. They repeat what the value says, so
// a reader that needs only a product's version, seller and content hash
// (the importer, reading the whole topic before a re-import) need not
// decode its JSON. The value stays the authority: the indexer ignores the
// headers, and a record without them (written by an older Aisle or another
// producer) is decoded instead.
const (
	HeaderVersion = "aisle-version" // decimal content or tombstone version
	HeaderSeller  = "aisle-seller"  // the product's seller id; absent for the store's own products
	HeaderHash    = "aisle-hash"    // hex of ContentHash of the product; absent on tombstones
	HeaderDeleted = "aisle-deleted" // "1" on a tombstone
	HeaderCreated = "aisle-created" // the product's created_at, RFC 3339
	// HeaderVariants lists the product's variant ids, each a uvarint
	// length and the bytes; absent on tombstones.
	HeaderVariants = "aisle-variants"
)

// ProductState is what the products topic says of one product: its newest
// content or tombstone version, seller, content hash and creation time.
//
// It is kept small, since an import holds one per product on the topic: the
// hash as bytes, the creation time as Unix nanoseconds, and seller ids
// shared between the products of a seller.
type ProductState struct {
	Version uint64
	Deleted bool
	HasHash bool     // the record carried a content hash
	Hash    [16]byte // catalog.ContentHash
	Seller  string
	Created int64 // Unix nanoseconds; 0 when unknown
	// Variants are the variant ids the product's records on the topic
	// name, newest first: a variant id names one variant of one product,
	// also once the product is deleted or the variant dropped (issue 14).
	// Ids only in records compaction removed are forgotten.
	Variants []string
}

// CreatedAt returns the creation time, zero when unknown.
func (st ProductState) CreatedAt() time.Time {
	if st.Created == 0 {
		return time.Time{}
	}
	return time.Unix(0, st.Created).UTC()
}

// CatalogState is the newest state of every product on the products topic.
type CatalogState map[string]ProductState

// sellerIDs interns seller ids while a state is read.
type sellerIDs map[string]string

func (ids sellerIDs) intern(b []byte) string {
	if s, ok := ids[string(b)]; ok {
		return s
	}
	s := string(b)
	ids[s] = s
	return s
}

// apply folds one record into s: the highest version wins; at an equal
// version a tombstone wins, as in the indexer.
func (s CatalogState) apply(r *kgo.Record, ids sellerIDs) error {
	st, ok := headerState(r, ids)
	if !ok {
		var ev struct {
			Version uint64 `json:"version"`
			Deleted bool   `json:"deleted"`
			Product *struct {
				SellerID  string    `json:"seller_id"`
				CreatedAt time.Time `json:"created_at"`
				Variants  []struct {
					ID string `json:"variant_id"`
				} `json:"variants"`
			} `json:"product"`
		}
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			return nil // a poison record: the indexer dead-letters it; it holds no product
		}
		st = ProductState{Version: ev.Version, Deleted: ev.Deleted}
		if ev.Product != nil {
			st.Seller = ids.intern([]byte(ev.Product.SellerID))
			if !ev.Product.CreatedAt.IsZero() {
				st.Created = ev.Product.CreatedAt.UnixNano()
			}
			for _, v := range ev.Product.Variants {
				st.Variants = append(st.Variants, v.ID)
			}
		}
	}
	id := string(r.Key)
	old, had := s[id]
	switch {
	case !had, st.Version > old.Version, st.Version == old.Version && st.Deleted:
		if st.Deleted && st.Seller == "" {
			st.Seller = old.Seller
		}
		// A product keeps every variant id it had: one a newer version
		// dropped still names it in carts, orders and stock cells.
		for _, v := range old.Variants {
			if !slices.Contains(st.Variants, v) {
				st.Variants = append(st.Variants, v)
			}
		}
		s[id] = st
	}
	return nil
}

func headerState(r *kgo.Record, ids sellerIDs) (ProductState, bool) {
	var st ProductState
	hasV := false
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderVersion:
			v, err := strconv.ParseUint(string(h.Value), 10, 64)
			if err != nil {
				return st, false
			}
			st.Version, hasV = v, true
		case HeaderSeller:
			st.Seller = ids.intern(h.Value)
		case HeaderHash:
			n, err := hex.Decode(st.Hash[:], h.Value)
			st.HasHash = err == nil && n == len(st.Hash)
		case HeaderDeleted:
			st.Deleted = string(h.Value) == "1"
		case HeaderCreated:
			if t, err := time.Parse(time.RFC3339Nano, string(h.Value)); err == nil {
				st.Created = t.UnixNano()
			}
		case HeaderVariants:
			vs, ok := variantIDs(h.Value)
			if !ok {
				return st, false
			}
			st.Variants = vs
		}
	}
	return st, hasV
}

// ReadCatalogState reads the products topic from its start to the end
// offsets of the moment of the call and returns the newest state of every
// product. It uses its own short-lived client with no group.
func ReadCatalogState(ctx context.Context, brokers []string) (CatalogState, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("ingest: reading the catalog: %w", err)
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	ends, err := ka.ListEndOffsets(ctx, TopicProducts)
	if err != nil {
		return nil, fmt.Errorf("ingest: reading the catalog: listing end offsets: %w", err)
	}
	starts, err := ka.ListStartOffsets(ctx, TopicProducts)
	if err != nil {
		return nil, fmt.Errorf("ingest: reading the catalog: listing start offsets: %w", err)
	}
	want := map[int32]int64{}
	offs := map[int32]kgo.Offset{}
	var lerr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			lerr = fmt.Errorf("ingest: reading the catalog: %s/%d: %w", o.Topic, o.Partition, o.Err)
			return
		}
		s, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset > s.Offset {
			want[o.Partition] = o.Offset
			offs[o.Partition] = kgo.NewOffset().At(s.Offset)
		}
	})
	if lerr != nil {
		return nil, lerr
	}
	st := CatalogState{}
	ids := sellerIDs{}
	if len(want) == 0 {
		return st, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{TopicProducts: offs}),
		kgo.FetchMaxBytes(16<<20), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("ingest: reading the catalog: %w", err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ingest: reading the catalog: %w", err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = fmt.Errorf("ingest: reading the catalog: %s/%d: %w", t, p, err)
		})
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			st.apply(r, ids)
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return st, nil
}

// appendVariantIDs appends the HeaderVariants form of p's variant ids.
func appendVariantIDs(dst []byte, p *catalog.Product) []byte {
	for i := range p.Variants {
		dst = catalog.AppendString(dst, p.Variants[i].ID)
	}
	return dst
}

// variantIDs reads the HeaderVariants form; ok is false when it is
// malformed.
func variantIDs(b []byte) ([]string, bool) {
	var out []string
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		out = append(out, string(b[k:k+int(n)]))
		b = b[k+int(n):]
	}
	return out, true
}

// productHeaders returns the headers of a product record; variants is
// the HeaderVariants form of its variant ids (appendVariantIDs).
func productHeaders(version uint64, seller string, hash []byte, created time.Time, variants []byte) []kgo.RecordHeader {
	hs := make([]kgo.RecordHeader, 0, 5)
	hs = append(hs, kgo.RecordHeader{Key: HeaderVersion, Value: strconv.AppendUint(nil, version, 10)})
	if seller != "" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderSeller, Value: []byte(seller)})
	}
	if len(hash) > 0 {
		hs = append(hs, kgo.RecordHeader{Key: HeaderHash, Value: hex.AppendEncode(nil, hash)})
	}
	if !created.IsZero() {
		hs = append(hs, kgo.RecordHeader{Key: HeaderCreated, Value: created.AppendFormat(nil, time.RFC3339Nano)})
	}
	if len(variants) > 0 {
		hs = append(hs, kgo.RecordHeader{Key: HeaderVariants, Value: variants})
	}
	return hs
}

// tombstoneHeaders returns the headers of a tombstone.
func tombstoneHeaders(version uint64, seller string) []kgo.RecordHeader {
	hs := []kgo.RecordHeader{
		{Key: HeaderVersion, Value: strconv.AppendUint(nil, version, 10)},
		{Key: HeaderDeleted, Value: []byte("1")},
	}
	if seller != "" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderSeller, Value: []byte(seller)})
	}
	return hs
}
