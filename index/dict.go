package index

import (
	"strings"
	"sync"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
)

// Dicts numbers the facet values of all shards of an engine: brands,
// category nodes and attribute values. Numbers are dense, start at 0 and are
// never reused, so a count array indexed by them is valid across shards and
// snapshots. Dicts is safe for concurrent use.
type Dicts struct {
	mu sync.RWMutex

	brandIdx  map[string]uint32 // folded brand -> ord
	brandName []string          // ord -> brand as first seen

	nodeIdx map[string]uint32 // category slug -> ord
	nodes   []Node

	attrIdx    map[attrKey]uint32 // (name, folded value) -> ord
	attrs      []AttrValue
	attrByName map[string][]uint32 // name -> ords of its values
}

// Node is a category node.
type Node struct {
	Slug   string
	Name   string
	Level  int
	Parent int32 // ord of the parent node, -1 for a root
}

// AttrValue is one value of one attribute. Local numbers the values of one
// attribute name densely, for facet counting.
type AttrValue struct {
	Name, Value string
	Local       uint32
}

type attrKey struct{ name, value string }

// NewDicts returns empty dictionaries.
func NewDicts() *Dicts {
	return &Dicts{
		brandIdx:   map[string]uint32{},
		nodeIdx:    map[string]uint32{},
		attrIdx:    map[attrKey]uint32{},
		attrByName: map[string][]uint32{},
	}
}

// brandKey is the comparison key of a brand: folded, trimmed.
func brandKey(b string) string { return query.Fold(b) }

// AttrName is the key of an attribute name.
func AttrName(n string) string { return query.Fold(n) }

// intern returns the ord of k in idx, calling add under the write lock to
// number a new one and storing own(k) as its key. Lookups of known keys take
// only the read lock.
//
// Every string the dictionaries keep is a copy (own, strings.Clone): the
// caller's strings may share one allocation with a whole decoded event or
// snapshot record, which a kept substring would hold alive for the life of
// the engine. New values are rare, so the copies cost nothing measurable.
func intern[K comparable](d *Dicts, idx map[K]uint32, k K, own func(K) K, add func() uint32) uint32 {
	d.mu.RLock()
	o, ok := idx[k]
	d.mu.RUnlock()
	if ok {
		return o
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if o, ok := idx[k]; ok {
		return o
	}
	o = add()
	idx[own(k)] = o
	return o
}

func (d *Dicts) brand(name string) (uint32, bool) {
	k := brandKey(name)
	if k == "" {
		return 0, false
	}
	return intern(d, d.brandIdx, k, strings.Clone, func() uint32 {
		d.brandName = append(d.brandName, strings.Clone(name))
		return uint32(len(d.brandName) - 1)
	}), true
}

// category returns the ord of the leaf node of path, adding it and its
// ancestors as needed; ok is false for an empty path.
func (d *Dicts) category(path []string) (uint32, bool) {
	if len(path) == 0 {
		return 0, false
	}
	leaf := catalog.CategorySlug(path)
	d.mu.RLock()
	o, ok := d.nodeIdx[leaf]
	d.mu.RUnlock()
	if ok {
		return o, true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	parent := int32(-1)
	for i := range path {
		slug := catalog.CategorySlug(path[:i+1])
		o, ok := d.nodeIdx[slug]
		if !ok {
			o = uint32(len(d.nodes))
			slug = strings.Clone(slug)
			d.nodeIdx[slug] = o
			d.nodes = append(d.nodes, Node{Slug: slug, Name: strings.Clone(path[i]), Level: i, Parent: parent})
		}
		parent = int32(o)
	}
	return uint32(parent), true
}

func (d *Dicts) attr(name, value string) (uint32, bool) {
	k := attrKey{AttrName(name), query.Fold(value)}
	if k.name == "" || k.value == "" {
		return 0, false
	}
	return intern(d, d.attrIdx, k, func(k attrKey) attrKey { return attrKey{strings.Clone(k.name), strings.Clone(k.value)} }, func() uint32 {
		o := uint32(len(d.attrs))
		name := strings.Clone(k.name)
		d.attrs = append(d.attrs, AttrValue{Name: name, Value: strings.Clone(value), Local: uint32(len(d.attrByName[name]))})
		d.attrByName[name] = append(d.attrByName[name], o)
		return o
	}), true
}

// LookupBrand returns the ord of a brand, compared folded.
func (d *Dicts) LookupBrand(name string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.brandIdx[brandKey(name)]
	return o, ok
}

// LookupCategory returns the ord of a category slug.
func (d *Dicts) LookupCategory(slug string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.nodeIdx[slug]
	return o, ok
}

// LookupAttr returns the ord of an attribute value, compared folded.
func (d *Dicts) LookupAttr(name, value string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.attrIdx[attrKey{AttrName(name), query.Fold(value)}]
	return o, ok
}

// Brand returns the display name of a brand ord.
func (d *Dicts) Brand(ord uint32) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.brandName[ord]
}

// Node returns a category node by ord.
func (d *Dicts) Node(ord uint32) Node {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.nodes[ord]
}

// Attr returns an attribute value by ord.
func (d *Dicts) Attr(ord uint32) AttrValue {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.attrs[ord]
}

// AttrValues returns the ords of the values of an attribute name. The
// returned slice must not be modified.
func (d *Dicts) AttrValues(name string) []uint32 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.attrByName[AttrName(name)]
}

// AttrLocal returns the value of attribute name with local number local.
func (d *Dicts) AttrLocal(name string, local uint32) AttrValue {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.attrs[d.attrByName[name][local]]
}

// NumAttrValues returns the number of values of attribute name.
func (d *Dicts) NumAttrValues(name string) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.attrByName[AttrName(name)])
}

// Sizes returns the number of brands, category nodes and attribute values.
func (d *Dicts) Sizes() (brands, nodes, attrs int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.brandName), len(d.nodes), len(d.attrs)
}

// Parents returns the parent ord of every node, indexed by ord, appended to
// dst; -1 marks a root.
func (d *Dicts) Parents(dst []int32) []int32 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for i := range d.nodes {
		dst = append(dst, d.nodes[i].Parent)
	}
	return dst
}

// appendAncestors appends the ords of node and of its ancestors, from node
// up to the root, to dst.
func (d *Dicts) appendAncestors(dst []uint32, node uint32) []uint32 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for o := int32(node); o >= 0; o = d.nodes[o].Parent {
		dst = append(dst, uint32(o))
	}
	return dst
}
