package certificate

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
)

// Requester sends RequestCertificate calls from goroutines of its own. ACM allows about five a
// second per account, so a burst of new claims waits minutes for its turn; waiting in the
// controller's workers would starve every other step of every other claim (head-of-line
// blocking), so the workers hand requests over and are woken when the ARN is known. Waiting
// requests are served in turns across namespaces (package fairqueue, start-time fair queuing), so
// one namespace's burst delays another's first certificate by a few requests at most.
type Requester struct {
	ACM ACM
	// Workers is how many requests may be in flight at once (the client-side rate limiter
	// paces them).
	Workers int
	// Notify is told the owner of a request that finished.
	Notify func(owner string)

	mu       sync.Mutex
	queue    *fairqueue.Queue[*job] // by namespace
	waiting  map[types.UID]*job     // the requests in queue, for Cancel
	inFlight map[types.UID]bool
	results  map[types.UID]result
	wake     chan struct{}
}

type job struct {
	uid       types.UID
	owner     string
	namespace string
	in        *acm.RequestCertificateInput
}

type result struct {
	arn string
	err error
}

// Request returns the result of the claim's request once it is done (ok true), or queues it
// among the requests of the claim's owning namespace.
func (q *Requester) Request(uid types.UID, owner, namespace string, in *acm.RequestCertificateInput) (arn string, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.init()
	if r, done := q.results[uid]; done {
		delete(q.results, uid)
		return r.arn, true, r.err
	}
	if q.waiting[uid] == nil && !q.inFlight[uid] {
		j := &job{uid: uid, owner: owner, namespace: namespace, in: in}
		q.waiting[uid] = j
		q.queue.Push(j)
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return "", false, nil
}

// Cancel withdraws the claim's request, for a claim that is going away. A request still waiting
// is dropped and never sent. A request being sent cannot be called back: inFlight says so, and
// Notify tells the owner when it is done, so that Cancel, asked again, returns the ARN of the
// certificate it made, which the caller must delete.
func (q *Requester) Cancel(uid types.UID) (arn string, inFlight bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.init()
	if q.inFlight[uid] {
		return "", true
	}
	if r, done := q.results[uid]; done {
		delete(q.results, uid)
		return r.arn, false
	}
	if j := q.waiting[uid]; j != nil {
		delete(q.waiting, uid)
		q.queue.Remove(j)
	}
	return "", false
}

func (q *Requester) init() {
	if q.queue == nil {
		q.queue = fairqueue.NewRemovable(func(j *job) string { return j.namespace })
		q.waiting, q.inFlight, q.results, q.wake = map[types.UID]*job{}, map[types.UID]bool{}, map[types.UID]result{}, make(chan struct{}, 1)
	}
}

// Start runs the request workers until ctx ends. It implements manager.Runnable.
func (q *Requester) Start(ctx context.Context) error {
	q.mu.Lock()
	q.init()
	q.mu.Unlock()
	workers := max(1, q.Workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (q *Requester) work(ctx context.Context) {
	for {
		j, ok := q.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}

		out, err := q.ACM.RequestCertificate(ctx, j.in)
		if ctx.Err() != nil {
			return
		}
		r := result{err: err}
		if err == nil {
			r.arn = aws.ToString(out.CertificateArn)
		}
		q.mu.Lock()
		delete(q.inFlight, j.uid)
		q.results[j.uid] = r
		q.mu.Unlock()
		q.Notify(j.owner)
	}
}

// take marks the next waiting request in flight and returns it; ok is false when none waits.
func (q *Requester) take() (j *job, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue.Len() == 0 {
		return nil, false
	}
	j = q.queue.Pop()
	delete(q.waiting, j.uid)
	q.inFlight[j.uid] = true
	if q.queue.Len() > 0 {
		select { // let another worker start on the rest
		case q.wake <- struct{}{}:
		default:
		}
	}
	return j, true
}
