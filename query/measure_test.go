package query

import (
	"slices"
	"testing"
)

func TestMeasures(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"55 inch tv", "55in tv"},
		{"55in tv", "55in tv"},
		{`LG 139.7 cm (55") Black`, `LG 139.7cm (55in) Black`},
		{"32 in. x 80 in. exterior door", "32in x 80in exterior door"},
		{"1/2 in. pvc pipe", "0.5in pvc pipe"},
		{"1/2 in pvc", "0.5in pvc"},
		{"1-1/2 inch drain", "1.5in drain"},
		{"3/4\" plywood", "0.75in plywood"},
		{"usb cable 2 m", "usb cable 2m"},
		{"usb cable 2m", "usb cable 2m"},
		{"2 metres", "2m"},
		{"10 lbs weights", "10lb weights"},
		{"6' ladder", "6ft ladder"},
		{"8 ft. 2x4", "8ft 2x4"},
		{"65-inch tv", "65in tv"},
		{"2 in 1 laptop", "2 in 1 laptop"},
		{"3 in one oil", "3 in one oil"},
		{"tn2110 toner", "tn2110 toner"},
		{"iphone 11", "iphone 11"},
		{"wh-1000xm5", "wh-1000xm5"},
		{"2 mirrors", "2 mirrors"},
		{"007 m", "7m"},
		{"", ""},
	} {
		if got := Measures(c.in); got != c.want {
			t.Errorf("Measures(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMeasureTerms: a product's measures are indexed in every spelling's
// term, so a query written another way matches.
func TestMeasureTerms(t *testing.T) {
	for _, c := range []struct{ text, query string }{
		{`LG 139.7 cm (55") Black`, "55 inch"},
		{"Samsung 55-inch TV", `55"`},
		{"Prehung door 32 in. x 80 in.", "32 inch x 80 inch"},
		{"PVC pipe 1/2 in. x 10 ft.", "1/2 inch"},
		{"USB cable 2 m", "2m"},
		{"2 in. x 4 in. x 8 ft. Lumber", "2x4 lumber"},
		{"Prehung door 32 in. x 80 in.", "32x80 door"},
	} {
		terms := AppendTerms(nil, c.text)
		for _, w := range Words(Measures(c.query)) {
			if w.Stop {
				continue
			}
			if !slices.Contains(terms, w.Terms[0]) {
				t.Errorf("%q: the query %q's term %q is not among %q", c.text, c.query, w.Terms[0], terms)
			}
		}
	}
}

func FuzzMeasures(f *testing.F) {
	for _, s := range []string{"55 inch", `1-1/2"`, "2 in 1", "32 in. x 80 in.", "9/", "1/0 in", "0.5.5 m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Measures(s)
		if len(m) > len(s)+16*len(s) {
			t.Fatalf("Measures(%q) = %q grew", s, m)
		}
		for _, term := range AppendTerms(nil, s) {
			if term == "" || len(term) > MaxTermLen {
				t.Fatalf("AppendTerms(%q) has term %q", s, term)
			}
		}
	})
}
