package query

import (
	"strings"
	"testing"
)

// Product text of the sizes the indexer sees: a title of about 80 bytes and a
// description of about 400.
const (
	benchTitle       = "Sony WH-1000XM5 Wireless Noise Canceling Over-Ear Headphones, Black (2022)"
	benchDescription = "Industry-leading noise cancellation with two processors controlling eight " +
		"microphones. Auto NC Optimizer adjusts to your environment. Up to 30 hours of battery " +
		"life with quick charging: 3 min gives 3 hours of playback. Ultra-comfortable, lightweight " +
		"design with soft-fit leather. Crystal-clear hands-free calling with 4 beamforming mics. " +
		"Multipoint connection to two Bluetooth 5.2 devices; USB-C charging; 3.5mm cable included."
	benchUnicode = "Crème brûlée torch for men's & women's kitchens — Straße ﬁnish, 2,000 W, naïve café décor"
)

func BenchmarkAppendTerms(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"title", benchTitle},
		{"description", benchDescription},
		{"unicode", benchUnicode},
		{"size=4KiB", strings.Repeat(benchDescription+" ", 10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			b.ReportAllocs()
			var dst []string
			for b.Loop() {
				dst = AppendTerms(dst[:0], bc.text)
			}
		})
	}
}

func BenchmarkWords(b *testing.B) {
	for _, q := range []string{"wireless headphones", "sony wh-1000xm5 noise canceling headphones for men", "café crème"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Words(q)
			}
		})
	}
}

func BenchmarkStem(b *testing.B) {
	words := []string{"headphones", "batteries", "glasses", "chair", "ps4", "series"}
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range words {
			Stem(w)
		}
	}
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"wireless headphones", "Wireless Headphones", "Crème Brûlée"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Fold(s)
			}
		})
	}
}
