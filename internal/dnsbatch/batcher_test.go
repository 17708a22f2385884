package dnsbatch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowRoute53 answers every change batch after a delay, remembering when each came and how many
// changes it carried.
type slowRoute53 struct {
	delay time.Duration
	mu    sync.Mutex
	calls []call
}

type call struct {
	at      time.Time
	changes int
}

func (f *slowRoute53) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{at: time.Now(), changes: len(in.ChangeBatch.Changes)})
	f.mu.Unlock()
	time.Sleep(f.delay)
	return &route53.ChangeResourceRecordSetsOutput{}, nil
}

func (f *slowRoute53) ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return &route53.ListResourceRecordSetsOutput{}, nil
}

func (f *slowRoute53) seen() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func TestBatcherSendsAtOnceWhenIdleAndGathersWhileBusy(t *testing.T) {
	const window = 400 * time.Millisecond
	api := &slowRoute53{delay: 100 * time.Millisecond}
	b := &Batcher{API: api, Cluster: "test", Window: window}
	want := func(i int) Want {
		return Want{Zone: "Z1", Record: cname(fmt.Sprintf("_v%d.example.com.", i), "x.acm-validations.aws."), Kind: Shared}
	}
	ctx := context.Background()
	start := time.Now()
	_, err := b.Ensure(ctx, "claim-0", want(0))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(api.seen()) == 1 }, time.Second, 5*time.Millisecond)
	assert.Less(t, api.seen()[0].at.Sub(start), window/2, "a change for an idle zone goes out at once, not after the window")

	// Three changes arrive while the first batch is in flight: they go together, one window later.
	for i := 1; i <= 3; i++ {
		_, err := b.Ensure(ctx, fmt.Sprintf("claim-%d", i), want(i))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return len(api.seen()) == 2 }, 3*window, 5*time.Millisecond)
	calls := api.seen()
	assert.Equal(t, 2*3, calls[1].changes, "the gathered changes (record and marker each) are one batch")
	assert.GreaterOrEqual(t, calls[1].at.Sub(calls[0].at), window, "batches of one zone are at least a window apart")

	// Consistently one more batch window: nothing else goes out.
	time.Sleep(window + 100*time.Millisecond)
	assert.Len(t, api.seen(), 2)
}

// refusingRoute53 refuses every change batch with err.
type refusingRoute53 struct {
	slowRoute53
	err error
}

func (f *refusingRoute53) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	_, _ = f.slowRoute53.ChangeResourceRecordSets(ctx, in, opts...)
	return nil, f.err
}

func TestARefusedChangeIsReportedOnceWithItsErrorThenTriedAgain(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	api := &refusingRoute53{err: denied}
	woken := make(chan string, 10)
	b := &Batcher{API: api, Cluster: "test", Window: 10 * time.Millisecond, Notify: func(o string) { woken <- o }}
	w := Want{Zone: "Z1", Record: cname("_v.example.com.", "x.acm-validations.aws."), Kind: Shared}
	ctx := context.Background()

	res, err := b.Ensure(ctx, "claim", w)
	require.NoError(t, err)
	assert.Equal(t, Pending, res.State)
	assert.Equal(t, "claim", <-woken, "the owner is woken when its batch failed")

	res, err = b.Ensure(ctx, "claim", w)
	assert.Equal(t, Failed, res.State, "the owner learns of the failure (to back off), not a silent new attempt")
	require.ErrorIs(t, err, denied)
	require.ErrorIs(t, res.Err, denied)
	assert.Contains(t, res.Message, "missing AWS permission for route53:ChangeResourceRecordSets")
	assert.Len(t, api.seen(), 1)

	res, _ = b.Ensure(ctx, "claim", w)
	assert.Equal(t, Pending, res.State, "asked again, the change is queued again")
	<-woken
	assert.Len(t, api.seen(), 2)
}
