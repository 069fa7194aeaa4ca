package corpora

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// flatFields decodes line with eachField into key -> Go value, converting
// the raw bytes the way encoding/json would.
func flatFields(line []byte) (map[string]any, error) {
	out := map[string]any{}
	err := eachField(line, func(key []byte, kind byte, raw []byte) error {
		var v any
		switch kind {
		case kindString:
			v = string(raw)
		default:
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
		}
		out[string(key)] = v
		return nil
	})
	return out, err
}

func TestEachField(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]any
		wantErr bool
	}{
		{`{}`, map[string]any{}, false},
		{` { "a" : "x" , "b":1.5,"c":true,"d":null,"e":["p","q"] } `, map[string]any{
			"a": "x", "b": 1.5, "c": true, "d": nil, "e": []any{"p", "q"}}, false},
		{`{"t\"q":"a\u00e9\n\\","x":{"y":[1,{"z":"]"}]}}`, map[string]any{
			"t\"q": "aé\n\\", "x": map[string]any{"y": []any{1.0, map[string]any{"z": "]"}}}}, false},
		{`{"a":"x"`, nil, true},
		{`{"a" "x"}`, nil, true},
		{`{"a":tru}`, nil, true},
		{`["a"]`, nil, true},
		{`{"a":"x",}`, nil, true},
		{`{"a":"unterminated}`, nil, true},
	} {
		got, err := flatFields([]byte(tc.in))
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: no error, want one", tc.in)
			} else if !errors.Is(err, errSyntax) {
				t.Errorf("%s: error %v does not wrap errSyntax", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(tc.want)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, gj, wj)
		}
	}
}

// FuzzEachField checks the scanner never panics and, on every valid UTF-8
// object encoding/json accepts, agrees with it. (The scanner passes invalid
// UTF-8 through where encoding/json substitutes U+FFFD; catalog.Validate
// rejects such products.)
func FuzzEachField(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b","c":[1,2],"d":{"e":null}}`, `{"id":"1","price":4995,"attr_b_x":false}`, `{"a":"\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := flatFields(line)
		var want map[string]any
		if !utf8.Valid(line) || json.Unmarshal(line, &want) != nil || err != nil {
			return
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%q:\n got %s\nwant %s", line, gj, wj)
		}
	})
}
