package certificate

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// BenchmarkWaitingRequests queues a burst of 10,000 requests of one namespace and one of
// another, cancels every other request of the burst, and takes the rest in turn: the work the
// Requester's queue does for a burst, per request (ns/request).
func BenchmarkWaitingRequests(b *testing.B) {
	const burst = 10000
	uids := make([]types.UID, burst)
	for i := range uids {
		uids[i] = types.UID(fmt.Sprintf("a%d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		q := &Requester{}
		for _, uid := range uids {
			_, _, _ = q.Request(uid, "", "a", nil)
		}
		_, _, _ = q.Request("b0", "", "b", nil)
		for i := 0; i < burst; i += 2 {
			q.Cancel(uids[i])
		}
		for n := 0; ; n++ {
			if _, ok := q.take(); !ok {
				if n != burst/2+1 {
					b.Fatalf("took %d requests, want %d", n, burst/2+1)
				}
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(burst+1), "ns/request")
}
