package catalog

import "time"

// A reader of catalog file lines (NDJSON, doc/import.md) without
// reflection, for aisle import, where decoding the line was the largest
// cost of a product. It is the event reader's (eventfast.go) for the
// members of fileProduct, fileVariant and the two forms of stock, and
// gives up on what it does not read: an unknown member, a price in major
// units ("price", "compare_at_price"), a time not of the form
// 2006-01-02T15:04:05[.999999999]Z, a stock entry that is a problem
// (empty warehouse, negative units, a repeated warehouse), and everything
// the event reader gives up on. decodeNDJSONLine then decodes the line
// with the general decoder, which reports what is wrong with it.
// FuzzFileLineFast holds the fast reader to the general decoder.
//
// The strings of one line share one allocation (as catalog's binary
// decoder's do): the importer keeps a line's product only while it
// checks and encodes it.

// decodeFileLineFast reads line into fp; ok is false when it gave up.
func decodeFileLineFast(line []byte) (fp fileProduct, ok bool) {
	d := fastDec{b: line, arena: make([]byte, 0, len(line)*5/8+16)}
	d.fileProduct(&fp)
	if d.ws(); d.i != len(d.b) {
		d.fail = true
	}
	if d.fail {
		return fileProduct{}, false
	}
	return fp, true
}

func (d *fastDec) fileProduct(p *fileProduct) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "id":
			if d.member(&seen, 1<<0) {
				p.ID = d.str()
			}
		case "external_id":
			if d.member(&seen, 1<<1) {
				p.ExternalID = d.str()
			}
		case "version":
			if d.member(&seen, 1<<2) {
				p.Version = d.uint()
			}
		case "title":
			if d.member(&seen, 1<<3) {
				p.Title = d.str()
			}
		case "description":
			if d.member(&seen, 1<<4) {
				p.Description = d.str()
			}
		case "brand":
			if d.member(&seen, 1<<5) {
				p.Brand = d.str()
			}
		case "category_path":
			if d.member(&seen, 1<<6) {
				p.CategoryPath = d.strings()
			}
		case "attributes":
			if d.member(&seen, 1<<7) {
				p.Attributes = d.stringMap()
			}
		case "images":
			if d.member(&seen, 1<<8) {
				p.Images = d.strings()
			}
		case "thumbnail_url":
			if d.member(&seen, 1<<9) {
				p.ThumbnailURL = d.str()
			}
		case "currency":
			if d.member(&seen, 1<<10) {
				p.Currency = d.str()
			}
		case "rating":
			if d.member(&seen, 1<<11) {
				p.Rating = new(Rating)
				d.rating(p.Rating)
			}
		case "created_at":
			if d.member(&seen, 1<<12) {
				p.CreatedAt = d.strictTime()
			}
		case "variants":
			if d.member(&seen, 1<<13) {
				p.Variants = []fileVariant{}
				d.array(func() {
					p.Variants = append(p.Variants, fileVariant{})
					d.fileVariant(&p.Variants[len(p.Variants)-1])
				})
			}
		default:
			d.fail = true
		}
	})
}

func (d *fastDec) fileVariant(v *fileVariant) {
	var seen uint32
	d.object(func(name []byte) {
		switch string(name) {
		case "variant_id":
			if d.member(&seen, 1) {
				v.VariantID = d.str()
			}
		case "sku":
			if d.member(&seen, 2) {
				v.SKU = d.str()
			}
		case "attributes":
			if d.member(&seen, 4) {
				v.Attributes = d.stringMap()
			}
		case "price_cents":
			if d.member(&seen, 8) {
				n := d.int()
				v.PriceCents = &n
			}
		case "compare_price_cents":
			if d.member(&seen, 16) {
				v.ComparePriceCents = d.int()
			}
		case "stock":
			if d.member(&seen, 32) {
				d.fileStock(&v.Stock)
			}
		default:
			d.fail = true
		}
	})
}

// fileStock reads either form of a variant's stock; an entry the general
// decoder would report as a problem gives up.
func (d *fastDec) fileStock(s *fileStockValue) {
	switch d.peek() {
	case '{':
		s.m = d.intMap()
		for w, q := range s.m {
			if w == "" || q < 0 {
				d.fail = true
			}
		}
	case '[':
		s.m = map[string]int{}
		d.array(func() {
			var seen uint32
			var wh string
			var n int64
			d.object(func(name []byte) {
				switch string(name) {
				case "warehouse_id":
					if d.member(&seen, 1) {
						wh = d.str()
					}
				case "available":
					if d.member(&seen, 2) {
						n = d.int()
					}
				default:
					d.fail = true
				}
			})
			if _, dup := s.m[wh]; dup || wh == "" || n < 0 {
				d.fail = true
				return
			}
			s.m[wh] = int(n)
		})
	default:
		d.fail = true
	}
}

// strictTime reads a time of the form 2006-01-02T15:04:05[.999999999]Z,
// which every RFC 3339 reader reads alike; others give up.
func (d *fastDec) strictTime() time.Time {
	if d.peek() != '"' {
		d.fail = true
		return time.Time{}
	}
	start := d.i + 1
	j := start
	for j < len(d.b) && d.b[j] != '"' {
		j++
	}
	if j >= len(d.b) || !plainUTCTime(d.b[start:j]) {
		d.fail = true
		return time.Time{}
	}
	return d.time()
}

// plainUTCTime reports whether s is 2006-01-02T15:04:05Z with an optional
// fraction of one to nine digits.
func plainUTCTime(s []byte) bool {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(shape)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := range len(shape) {
		if c := s[i]; shape[i] == 'd' && (c < '0' || c > '9') || shape[i] != 'd' && c != shape[i] {
			return false
		}
	}
	frac := s[len(shape) : len(s)-1]
	if len(frac) == 0 {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return false
	}
	for _, c := range frac[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
