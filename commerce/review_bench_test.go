package commerce

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkReviewPost posts distinct 40-word reviews, each user once;
// every post is one fsynced transaction (group=true shares them among
// the parallel posters).
func BenchmarkReviewPost(b *testing.B) {
	for _, group := range []bool{false, true} {
		b.Run(fmt.Sprintf("group=%v", group), func(b *testing.B) {
			_, r := openReviews(b, group, ReviewOptions{})
			texts := make([]string, 256)
			for i := range texts {
				texts[i] = randomText(uint64(i), 40)
			}
			var n atomic.Int64
			if group {
				b.SetParallelism(16) // 32 posters on 2 cores share commits
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					in := NewReview{UserID: fmt.Sprintf("u%d", i), ProductID: fmt.Sprintf("p%d", i%100), Rating: 2 + int(i%3),
						Body: fmt.Sprintf("%s %d", texts[i%256], i)}
					if _, err := r.Post(in, t0.Add(time.Duration(i)*time.Second)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReviewList lists the first page of the most helpful reviews
// of a product with n published reviews.
func BenchmarkReviewList(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("reviews=%d", n), func(b *testing.B) {
			st, r := openReviews(b, false, ReviewOptions{})
			err := st.db.update(func(tx kvTx) error {
				bk := tx.Bucket(bucketReviews)
				for i := range n {
					rv := Review{ID: fmt.Sprintf("rv-%06d", i), ProductID: "p", UserID: fmt.Sprintf("u%d", i), Rating: 1 + i%5,
						Title: "title", Body: randomText(uint64(i), 60), CreatedAt: t0.Add(time.Duration(i) * time.Second),
						Status: StatusPublished, Helpful: i % 37}
					if err := putReview(bk, &rv); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				page, err := r.List("p", SortHelpful, 10, 0)
				if err != nil || page.Total != n || len(page.Reviews) != 10 {
					b.Fatalf("%d of %d, %v", len(page.Reviews), page.Total, err)
				}
			}
		})
	}
}

// BenchmarkNearDuplicate is the duplicate rule against a full window of
// DupRecent (2,000) signatures, none similar.
func BenchmarkNearDuplicate(b *testing.B) {
	recent := make([][]byte, 2000)
	for i := range recent {
		s, _ := signature(randomText(uint64(i+10), 40), 8)
		recent[i] = s.encode()
	}
	sig, _ := signature(randomText(1, 40), 8)
	b.ReportAllocs()
	for b.Loop() {
		if nearDuplicate(&sig, slices.Values(recent), 0.8) {
			b.Fatal("similar")
		}
	}
}
