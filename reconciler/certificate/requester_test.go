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

// blockingACM answers RequestCertificate only when released, one ARN per domain.
type blockingACM struct {
	ACM
	release chan struct{}
	mu      sync.Mutex
	sent    []string
}

func (b *blockingACM) RequestCertificate(ctx context.Context, in *acm.RequestCertificateInput, _ ...func(*acm.Options)) (*acm.RequestCertificateOutput, error) {
	b.mu.Lock()
	b.sent = append(b.sent, aws.ToString(in.DomainName))
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &acm.RequestCertificateOutput{CertificateArn: aws.String("arn:" + aws.ToString(in.DomainName))}, nil
}

func (b *blockingACM) sentCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sent)
}

func TestRequesterCancel(t *testing.T) {
	fake := &blockingACM{release: make(chan struct{})}
	notified := make(chan string, 4)
	q := &Requester{ACM: fake, Workers: 1, Notify: func(o string) { notified <- o }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Start(ctx) }()

	in := func(d string) *acm.RequestCertificateInput {
		return &acm.RequestCertificateInput{DomainName: aws.String(d)}
	}
	_, done, _ := q.Request("a", "a", "ns", in("a"))
	require.False(t, done)
	require.Eventually(t, func() bool { return fake.sentCount() == 1 }, time.Second, time.Millisecond, "a is in flight")
	_, done, _ = q.Request("b", "b", "ns", in("b"))
	require.False(t, done, "b waits behind a")

	arn, inFlight := q.Cancel("b")
	assert.Empty(t, arn)
	assert.False(t, inFlight, "a waiting request is withdrawn")
	arn, inFlight = q.Cancel("a")
	assert.Empty(t, arn)
	assert.True(t, inFlight, "a request being sent cannot be called back")

	close(fake.release)
	assert.Equal(t, "a", <-notified, "the owner hears when it is done")
	arn, inFlight = q.Cancel(types.UID("a"))
	assert.Equal(t, "arn:a", arn, "and Cancel then names the certificate to delete")
	assert.False(t, inFlight)
	assert.Never(t, func() bool { return fake.sentCount() != 1 }, 20*time.Millisecond, time.Millisecond, "b is never sent")
	arn, _ = q.Cancel("a")
	assert.Empty(t, arn, "the result is handed over once")
}

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
	const workers = 4 // as cmd/gateway-orchestrator/app configures the Requester
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
	q := &Requester{}
	for _, r := range []struct {
		ns string
		n  int
	}{{"a", 3}, {"b", 2}, {"c", 1}} {
		for i := range r.n {
			_, _, _ = q.Request(types.UID(fmt.Sprintf("%s%d", r.ns, i)), "", r.ns, nil)
		}
	}
	_, _, _ = q.Request("c9", "", "c", nil)
	q.Cancel("c9")
	var order []string
	for j, ok := q.take(); ok; j, ok = q.take() {
		order = append(order, string(j.uid))
		if j.uid == "a0" {
			// A namespace that queues again right after its turn waits for the others' turns.
			_, _, _ = q.Request("a3", "", "a", nil)
		}
	}
	assert.Equal(t, []string{"a0", "b0", "c0", "a1", "b1", "a2", "a3"}, order, "a cancelled request is never sent")
}
