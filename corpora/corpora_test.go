package corpora

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// The sets are decoded once per test binary.
var (
	loadOnce                    sync.Once
	icecat, bigbasket, instacrt []*catalog.Product
	loadErr                     error
)

func sets(t testing.TB) (ice, bb, ic []*catalog.Product) {
	t.Helper()
	loadOnce.Do(func() {
		if icecat, loadErr = Icecat(); loadErr != nil {
			return
		}
		if bigbasket, loadErr = BigBasket(); loadErr != nil {
			return
		}
		instacrt, loadErr = Instacart()
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return icecat, bigbasket, instacrt
}

func TestCounts(t *testing.T) {
	ice, bb, ic := sets(t)
	js, err := IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]bool{}
	for _, j := range js {
		queries[j.Query] = true
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"icecat products", len(ice), 19406},
		{"bigbasket products (27,555 rows grouped by name and brand)", len(bb), 24616},
		{"instacart products", len(ic), 49688},
		{"icecat judgments", len(js), 3668},
		{"icecat judged queries", len(queries), 135},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	variants := 0
	for _, p := range bb {
		variants += len(p.Variants)
	}
	if variants != 27555 {
		t.Errorf("bigbasket variants: got %d, want one per row, 27555", variants)
	}
}

func TestValidateAndInvariants(t *testing.T) {
	ice, bb, ic := sets(t)
	seen := map[string]bool{}
	for _, set := range [][]*catalog.Product{ice, bb, ic} {
		for _, p := range set {
			if err := p.Validate(); err != nil {
				t.Errorf("%v", err)
				continue
			}
			if seen[p.ID] {
				t.Errorf("%s: duplicate id", p.ID)
			}
			seen[p.ID] = true
			if p.Version != 1 || !p.UpdatedAt.Equal(p.CreatedAt) || p.CreatedAt.IsZero() {
				t.Errorf("%s: version %d, created %v, updated %v", p.ID, p.Version, p.CreatedAt, p.UpdatedAt)
			}
			if p.SellerID == "" || p.SellerQuality < 0.6 || p.SellerQuality > 1 {
				t.Errorf("%s: seller %q quality %g", p.ID, p.SellerID, p.SellerQuality)
			}
			if len(p.Category) < 2 {
				t.Errorf("%s: category %q has fewer than 2 levels", p.ID, p.Category)
			}
			for _, v := range p.Variants {
				if v.Price.Currency != Currency || v.Price.Amount <= 0 {
					t.Errorf("%s: variant %s price %+v", p.ID, v.ID, v.Price)
				}
				if !strings.HasPrefix(v.ID, p.ID+"-v") {
					t.Errorf("%s: variant id %q", p.ID, v.ID)
				}
				if len(v.Stock) < 1 || len(v.Stock) > 4 {
					t.Errorf("%s: stock %v", p.ID, v.Stock)
				}
			}
			for _, g := range []string{genStock, genSeller} {
				if !p.IsGenerated(g) {
					t.Errorf("%s: %q not marked generated", p.ID, g)
				}
			}
			if p.Sponsored > 0 != p.IsGenerated(genSponsored) {
				t.Errorf("%s: sponsored %d, generated %v", p.ID, p.Sponsored, p.Generated)
			}
		}
	}
}

// TestShares checks the generated shares stay near their documented values.
func TestShares(t *testing.T) {
	ice, bb, ic := sets(t)
	all := slices.Concat(ice, bb, ic)
	var out, low, sponsored, sale, best int
	for _, p := range all {
		switch n := p.TotalStock(); {
		case n == 0:
			out++
		case n < 5:
			low++
		}
		if p.Sponsored > 0 {
			sponsored++
		}
		if slices.Contains(p.Badges, "sale") {
			sale++
		}
		if slices.Contains(p.Badges, "bestseller") {
			best++
		}
	}
	n := float64(len(all))
	for _, tc := range []struct {
		name     string
		got      int
		min, max float64
	}{
		{"out of stock", out, 0.06, 0.10},
		{"low stock", low, 0.04, 0.10},
		{"sponsored", sponsored, 0.01, 0.03},
		{"sale", sale, 0.05, 0.30},
		{"bestseller", best, 0.03, 0.07},
	} {
		if s := float64(tc.got) / n; s < tc.min || s > tc.max {
			t.Errorf("%s: %d of %d products (%.3f), want a share in [%g, %g]", tc.name, tc.got, len(all), s, tc.min, tc.max)
		}
	}
}

func TestJudgmentsResolve(t *testing.T) {
	ice, _, _ := sets(t)
	ids := make(map[string]bool, len(ice))
	for _, p := range ice {
		ids[p.ID] = true
	}
	js, err := IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	ratings := [4]int{}
	for _, j := range js {
		if !ids[j.ProductID] {
			t.Errorf("judgment %q -> %s: no such product", j.Query, j.ProductID)
		}
		ratings[j.Rating]++
	}
	if want := [4]int{1853, 238, 105, 1472}; ratings != want {
		t.Errorf("ratings 0..3: got %v, want %v", ratings, want)
	}
}

func TestDeterministic(t *testing.T) {
	ice, bb, ic := sets(t)
	ice2, err := Icecat()
	if err != nil {
		t.Fatal(err)
	}
	bb2, err := BigBasket()
	if err != nil {
		t.Fatal(err)
	}
	ic2, err := Instacart()
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2][]*catalog.Product{{ice, ice2}, {bb, bb2}, {ic, ic2}} {
		a, b := pair[0], pair[1]
		if len(a) != len(b) {
			t.Fatalf("lengths differ: %d and %d", len(a), len(b))
		}
		for i := 0; i < len(a); i += 97 {
			ja, _ := json.Marshal(a[i])
			jb, _ := json.Marshal(b[i])
			if string(ja) != string(jb) {
				t.Errorf("product %d differs between loads:\n%s\n%s", i, ja, jb)
			}
		}
	}
}

// TestIcecatCategoryCoverage bounds the share of Icecat products the rule
// table leaves in "Other" (1,127 of 19,406, 5.8%, when written).
func TestIcecatCategoryCoverage(t *testing.T) {
	ice, _, _ := sets(t)
	other := 0
	for _, p := range ice {
		if slices.Equal(p.Category, icecatOther) {
			other++
		}
		if p.Category[0] != icecatRoot {
			t.Errorf("%s: category %q not under %q", p.ID, p.Category, icecatRoot)
		}
	}
	t.Logf("%d of %d icecat products (%.1f%%) in Other", other, len(ice), 100*float64(other)/float64(len(ice)))
	if share := float64(other) / float64(len(ice)); share > 0.065 {
		t.Errorf("%d of %d icecat products (%.3f) in Other, want at most 0.065", other, len(ice), share)
	}
}

func TestIcecatCategoryRules(t *testing.T) {
	for _, tc := range []struct {
		productType, title string
		want               string
	}{
		{"", "Xerox 006R90321 toner cartridge Original Black 6 pc(s)", "Toner & Ink"},
		{"Notebook", "HP Pavilion dv7-1211ea Notebook Silver 4 GB DDR2-SDRAM 250 GB HDD", "Laptops"},
		{"", "HP Pavilion dv7-1211ea Notebook Silver 4 GB DDR2-SDRAM 250 GB HDD", "Laptops"},
		{"", "Targus 15.4in Notebook Case", "Bags & Cases"},
		{"", "C2G Cat5e Snagless Patch Cable Pink 5m networking cable", "Network Cables"},
		{"", "StarTech.com 6 ft DVI-I Dual Link Digital Analog Monitor Extension Cable M/F", "Audio & Video Cables"},
		{"", "Logitech Wireless Mouse M325", "Mice"},
		{"", "APC Smart-UPS RT 48V uninterruptible power supply (UPS)", "UPS"},
		{"Processor", "Intel 631 processor 3 GHz Box 2 MB L2", "Processors"},
		{"", "Philips ActionFit SHQ1000 Sports in ear headphones", "Headphones"},
		{"", "Frobnicator 3000", "Other"},
	} {
		got := icecatCategory(tc.productType, tc.title)
		if got[len(got)-1] != tc.want {
			t.Errorf("icecatCategory(%q, %q) = %q, want last level %q", tc.productType, tc.title, got, tc.want)
		}
	}
}

func TestInstacartVelocity(t *testing.T) {
	_, _, ic := sets(t)
	counts, err := InstacartOrderCounts()
	if err != nil {
		t.Fatal(err)
	}
	ordered, lines := 0, 0
	for _, p := range ic {
		id, err := strconv.Atoi(strings.TrimPrefix(p.ID, "instacart-"))
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		n := int(counts[id])
		lines += n
		if n > 0 {
			ordered++
			if p.SalesVelocity <= 0 {
				t.Errorf("%s: in %d orders but sales velocity %g", p.ID, n, p.SalesVelocity)
			}
		}
		if got := p.SalesVelocity * instacartOrderDays; n != int(got+0.5) {
			t.Errorf("%s: velocity %g, want %d/%d", p.ID, p.SalesVelocity, n, instacartOrderDays)
		}
		if p.IsGenerated(genSalesVelocity) || !p.IsGenerated(genPrice) {
			t.Errorf("%s: generated %v, want price generated and sales velocity real", p.ID, p.Generated)
		}
	}
	if lines < 1_100_000 || ordered < 30_000 {
		t.Errorf("%d order lines over %d ordered products: fewer than expected", lines, ordered)
	}
}

func TestInstacartOrders(t *testing.T) {
	orders, err := InstacartOrders()
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	seen := make(map[int32]bool, len(orders))
	for _, o := range orders {
		if seen[o.ID] {
			t.Fatalf("order %d appears in two runs of lines", o.ID)
		}
		seen[o.ID] = true
		if len(o.Products) == 0 {
			t.Errorf("order %d is empty", o.ID)
		}
		lines += len(o.Products)
	}
	if len(orders) != 105128 || lines != 1109815 {
		t.Errorf("got %d orders with %d lines, want 105128 with 1109815", len(orders), lines)
	}
}

func TestRetailBaskets(t *testing.T) {
	bs, err := RetailBaskets()
	if err != nil {
		t.Fatal(err)
	}
	items, n := map[int32]bool{}, 0
	for _, b := range bs {
		n += len(b)
		for _, x := range b {
			items[x] = true
		}
	}
	// The data set's published shape: 88,162 baskets, 16,470 items, 10.3
	// items a basket (the file has no newline after its last line).
	if len(bs) != 88162 || len(items) != 16470 || n/len(bs) != 10 {
		t.Errorf("%d baskets, %d items, %.1f a basket; want 88162, 16470, 10.3", len(bs), len(items), float64(n)/float64(len(bs)))
	}
}
