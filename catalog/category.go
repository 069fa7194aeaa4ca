package catalog

import "strings"

// CategorySlug returns the stable identifier of the category node at path,
// the lower-cased slugs of its levels joined by "/":
// ["Electronics", "Audio & Video"] -> "electronics/audio-video".
func CategorySlug(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('/')
		}
		writeSlug(&b, p)
	}
	return b.String()
}

// Slug lower-cases s and replaces every run of characters other than letters
// and digits with one "-".
func Slug(s string) string {
	var b strings.Builder
	writeSlug(&b, s)
	return b.String()
}

func writeSlug(b *strings.Builder, s string) {
	dash := false
	start := b.Len()
	for _, r := range strings.ToLower(s) {
		isWord := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != 0xFFFD
		if !isWord {
			dash = b.Len() > start
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteRune(r)
	}
}
