package catalog

import (
	stdjson "encoding/json"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// v1Compat turns the documented differences of decode back into
// encoding/json's behaviour: case-insensitive names, duplicate names (last
// wins, merging as v1 did) and invalid UTF-8 (replaced by U+FFFD). An input
// where decode differs from encoding/json but decode with v1Compat does
// not differs only in a documented way.
var v1Compat = json.JoinOptions(eventJSON,
	json.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true),
	jsontext.AllowDuplicateNames(true), jsonv1.MergeWithLegacySemantics(true),
	jsontext.AllowInvalidUTF8(true))

// eventTypes returns a fresh pointer to each event type decode serves.
func eventTypes() []any {
	return []any{new(ProductEvent), new(PriceEvent), new(InventoryEvent), new(OrderEvent), new(RatingEvent)}
}

// parity decodes b into a fresh value of ptr's type with encoding/json and
// with decode. It reports "" when both fail or both give equal values,
// "documented" when they differ only as doc/ingest.md says, and the
// difference otherwise.
func parity(b []byte, ptr any) string {
	typ := reflect.TypeOf(ptr).Elem()
	v1, v2 := reflect.New(typ), reflect.New(typ)
	err1 := stdjson.Unmarshal(b, v1.Interface())
	err2 := decode(b, v2.Interface())
	switch {
	case err1 != nil && err2 != nil:
		return ""
	case err1 == nil && err2 == nil && reflect.DeepEqual(v1.Interface(), v2.Interface()):
		return ""
	}
	v3 := reflect.New(typ)
	err3 := json.Unmarshal(b, v3.Interface(), v1Compat)
	if (err1 != nil && err3 != nil) || (err1 == nil && err3 == nil && reflect.DeepEqual(v1.Interface(), v3.Interface())) {
		return "documented"
	}
	switch {
	case err1 != nil:
		return "encoding/json rejects (" + err1.Error() + ") what decode accepts"
	case err2 != nil:
		return "decode rejects (" + err2.Error() + ") what encoding/json accepts"
	}
	return "decoded values differ"
}

// parityCases are event texts for TestDecodeParity and seeds of
// FuzzDecodeParity; diff marks the documented differences.
var parityCases = []struct {
	name, value string
	diff        bool
}{
	{"product", `{"schema":1,"id":"p-1","version":3,"product":{"id":"p-1","title":"Kettle","variants":[{"variant_id":"p-1-v","price":{"amount":1999,"currency":"USD"},"stock":{"wh-east":3}}]}}`, false},
	{"tombstone", `{"schema":1,"id":"p-1","version":4,"deleted":true}`, false},
	{"price", `{"schema":1,"product_id":"p-1","variant_id":"p-1-v","version":7,"price":{"amount":1499,"currency":"USD"},"compare_at":{"amount":1999,"currency":"USD"}}`, false},
	{"inventory", `{"schema":1,"product_id":"p-1","variant_id":"p-1-v","warehouse_id":"wh-east","version":12,"available":0}`, false},
	{"rating", `{"schema":1,"product_id":"p-1","version":5,"rating":{"avg":4.5,"count":2},"distribution":[0,0,0,1,1]}`, false},
	{"order", `{"schema":1,"order_id":"o-9","user_id":"u-demo","placed_at":"2026-11-23T20:00:00Z","lines":[{"product_id":"p-1","variant_id":"p-1-v","quantity":2,"price":{"amount":1499,"currency":"USD"}}]}`, false},
	{"times with offsets and fractions", `{"placed_at":"2026-11-23T20:00:00.123456789+05:30","product":{"created_at":"2024-05-01T00:00:00-00:00","updated_at":"2024-05-01T00:00:00.5Z"}}`, false},
	{"bad time", `{"placed_at":"2026-11-23 20:00:00"}`, false},
	{"time with a one-digit hour", `{"placed_at":"2026-11-23T1:00:00Z","product":{"updated_at":"0000-01-01T0:00:00Z"}}`, false},
	{"time hour 24", `{"placed_at":"2026-11-23T24:00:00Z"}`, false},
	{"unknown fields", `{"schema":1,"id":"p1","extra":{"a":[1,{"b":null}]},"more":"x","version":4,"deleted":true}`, false},
	{"missing fields", `{}`, false},
	{"empty product", `{"product":{}}`, false},
	{"trailing garbage", `{"schema":1,"id":"p1"} x`, false},
	{"trailing value", `{"schema":1} {}`, false},
	{"trailing space", "{\"schema\":1} \n\t", false},
	{"truncated", `{"schema":1,`, false},
	{"empty input", ``, false},
	{"top-level null", `null`, false},
	{"top-level array", `[1]`, false},
	{"wrong type string for int", `{"schema":"1"}`, false},
	{"wrong type number for string", `{"id":1}`, false},
	{"wrong type bool", `{"deleted":1}`, false},
	{"wrong type object for array", `{"lines":{}}`, false},
	{"float for int", `{"version":3.0}`, false},
	{"exponent for int", `{"version":1e3}`, false},
	{"negative uint", `{"version":-1}`, false},
	{"negative zero int", `{"available":-0}`, false},
	{"huge int", `{"available":123456789012345678901234567890}`, false},
	{"max uint64", `{"version":18446744073709551615}`, false},
	{"over uint64", `{"version":18446744073709551616}`, false},
	{"huge float", `{"rating":{"avg":1e400}}`, false},
	{"tiny float", `{"rating":{"avg":1e-400}}`, false},
	{"nulls", `{"schema":null,"id":null,"version":null,"deleted":null,"product":null}`, false},
	{"nulls inside", `{"product":{"id":null,"variants":[null,{"stock":{"w":null},"price":null}],"attributes":null,"rating":null,"created_at":null}}`, false},
	{"short distribution", `{"distribution":[1,2]}`, false},
	{"long distribution", `{"distribution":[1,2,3,4,5,6,7]}`, false},
	{"escaped unicode", `{"id":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n","product":{"title":"\u0000"}}`, false},
	{"raw unicode", `{"id":"café 😀","product":{"attributes":{"größe":"XL"}}}`, false},
	{"map key escapes", `{"product":{"variants":[{"stock":{"w\u0068":3}}]}}`, false},
	{"deep nesting in unknown", `{"x":[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]}`, false},
	// Documented differences: rejected into the DLQ or ignored.
	{"case-insensitive name", `{"Schema":1,"ID":"p1","Version":4,"Deleted":true}`, true},
	{"case-insensitive name of a wrong type", `{"SChemA":true}`, true},
	{"duplicate name", `{"schema":1,"id":"p1","id":"p2"}`, true},
	{"duplicate map key", `{"product":{"variants":[{"stock":{"w":1,"w":2}}]}}`, true},
	{"invalid UTF-8", "{\"id\":\"p\xff1\"}", true},
	{"lone surrogate", `{"id":"p\ud8001"}`, true},
}

func TestDecodeParity(t *testing.T) {
	for _, c := range parityCases {
		documented := false
		for _, ptr := range eventTypes() {
			switch got := parity([]byte(c.value), ptr); got {
			case "":
			case "documented":
				documented = true
				if !c.diff {
					t.Errorf("%s: %T: differs from encoding/json (documented kind) but not marked diff", c.name, ptr)
				}
			default:
				t.Errorf("%s: %T: %s", c.name, ptr, got)
			}
		}
		if c.diff && !documented {
			t.Errorf("%s: marked diff but decode agrees with encoding/json", c.name)
		}
	}
}

// FuzzDecodeParity holds decode to encoding/json: for any input, both fail,
// or both give equal values, or they differ only in a documented way.
func FuzzDecodeParity(f *testing.F) {
	for _, c := range parityCases {
		f.Add([]byte(c.value))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ptr := range eventTypes() {
			if got := parity(b, ptr); got != "" && got != "documented" {
				t.Fatalf("%T of %q: %s", ptr, b, got)
			}
		}
	})
}
