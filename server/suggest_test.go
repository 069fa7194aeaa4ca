package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/spell"
)

// startSpellServer serves the test products with spelling data built, so
// correction, understanding and autocomplete answer.
func startSpellServer(t *testing.T) string {
	t.Helper()
	eng := newTestEngine(t)
	if err := eng.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	s := New(testSvc(eng), Options{Logf: checkedLogf(t)})
	return serveOver(t, s)
}

type suggestResponse struct {
	Suggestions []struct {
		Text     string  `json:"text"`
		Category *string `json:"category"`
	} `json:"suggestions"`
}

func TestSuggest(t *testing.T) {
	base := startSpellServer(t)
	for _, c := range []struct {
		q     string
		limit string
		want  string // the first suggestion
		n     int    // at least this many
	}{
		{"head", "", "headphones", 1},
		{"headp", "8", "headphones", 1},
		{"haedp", "8", "headphones", 1}, // one transposition
		{"speak", "1", "speaker", 1},
		{"zzzz", "", "", 0},
		{"", "", "", 0},
	} {
		u := base + "/api/v1/suggest?q=" + url.QueryEscape(c.q)
		if c.limit != "" {
			u += "&limit=" + c.limit
		}
		code, _, body := get(t, "GET", u)
		if code != 200 {
			t.Fatalf("%s: %d %s", u, code, body)
		}
		var r suggestResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%s: %v: %s", u, err, body)
		}
		if len(r.Suggestions) < c.n || c.n > 0 && r.Suggestions[0].Text != c.want {
			t.Errorf("%s: got %s, want first %q", u, body, c.want)
			continue
		}
		if c.n > 0 && (r.Suggestions[0].Category == nil || *r.Suggestions[0].Category == "") {
			t.Errorf("%s: top suggestion without a category: %s", u, body)
		}
		if c.limit == "1" && len(r.Suggestions) != 1 {
			t.Errorf("%s: %d suggestions for limit 1", u, len(r.Suggestions))
		}
	}
}

func TestSuggestBadRequests(t *testing.T) {
	base := startSpellServer(t)
	for _, c := range []struct{ query, param string }{
		{"q=a&limit=21", "limit"},
		{"q=a&limit=0", "limit"},
		{"q=a&limit=x", "limit"},
		{"q=" + strings.Repeat("a", search.MaxQueryBytes+1), "q"},
		{"q=%ff%fe", "q"},
		{"q=a&q=b", "q"},
		{"q=a&page=2", "page"},
	} {
		code, _, body := get(t, "GET", base+"/api/v1/suggest?"+c.query)
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: %v: %s", c.query, err, body)
		}
		if code != 400 || e.Error.Param != c.param || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, code, body, c.param)
		}
	}
}

func TestSearchSpellingFields(t *testing.T) {
	base := startSpellServer(t)
	var r struct {
		Total         int             `json:"total"`
		DidYouMean    *string         `json:"did_you_mean"`
		CorrectedFrom *string         `json:"corrected_from"`
		Understood    json.RawMessage `json:"understood"`
	}
	code, _, body := get(t, "GET", base+"/api/v1/products/search?q="+url.QueryEscape("headphnoes under $100"))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Total == 0 || r.DidYouMean == nil || *r.DidYouMean != "headphones under $100" ||
		r.CorrectedFrom == nil || *r.CorrectedFrom != "headphnoes under $100" || string(r.Understood) != `{"price_max":100,"filtered":["price_max"]}` {
		t.Errorf("got %s", body)
	}
	r = struct {
		Total         int             `json:"total"`
		DidYouMean    *string         `json:"did_you_mean"`
		CorrectedFrom *string         `json:"corrected_from"`
		Understood    json.RawMessage `json:"understood"`
	}{}
	_, _, body = get(t, "GET", base+"/api/v1/products/search?q=headphones")
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.DidYouMean != nil || r.CorrectedFrom != nil || r.Understood != nil {
		t.Errorf("a clean query got spelling or understanding fields: %s", body)
	}
}

func TestAppendUnderstood(t *testing.T) {
	u := &query.Understood{PriceMin: 20, PriceMax: 49.99, HasPriceMin: true, HasPriceMax: true, RatingMin: 4,
		Brands: []string{"Sony", "B\"O"}, Colors: []string{"Black"}, Filtered: []string{"price_min", "price_max"}}
	want := `{"price_min":20,"price_max":49.99,"rating_min":4,"brand":["Sony","B\"O"],"color":["Black"],"filtered":["price_min","price_max"]}`
	if got := string(appendUnderstood(nil, u)); got != want {
		t.Errorf("appendUnderstood = %s, want %s", got, want)
	}
	if got := string(appendUnderstood(nil, &query.Understood{Brands: []string{"Bose"}})); got != `{"brand":["Bose"]}` {
		t.Errorf("appendUnderstood(brand) = %s", got)
	}
	got := string(appendSuggestions(nil, []spell.Suggestion{{Text: "a\"b", Category: "x/y"}, {Text: "c"}}))
	if got != `{"suggestions":[{"text":"a\"b","category":"x/y"},{"text":"c"}]}` {
		t.Errorf("appendSuggestions = %s", got)
	}
	if got := string(appendSuggestions(nil, nil)); got != `{"suggestions":[]}` {
		t.Errorf("appendSuggestions(nil) = %s", got)
	}
}
