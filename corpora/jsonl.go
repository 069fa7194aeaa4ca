package corpora

import (
	"encoding/json"
	"errors"
	"fmt"
)

// errSyntax is wrapped by every error of the flat-object scanner.
var errSyntax = errors.New("corpora: JSON syntax error")

// Value kinds reported by eachField.
const (
	kindString = 's' // raw is the unquoted, unescaped string
	kindNumber = 'n' // raw is the number literal
	kindBool   = 'b' // raw is "true" or "false"
	kindNull   = 'z'
	kindOther  = 'o' // raw is the whole array or object, as in the source
)

// eachField calls fn for every member of the JSON object in line, in source
// order. It is a small scanner for the flat objects of products.jsonl: it
// avoids the reflection and per-key allocation of encoding/json, which
// dominate the load time of the catalog. key and raw are valid only during
// the call (raw may point into line or into a scratch buffer).
func eachField(line []byte, fn func(key []byte, kind byte, raw []byte) error) error {
	var scratch []byte
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return fmt.Errorf("%w: object does not start with '{'", errSyntax)
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return nil
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return fmt.Errorf("%w: expected a key at offset %d", errSyntax, i)
		}
		key, next, err := scanString(line, i, &scratch)
		if err != nil {
			return err
		}
		// The key may live in scratch, which the value can overwrite.
		if len(scratch) > 0 {
			key = append([]byte(nil), key...)
		}
		i = skipSpace(line, next)
		if i >= len(line) || line[i] != ':' {
			return fmt.Errorf("%w: expected ':' at offset %d", errSyntax, i)
		}
		i = skipSpace(line, i+1)
		if i >= len(line) {
			return fmt.Errorf("%w: missing value at offset %d", errSyntax, i)
		}
		var kind byte
		var raw []byte
		switch c := line[i]; {
		case c == '"':
			kind = kindString
			raw, next, err = scanString(line, i, &scratch)
		case c == '-' || c >= '0' && c <= '9':
			kind = kindNumber
			next = i + 1
			for next < len(line) && isNumberByte(line[next]) {
				next++
			}
			raw = line[i:next]
		case c == 't' || c == 'f' || c == 'n':
			next = i
			for next < len(line) && line[next] >= 'a' && line[next] <= 'z' {
				next++
			}
			raw = line[i:next]
			switch string(raw) {
			case "true", "false":
				kind = kindBool
			case "null":
				kind = kindNull
			default:
				return fmt.Errorf("%w: bad literal %q at offset %d", errSyntax, raw, i)
			}
		case c == '[' || c == '{':
			kind = kindOther
			if next, err = skipComposite(line, i); err == nil {
				raw = line[i:next]
			}
		default:
			return fmt.Errorf("%w: unexpected %q at offset %d", errSyntax, c, i)
		}
		if err != nil {
			return err
		}
		if err := fn(key, kind, raw); err != nil {
			return err
		}
		i = skipSpace(line, next)
		if i >= len(line) {
			return fmt.Errorf("%w: unterminated object", errSyntax)
		}
		switch line[i] {
		case ',':
			i = skipSpace(line, i+1)
		case '}':
			return nil
		default:
			return fmt.Errorf("%w: expected ',' or '}' at offset %d", errSyntax, i)
		}
	}
}

// scanString reads the string starting at the quote line[i]. Without escapes
// it returns a sub-slice of line; otherwise it decodes into *scratch.
func scanString(line []byte, i int, scratch *[]byte) (s []byte, next int, err error) {
	*scratch = (*scratch)[:0]
	j := i + 1
	for j < len(line) {
		switch line[j] {
		case '"':
			return line[i+1 : j], j + 1, nil
		case '\\':
			end, err := skipString(line, i)
			if err != nil {
				return nil, 0, err
			}
			var v string
			if err := json.Unmarshal(line[i:end], &v); err != nil {
				return nil, 0, fmt.Errorf("%w: string at offset %d: %v", errSyntax, i, err)
			}
			*scratch = append(*scratch, v...)
			return *scratch, end, nil
		}
		j++
	}
	return nil, 0, fmt.Errorf("%w: unterminated string at offset %d", errSyntax, i)
}

// skipString returns the offset just past the string starting at line[i].
func skipString(line []byte, i int) (int, error) {
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated string at offset %d", errSyntax, i)
}

// skipComposite returns the offset just past the array or object at line[i].
func skipComposite(line []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(line); j++ {
		switch line[j] {
		case '"':
			end, err := skipString(line, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: unterminated array or object at offset %d", errSyntax, i)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// stringArray decodes a JSON array of strings such as icecat's "ean".
func stringArray(raw []byte) ([]string, error) {
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", errSyntax, err)
	}
	return out, nil
}
