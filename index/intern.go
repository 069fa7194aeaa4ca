package index

// Intern numbers facet values that arrive by name rather than from a
// product: a router over remote shards holds no products, and interns the
// brands, categories and attribute values its shards count so the merge
// can add their counts as one engine's shards' are.

// InternBrand returns the ord of a brand, numbering it if new; ok is
// false for an empty name.
func (d *Dicts) InternBrand(name string) (uint32, bool) { return d.brand(name) }

// InternCategory returns the ord of the leaf of path (display names, root
// first), numbering it and its ancestors if new; ok is false for an empty
// path.
func (d *Dicts) InternCategory(path []string) (uint32, bool) { return d.category(path) }

// InternAttr returns the ord of an attribute value, numbering it if new;
// ok is false for an empty name or value.
func (d *Dicts) InternAttr(name, value string) (uint32, bool) { return d.attr(name, value) }

// Path returns the display names of node ord and its ancestors, root first.
func (d *Dicts) Path(ord uint32) []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for o := int32(ord); o >= 0; o = d.nodes[o].Parent {
		out = append(out, d.nodes[o].Name)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
