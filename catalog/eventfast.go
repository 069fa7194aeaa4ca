package catalog

import (
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// A reader of catalog.products events without reflection, for the
// indexer, where decoding the event JSON was the largest cost of applying
// one (about 9 µs of the 42 µs of CPU an event took, doc/ingest.md).
//
// It reads the common shape of an event (the members of ProductEvent,
// Product, Variant, Money and Rating, strings with any escapes, integers,
// numbers, booleans) and gives up on anything else: an unknown member, a
// null, a duplicate name or map key, a number of another form, a time
// that is not UTC, malformed or trailing text. DecodeProductEvent then
// decodes the same bytes with the general decoder, which decides what an
// unusual event means or why it is refused. So the fast reader never
// refuses an event and never gives a result the general decoder would
// not: FuzzProductEventFast holds it to that, and TestProductEventFast
// checks that the events Aisle's writers produce take the fast path.
//
// Each string of an event is its own allocation, as with the general
// decoder: an event's product lives on in the ingest state and the index,
// and its strings in longer-lived places still (the key of the product's
// ingest record, the index's brand and attribute dictionaries), where
// one string sharing an allocation with the whole product would keep
// every older version's text alive.

// decodeProductEventFast reads b into e; ok is false when it gave up.
func decodeProductEventFast(b []byte) (e ProductEvent, ok bool) {
	d := fastDec{b: b, own: true, arena: make([]byte, 0, 256)}
	d.event(&e)
	if d.fail {
		return ProductEvent{}, false
	}
	return e, true
}

// plainASCII marks the bytes a string holds as they are: ASCII, neither a
// control character, a quote nor a backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns the index of the first byte at or after j that is not
// plainASCII, or len(b), eight bytes at a time.
func plainRun(b []byte, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		// A high bit set in special marks a byte below 0x20, a quote, a
		// backslash or a byte at or above 0x80 (the zero-byte test of
		// Hacker's Delight, applied to w and to w with those bytes zeroed).
		q, bs := w^('"'*ones), w^('\\'*ones)
		special := (((w - 0x20*ones) &^ w) | ((q - ones) &^ q) | ((bs - ones) &^ bs) | w) & highs
		if special != 0 {
			break
		}
	}
	for j < len(b) && plainASCII[b[j]] {
		j++
	}
	return j
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

type fastDec struct {
	b    []byte
	i    int
	fail bool
	// arena holds the strings handed out: it is allocated once with room
	// for all of them and only appended to, so a string made of its bytes
	// is never changed afterwards. With own, it is only where a string is
	// unescaped, and each string is copied out of it.
	arena []byte
	own   bool
}

func (d *fastDec) ws() {
	for d.i < len(d.b) && isSpace(d.b[d.i]) {
		d.i++
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (d *fastDec) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *fastDec) expect(c byte) bool {
	if d.fail || d.peek() != c {
		d.fail = true
		return false
	}
	d.i++
	return true
}

// object reads a struct's members, calling member with each name (the
// bytes of the input; the value follows); it gives up on a name with an
// escape or outside ASCII, which no member has.
func (d *fastDec) object(member func(name []byte)) {
	if !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.fail {
		name := d.name()
		if !d.expect(':') {
			return
		}
		member(name)
		if d.fail {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.fail = true
		}
	}
}

// array reads an array, calling elem for each element.
func (d *fastDec) array(elem func()) {
	if !d.expect('[') {
		return
	}
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.fail {
		elem()
		if d.fail {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.fail = true
		}
	}
}

func (d *fastDec) name() []byte {
	if d.peek() != '"' {
		d.fail = true
		return nil
	}
	start := d.i + 1
	j := start
	for j < len(d.b) && plainASCII[d.b[j]] {
		j++
	}
	if j >= len(d.b) || d.b[j] != '"' {
		d.fail = true // rare: the general decoder handles it
		return nil
	}
	d.i = j + 1
	return d.b[start:j]
}

// once reports whether bit is not yet in *seen and adds it: a member
// named twice gives up.
func (d *fastDec) once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		d.fail = true
		return false
	}
	*seen |= bit
	return true
}

// member is once for a member of a struct, and then consumes a null
// value: a struct read here starts zero, and null leaves a member zero.
// It reports whether a value other than null follows.
func (d *fastDec) member(seen *uint32, bit uint32) bool {
	if !d.once(seen, bit) {
		return false
	}
	if d.peek() == 'n' && len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return false
	}
	return true
}

// str reads a string value into the arena.
func (d *fastDec) str() string {
	if d.fail || d.peek() != '"' {
		d.fail = true
		return ""
	}
	return d.strAt()
}

// strAt reads the string at d.i, a quote, into the arena.
func (d *fastDec) strAt() string {
	start := len(d.arena)
	j := d.i + 1
	for {
		k := plainRun(d.b, j)
		d.room(&start, k-j)
		d.arena = append(d.arena, d.b[j:k]...)
		j = k
		if j >= len(d.b) {
			d.fail = true
			return ""
		}
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			n := len(d.arena) - start
			if n == 0 {
				return ""
			}
			if d.own {
				str := string(d.arena[start:])
				d.arena = d.arena[:start]
				return str
			}
			return unsafe.String(&d.arena[start], n)
		case c < 0x20:
			d.fail = true
			return ""
		case c >= 0x80:
			r, size := utf8.DecodeRune(d.b[j:])
			if r == utf8.RuneError && size <= 1 {
				d.fail = true
				return ""
			}
			d.room(&start, size)
			d.arena = append(d.arena, d.b[j:j+size]...)
			j += size
		default: // a backslash
			j = d.escape(&start, j)
			if d.fail {
				return ""
			}
		}
	}
}

// room makes room for n more bytes of the string that starts at
// arena[*start]: when the arena is full, the string moves to a new one
// (the strings already handed out keep the old one, unchanged).
func (d *fastDec) room(start *int, n int) {
	if len(d.arena)+n <= cap(d.arena) {
		return
	}
	part := d.arena[*start:]
	a := make([]byte, 0, max(len(part)+n, 512))
	d.arena = append(a, part...)
	*start = 0
}

// escape appends the character of the escape at b[j] to the arena and
// returns the index after it. A lone surrogate gives up.
func (d *fastDec) escape(start *int, j int) int {
	if j+1 >= len(d.b) {
		d.fail = true
		return j
	}
	var c byte
	switch d.b[j+1] {
	case '"', '\\', '/':
		c = d.b[j+1]
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r, ok := hex4(d.b, j+2)
		j += 6
		if ok && r >= 0xd800 && r < 0xdc00 && j+1 < len(d.b) && d.b[j] == '\\' && d.b[j+1] == 'u' {
			lo, ok2 := hex4(d.b, j+2)
			if ok2 && lo >= 0xdc00 && lo < 0xe000 {
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				j += 6
			} else {
				ok = false
			}
		}
		if !ok || (r >= 0xd800 && r < 0xe000) {
			d.fail = true
			return j
		}
		d.room(start, utf8.UTFMax)
		d.arena = utf8.AppendRune(d.arena, r)
		return j
	default:
		d.fail = true
		return j
	}
	d.room(start, 1)
	d.arena = append(d.arena, c)
	return j + 2
}

func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number returns the text of a JSON number and whether it is an integer
// (no fraction, no exponent).
func (d *fastDec) number() ([]byte, bool) {
	d.ws()
	start, j := d.i, d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	if j == digits || (d.b[digits] == '0' && j-digits > 1) {
		d.fail = true
		return nil, false
	}
	integer := true
	if j < len(d.b) && d.b[j] == '.' {
		integer = false
		j++
		f := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == f {
			d.fail = true
			return nil, false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		integer = false
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		f := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == f {
			d.fail = true
			return nil, false
		}
	}
	d.i = j
	return d.b[start:j], integer
}

// int reads an integer; a fraction, an exponent or an overflow gives up.
func (d *fastDec) int() int64 {
	t, integer := d.number()
	if d.fail || !integer {
		d.fail = true
		return 0
	}
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		d.fail = true
	}
	return n
}

func (d *fastDec) uint() uint64 {
	t, integer := d.number()
	if d.fail || !integer || t[0] == '-' {
		d.fail = true
		return 0
	}
	n, err := strconv.ParseUint(string(t), 10, 64)
	if err != nil {
		d.fail = true
	}
	return n
}

func (d *fastDec) float() float64 {
	t, _ := d.number()
	if d.fail {
		return 0
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		d.fail = true
	}
	return f
}

func (d *fastDec) bool() bool {
	d.ws()
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return false
	}
	d.fail = true
	return false
}

// time reads an RFC 3339 time in UTC ("...Z"); others give up.
func (d *fastDec) time() time.Time {
	if d.peek() != '"' {
		d.fail = true
		return time.Time{}
	}
	start := d.i + 1
	j := start
	for j < len(d.b) && d.b[j] != '"' && d.b[j] != '\\' {
		j++
	}
	if j >= len(d.b) || d.b[j] != '"' || j == start || d.b[j-1] != 'Z' {
		d.fail = true
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, string(d.b[start:j]))
	if err != nil {
		d.fail = true
	}
	d.i = j + 1
	return t
}

func (d *fastDec) strings() []string {
	out := []string{}
	d.array(func() { out = append(out, d.str()) })
	return out
}

// mapObject reads an object whose member names are map keys, read as
// strings (escapes and all), calling member with each.
func (d *fastDec) mapObject(member func(key string)) {
	if !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.fail {
		key := d.str()
		if !d.expect(':') {
			return
		}
		member(key)
		if d.fail {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.fail = true
		}
	}
}

func (d *fastDec) stringMap() map[string]string {
	m := map[string]string{}
	d.mapObject(func(k string) {
		if _, dup := m[k]; dup {
			d.fail = true
			return
		}
		m[k] = d.str()
	})
	return m
}

func (d *fastDec) intMap() map[string]int {
	m := map[string]int{}
	d.mapObject(func(k string) {
		if _, dup := m[k]; dup {
			d.fail = true
			return
		}
		m[k] = int(d.int())
	})
	return m
}

func (d *fastDec) event(e *ProductEvent) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "schema":
			if d.member(&seen, 1) {
				e.Schema = int(d.int())
			}
		case "id":
			if d.member(&seen, 2) {
				e.ID = d.str()
			}
		case "version":
			if d.member(&seen, 4) {
				e.Version = d.uint()
			}
		case "deleted":
			if d.member(&seen, 8) {
				e.Deleted = d.bool()
			}
		case "product":
			if d.member(&seen, 16) {
				e.Product = new(Product)
				d.product(e.Product)
			}
		default:
			d.fail = true
		}
	})
	if d.ws(); d.i != len(d.b) {
		d.fail = true // trailing text
	}
}

func (d *fastDec) product(p *Product) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "id":
			if d.member(&seen, 1<<0) {
				p.ID = d.str()
			}
		case "title":
			if d.member(&seen, 1<<1) {
				p.Title = d.str()
			}
		case "description":
			if d.member(&seen, 1<<2) {
				p.Description = d.str()
			}
		case "brand":
			if d.member(&seen, 1<<3) {
				p.Brand = d.str()
			}
		case "category":
			if d.member(&seen, 1<<4) {
				p.Category = d.strings()
			}
		case "attributes":
			if d.member(&seen, 1<<5) {
				p.Attributes = d.stringMap()
			}
		case "variants":
			if d.member(&seen, 1<<6) {
				p.Variants = []Variant{}
				d.array(func() {
					p.Variants = append(p.Variants, Variant{})
					d.variant(&p.Variants[len(p.Variants)-1])
				})
			}
		case "seller_id":
			if d.member(&seen, 1<<7) {
				p.SellerID = d.str()
			}
		case "images":
			if d.member(&seen, 1<<8) {
				p.Images = d.strings()
			}
		case "thumbnail_url":
			if d.member(&seen, 1<<9) {
				p.Thumbnail = d.str()
			}
		case "rating":
			if d.member(&seen, 1<<10) {
				d.rating(&p.Rating)
			}
		case "sales_velocity":
			if d.member(&seen, 1<<11) {
				p.SalesVelocity = d.float()
			}
		case "seller_quality":
			if d.member(&seen, 1<<12) {
				p.SellerQuality = d.float()
			}
		case "sponsored_bid":
			if d.member(&seen, 1<<13) {
				p.Sponsored = d.int()
			}
		case "badges":
			if d.member(&seen, 1<<14) {
				p.Badges = d.strings()
			}
		case "created_at":
			if d.member(&seen, 1<<15) {
				p.CreatedAt = d.time()
			}
		case "updated_at":
			if d.member(&seen, 1<<16) {
				p.UpdatedAt = d.time()
			}
		case "version":
			if d.member(&seen, 1<<17) {
				p.Version = d.uint()
			}
		case "generated":
			if d.member(&seen, 1<<18) {
				p.Generated = d.strings()
			}
		default:
			d.fail = true
		}
	})
}

func (d *fastDec) rating(r *Rating) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "avg":
			if d.member(&seen, 1) {
				r.Avg = d.float()
			}
		case "count":
			if d.member(&seen, 2) {
				r.Count = int(d.int())
			}
		default:
			d.fail = true
		}
	})
}

func (d *fastDec) variant(v *Variant) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "variant_id":
			if d.member(&seen, 1) {
				v.ID = d.str()
			}
		case "sku":
			if d.member(&seen, 2) {
				v.SKU = d.str()
			}
		case "attributes":
			if d.member(&seen, 4) {
				v.Attributes = d.stringMap()
			}
		case "price":
			if d.member(&seen, 8) {
				d.money(&v.Price)
			}
		case "compare_at":
			if d.member(&seen, 16) {
				d.money(&v.CompareAt)
			}
		case "stock":
			if d.member(&seen, 32) {
				v.Stock = d.intMap()
			}
		default:
			d.fail = true
		}
	})
}

func (d *fastDec) money(m *Money) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "amount":
			if d.member(&seen, 1) {
				m.Amount = d.int()
			}
		case "currency":
			if d.member(&seen, 2) {
				m.Currency = d.str()
			}
		default:
			d.fail = true
		}
	})
}
