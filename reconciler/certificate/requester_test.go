package certificate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
)

// slottedACM lets one RequestCertificate through per slot the test hands out, like the
// client-side rate limiter does per tick, and records the order in which requests were sent.
type slottedACM struct {
	ACM   // every other method panics: the Requester must call only RequestCertificate
	slots chan struct{}

	mu      sync.Mutex
	waiting int
	sent    []string
}

func (f *slottedACM) RequestCertificate(ctx context.Context, in *acm.RequestCertificateInput, _ ...func(*acm.Options)) (*acm.RequestCertificateOutput, error) {
	f.mu.Lock()
	f.waiting++
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.slots:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting--
	f.sent = append(f.sent, aws.ToString(in.DomainName))
	return &acm.RequestCertificateOutput{CertificateArn: aws.String("arn:" + aws.ToString(in.DomainName))}, nil
}

func (f *slottedACM) state() (waiting int, sent []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting, slices.Clone(f.sent)
}

// release hands out one slot and waits until a request has used it.
func (f *slottedACM) release(t *testing.T) {
	t.Helper()
	_, before := f.state()
	f.slots <- struct{}{}
	require.Eventually(t, func() bool { _, s := f.state(); return len(s) == len(before)+1 }, 5*time.Second, time.Millisecond)
}

func request(q *Requester, ns string, i int) {
	h := fmt.Sprintf("h%d.%s.example.com", i, ns)
	q.Request(types.UID(h), h, ns, &acm.RequestCertificateInput{DomainName: aws.String(h)})
}

func startRequester(t *testing.T, f *slottedACM, workers int) *Requester {
	q := &Requester{ACM: f, Workers: workers, Notify: func(string) {}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return q
}

func TestAnotherNamespacesFirstRequestWaitsAtMostFiveSlotsBehindABurst(t *testing.T) {
	f := &slottedACM{slots: make(chan struct{})}
	const workers = 4 // as internal/app configures the Requester
	q := startRequester(t, f, workers)
	for i := range 1000 {
		request(q, "a", i)
	}
	for range 10 {
		f.release(t)
	}
	// Every worker now holds one of a's requests at the rate limiter.
	require.Eventually(t, func() bool { w, _ := f.state(); return w == workers }, 5*time.Second, time.Millisecond)

	request(q, "b", 0)
	_, before := f.state()
	slots := 0
	for {
		f.release(t)
		slots++
		_, sent := f.state()
		if sent[len(sent)-1] == "h0.b.example.com" {
			break
		}
		require.Less(t, slots, 1000, "b's request was never sent")
	}
	assert.LessOrEqual(t, slots, 5, "b's first request must be sent within 5 request slots of being queued")
	assert.Len(t, before, 10)
}

func TestNamespacesTakeTurns(t *testing.T) {
	var f fairQueue
	for _, r := range []struct {
		ns string
		n  int
	}{{"a", 3}, {"b", 2}, {"c", 1}} {
		for i := range r.n {
			f.push(job{uid: types.UID(fmt.Sprintf("%s%d", r.ns, i)), namespace: r.ns})
		}
	}
	var order []string
	for j, ok := f.pop(); ok; j, ok = f.pop() {
		order = append(order, string(j.uid))
		if j.uid == "a0" {
			// A namespace that queues again right after its turn waits for the others' turns.
			f.push(job{uid: "a3", namespace: "a"})
		}
	}
	assert.Equal(t, []string{"a0", "b0", "c0", "a1", "b1", "a2", "a3"}, order)
}

func TestCancelledRequestIsNeverSent(t *testing.T) {
	f := &slottedACM{slots: make(chan struct{})}
	q := startRequester(t, f, 1)
	for i := range 3 {
		request(q, "a", i)
	}
	// The one worker holds h0 at the rate limiter; h1 waits in the queue.
	require.Eventually(t, func() bool { w, _ := f.state(); return w == 1 }, 5*time.Second, time.Millisecond)
	arn, inFlight := q.Cancel("h1.a.example.com")
	assert.Empty(t, arn)
	assert.False(t, inFlight)
	_, inFlight = q.Cancel("h0.a.example.com")
	assert.True(t, inFlight, "a request at the rate limiter cannot be called back")

	f.release(t)
	f.release(t)
	_, sent := f.state()
	assert.Equal(t, []string{"h0.a.example.com", "h2.a.example.com"}, sent)
	arn, inFlight = q.Cancel("h0.a.example.com")
	assert.Equal(t, "arn:h0.a.example.com", arn, "the certificate of a request sent before the cancel is handed back for deletion")
	assert.False(t, inFlight)
}
