package certificate

import (
	"context"
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
	_, done, _ := q.Request("a", "a", in("a"))
	require.False(t, done)
	require.Eventually(t, func() bool { return fake.sentCount() == 1 }, time.Second, time.Millisecond, "a is in flight")
	_, done, _ = q.Request("b", "b", in("b"))
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
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, 1, fake.sentCount(), "b was never sent")
	arn, _ = q.Cancel("a")
	assert.Empty(t, arn, "the result is handed over once")
}
