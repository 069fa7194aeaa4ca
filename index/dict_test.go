package index

import (
	"strings"
	"testing"
	"unsafe"
)

// TestDictsKeepCopies: the dictionaries never keep a string that shares its
// bytes with the caller's, which may be a substring of a whole decoded
// event or snapshot record that would then stay alive with them.
func TestDictsKeepCopies(t *testing.T) {
	record := strings.Repeat("x", 1<<16) + "acme|kitchen|dishwashers|colour|white"
	field := func(s string) string { // a substring sharing record's bytes
		i := strings.Index(record, s)
		return record[i : i+len(s)]
	}
	shares := func(s string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(record)))
		return len(s) > 0 && p >= lo && p < lo+uintptr(len(record))
	}
	d := NewDicts()
	b, _ := d.brand(field("acme"))
	c, _ := d.category([]string{field("kitchen"), field("dishwashers")})
	a, _ := d.attr(field("colour"), field("white"))

	if shares(d.Brand(b)) {
		t.Error("the brand name shares the record's bytes")
	}
	for k := range d.brandIdx {
		if shares(k) {
			t.Errorf("the brand key %q shares the record's bytes", k)
		}
	}
	for n := c; ; {
		node := d.Node(n)
		if shares(node.Name) || shares(node.Slug) {
			t.Errorf("category node %+v shares the record's bytes", node)
		}
		if node.Parent < 0 {
			break
		}
		n = uint32(node.Parent)
	}
	if v := d.attrs[a]; shares(v.Name) || shares(v.Value) {
		t.Errorf("attribute value %+v shares the record's bytes", v)
	}
	for k := range d.attrIdx {
		if shares(k.name) || shares(k.value) {
			t.Errorf("attribute key %+v shares the record's bytes", k)
		}
	}
	for k := range d.attrByName {
		if shares(k) {
			t.Errorf("attribute name %q shares the record's bytes", k)
		}
	}
}
