package fairqueue

import (
	"testing"
)

// BenchmarkBurst pushes a burst of 10,000 items of one tenant and one of another, and pops them
// all: the queue's work per item (ns/item).
func BenchmarkBurst(b *testing.B) {
	burst := append(items("a", 10000), "b.0")
	b.ReportAllocs()
	for b.Loop() {
		q := New(byPrefix)
		for _, it := range burst {
			q.Push(it)
		}
		for q.Len() > 0 {
			q.Pop()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(burst)), "ns/item")
}
