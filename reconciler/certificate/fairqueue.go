package certificate

import (
	"container/heap"

	"k8s.io/apimachinery/pkg/types"
)

// fairQueue holds the waiting certificate requests and hands them out fairly across namespaces
// (start-time fair queuing): each request gets a start tag, the later of the tag being served
// and the end of its namespace's previous request (its start + 1), and the smallest tag goes
// first, ties in arrival order. A namespace's requests therefore take turns with every other
// namespace's: one namespace queuing 1,000 requests delays another's first request by at most one
// request per busy namespace, not by the 1,000. A namespace that queues again just after being
// served waits for its turn like the others (its previous end is remembered).
type fairQueue struct {
	jobs    jobHeap
	byUID   map[types.UID]*job
	end     map[string]uint64 // namespace -> end tag of its latest request
	virtual uint64            // start tag of the request served last
	seq     uint64
}

func (f *fairQueue) push(j job) {
	if f.byUID == nil {
		f.byUID, f.end = map[types.UID]*job{}, map[string]uint64{}
	}
	j.start = max(f.virtual, f.end[j.namespace])
	f.end[j.namespace] = j.start + 1
	f.seq++
	j.seq = f.seq
	p := &j
	f.byUID[j.uid] = p
	heap.Push(&f.jobs, p)
}

// pop returns the next request to send; ok is false when none waits.
func (f *fairQueue) pop() (j job, ok bool) {
	if len(f.jobs) == 0 {
		return job{}, false
	}
	p := heap.Pop(&f.jobs).(*job)
	delete(f.byUID, p.uid)
	f.virtual = p.start
	if len(f.jobs) == 0 {
		// Every remembered end is now at most virtual+1: forget them, keeping the one that
		// makes the namespace just served wait for a turn.
		f.end = map[string]uint64{p.namespace: f.end[p.namespace]}
	}
	return *p, true
}

// remove drops the waiting request of uid, if any.
func (f *fairQueue) remove(uid types.UID) {
	if p, ok := f.byUID[uid]; ok {
		heap.Remove(&f.jobs, p.index)
		delete(f.byUID, uid)
	}
}

func (f *fairQueue) len() int { return len(f.jobs) }

type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(a, b int) bool {
	if h[a].start != h[b].start {
		return h[a].start < h[b].start
	}
	return h[a].seq < h[b].seq
}
func (h jobHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].index, h[b].index = a, b
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}
