package certificate

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Back-off of a claim whose certificate request failed in a way a quick retry cannot fix (a
// missing IAM permission): the first retry after persistentBase, doubling up to persistentMax.
// Without it, every event about the claim (a status write of another reconciler, a route edit)
// would send the same failing request again.
const (
	persistentBase = 10 * time.Second
	persistentMax  = 10 * time.Minute
)

// failures remembers, per claim, how often its request failed persistently and until when the
// next attempt waits.
type failures struct {
	mu sync.Mutex
	m  map[types.UID]failure
}

type failure struct {
	n     int
	until time.Time
}

// wait is how long the claim's next attempt must still wait (zero: go ahead).
func (f *failures) wait(uid types.UID, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.m[uid].until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// fail records a persistent failure and returns the wait before the next attempt, and whether
// this is the first failure of a run (the moment to tell people).
func (f *failures) fail(uid types.UID, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[types.UID]failure{}
	}
	x := f.m[uid]
	d := persistentBase << min(x.n, 16)
	if d > persistentMax || d <= 0 {
		d = persistentMax
	}
	x.n++
	x.until = now.Add(d)
	f.m[uid] = x
	return d, x.n == 1
}

// ok forgets the claim's failures.
func (f *failures) ok(uid types.UID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, uid)
}
