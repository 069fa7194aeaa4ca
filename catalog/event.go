package catalog

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// SchemaVersion is the version of the event JSON this code writes and reads.
// Version 1: the events of doc/ingest.md.
const SchemaVersion = 1

// ErrBadEvent is wrapped by every event decoding error.
var ErrBadEvent = errors.New("catalog: bad event")

// ProductEvent is a record of the compacted catalog.products topic, keyed
// by product id: the whole product at a content version, or a tombstone
// that deletes it at a version.
type ProductEvent struct {
	Schema  int      `json:"schema"`
	ID      string   `json:"id"`
	Version uint64   `json:"version"`
	Deleted bool     `json:"deleted,omitempty"`
	Product *Product `json:"product,omitempty"`
}

// PriceEvent changes one variant's price, keyed by product id (so a
// product's events share a partition) and ordered by its own price version.
type PriceEvent struct {
	Schema    int    `json:"schema"`
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Version   uint64 `json:"version"`
	Price     Money  `json:"price"`
	CompareAt Money  `json:"compare_at,omitzero"`
}

// InventoryEvent sets the units of one variant available in one
// warehouse, keyed by product id, ordered by its own stock version.
type InventoryEvent struct {
	Schema      int    `json:"schema"`
	ProductID   string `json:"product_id"`
	VariantID   string `json:"variant_id"`
	WarehouseID string `json:"warehouse_id"`
	Version     uint64 `json:"version"`
	Available   int    `json:"available"`
}

// OrderEvent is a placed order, keyed by order id.
type OrderEvent struct {
	Schema   int         `json:"schema"`
	OrderID  string      `json:"order_id"`
	UserID   string      `json:"user_id,omitempty"`
	PlacedAt time.Time   `json:"placed_at"`
	Lines    []OrderLine `json:"lines"`
}

// OrderLine is one line of an order.
type OrderLine struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Quantity  int    `json:"quantity"`
	Price     Money  `json:"price"`
}

func badEvent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadEvent, fmt.Sprintf(format, args...))
}

// eventJSON are the options of decode: the json v2 defaults (unknown
// members ignored; trailing data, duplicate names and invalid UTF-8
// rejected; names matched case-sensitively) and, as encoding/json did,
// arrays of any length (distribution) and times as time.Time.UnmarshalJSON
// reads them (RFC 3339, tolerating a one-digit hour).
var eventJSON = json.JoinOptions(
	jsonv1.UnmarshalArrayFromAnyLength(true),
	jsonv1.ParseTimeWithLooseRFC3339(true))

// decode unmarshals one JSON value with the json v2 prototype
// (github.com/go-json-experiment/json), about twice as fast as
// encoding/json. It accepts what encoding/json accepted, with the same
// result, except (see doc/ingest.md, "Event JSON"): a member name that
// matches a field only case-insensitively is an unknown member (ignored),
// and duplicate member names and invalid UTF-8 are errors, not last-wins
// and U+FFFD. TestDecodeParity and FuzzDecodeParity hold it to that.
func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v, eventJSON); err != nil {
		return badEvent("%v", err)
	}
	return nil
}

func checkSchema(s int) error {
	if s != SchemaVersion {
		return badEvent("schema is %d; this reader knows %d", s, SchemaVersion)
	}
	return nil
}

// DecodeProductEvent decodes and validates a catalog.products record. key
// is the record key, which must equal the product id. Unknown fields are
// ignored; missing required ones are an error.
func DecodeProductEvent(key, value []byte) (ProductEvent, error) {
	e, ok := decodeProductEventFast(value)
	if !ok {
		// Unusual or invalid text: the general decoder decides.
		e = ProductEvent{}
		if err := decode(value, &e); err != nil {
			return e, err
		}
	}
	if err := checkSchema(e.Schema); err != nil {
		return e, err
	}
	switch {
	case e.ID == "":
		return e, badEvent("id is missing")
	case string(key) != e.ID:
		return e, badEvent("record key %q differs from id %q", key, e.ID)
	case e.Version == 0:
		return e, badEvent("version is missing or 0")
	case e.Deleted && e.Product != nil:
		return e, badEvent("a tombstone carries a product")
	case !e.Deleted && e.Product == nil:
		return e, badEvent("product is missing")
	}
	if e.Product != nil {
		if e.Product.ID != e.ID {
			return e, badEvent("product.id %q differs from id %q", e.Product.ID, e.ID)
		}
		e.Product.Version = e.Version
		if err := e.Product.Validate(); err != nil {
			return e, fmt.Errorf("%w: %w", ErrBadEvent, err)
		}
	}
	return e, nil
}

// DecodePriceEvent decodes and validates a catalog.prices record.
func DecodePriceEvent(key, value []byte) (PriceEvent, error) {
	var e PriceEvent
	if err := decode(value, &e); err != nil {
		return e, err
	}
	if err := checkSchema(e.Schema); err != nil {
		return e, err
	}
	switch {
	case e.ProductID == "" || e.VariantID == "":
		return e, badEvent("product_id and variant_id are required")
	case string(key) != e.ProductID:
		return e, badEvent("record key %q differs from product_id %q", key, e.ProductID)
	case e.Version == 0:
		return e, badEvent("version is missing or 0")
	case e.Price.Amount < 0 || e.CompareAt.Amount < 0:
		return e, badEvent("negative price")
	case e.Price.Amount > MaxPriceCents || e.CompareAt.Amount > MaxPriceCents:
		return e, badEvent("price above the limit of %d", int64(MaxPriceCents))
	case !KnownCurrency(e.Price.Currency):
		return e, badEvent("price currency %q is not known", e.Price.Currency)
	case e.CompareAt.Amount > 0 && e.CompareAt.Currency != e.Price.Currency:
		return e, badEvent("compare_at currency %q differs from %q", e.CompareAt.Currency, e.Price.Currency)
	}
	return e, nil
}

// DecodeInventoryEvent decodes and validates a catalog.inventory record.
func DecodeInventoryEvent(key, value []byte) (InventoryEvent, error) {
	var e InventoryEvent
	if err := decode(value, &e); err != nil {
		return e, err
	}
	if err := checkSchema(e.Schema); err != nil {
		return e, err
	}
	switch {
	case e.ProductID == "" || e.VariantID == "" || e.WarehouseID == "":
		return e, badEvent("product_id, variant_id and warehouse_id are required")
	case string(key) != e.ProductID:
		return e, badEvent("record key %q differs from product_id %q", key, e.ProductID)
	case e.Version == 0:
		return e, badEvent("version is missing or 0")
	case e.Available < 0:
		return e, badEvent("available is negative (%d)", e.Available)
	case e.Available > MaxUnits:
		return e, badEvent("available is %d, above the limit of %d", e.Available, MaxUnits)
	}
	return e, nil
}

// DecodeOrderEvent decodes and validates an orders record.
func DecodeOrderEvent(key, value []byte) (OrderEvent, error) {
	var e OrderEvent
	if err := decode(value, &e); err != nil {
		return e, err
	}
	if err := checkSchema(e.Schema); err != nil {
		return e, err
	}
	if e.OrderID == "" || len(e.Lines) == 0 {
		return e, badEvent("order_id and lines are required")
	}
	for i, l := range e.Lines {
		if l.ProductID == "" || l.Quantity <= 0 {
			return e, badEvent("lines[%d]: product_id and a positive quantity are required", i)
		}
	}
	return e, nil
}

// RatingEvent is a product's review summary, published by the reviews
// service to catalog.ratings keyed by product id and ordered by its own
// version: it replaces the product's Rating wherever it is shown or ranked.
type RatingEvent struct {
	Schema       int    `json:"schema"`
	ProductID    string `json:"product_id"`
	Version      uint64 `json:"version"`
	Rating       Rating `json:"rating"`
	Distribution [5]int `json:"distribution"` // reviews with 1..5 stars
}

// DecodeRatingEvent decodes and validates a catalog.ratings record.
func DecodeRatingEvent(key, value []byte) (RatingEvent, error) {
	var e RatingEvent
	if err := decode(value, &e); err != nil {
		return e, err
	}
	if err := checkSchema(e.Schema); err != nil {
		return e, err
	}
	if e.ProductID == "" || e.Version == 0 {
		return e, badEvent("product_id and a positive version are required")
	}
	if string(key) != e.ProductID {
		return e, badEvent("key %q is not product_id %q", key, e.ProductID)
	}
	total := 0
	for i, n := range e.Distribution {
		if n < 0 {
			return e, badEvent("distribution[%d] is negative (%d)", i, n)
		}
		total += n
	}
	if e.Rating.Count != total || e.Rating.Avg < 0 || e.Rating.Avg > 5 || (total == 0) != (e.Rating.Avg == 0) {
		return e, badEvent("rating %+v does not match distribution %v", e.Rating, e.Distribution)
	}
	return e, nil
}
