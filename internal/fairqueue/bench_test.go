package fairqueue

import (
	"testing"
)

// BenchmarkBurst pushes a burst of 10,000 items of one tenant and one of another, and pops them
// all: the queue's work per item (ns/item). With removals, the queue is a removable one, and
// every other item of the burst is removed before the rest are popped.
func BenchmarkBurst(b *testing.B) {
	burst := append(items("a", 10000), "b.0")
	for _, bc := range []struct {
		name    string
		new     func(func(string) string) *Queue[string]
		removes bool
	}{
		{name: "push-pop", new: New[string]},
		{name: "removable push-pop", new: NewRemovable[string]},
		{name: "removable push-remove-pop", new: NewRemovable[string], removes: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q := bc.new(byPrefix)
				for _, it := range burst {
					q.Push(it)
				}
				for i := 0; bc.removes && i < len(burst); i += 2 {
					q.Remove(burst[i])
				}
				for q.Len() > 0 {
					q.Pop()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(burst)), "ns/item")
		})
	}
}
