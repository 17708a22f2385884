package dnsbatch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
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

// run starts b as the manager would and stops it when the test ends, checking that Start returns.
func run(t *testing.T, b *Batcher) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- b.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-stopped:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Start did not return after its context ended")
		}
	})
	return ctx
}

func want(i int) Want {
	return Want{Zone: "Z1", Record: cname(fmt.Sprintf("_v%d.example.com.", i), "x.acm-validations.aws."), Kind: Shared}
}

func TestBatcherSendsAtOnceWhenIdleAndGathersWhileBusy(t *testing.T) {
	const window = 400 * time.Millisecond
	api := &slowRoute53{delay: 100 * time.Millisecond}
	b := &Batcher{API: api, Cluster: "test", Window: window}
	ctx := run(t, b)
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

	assert.Never(t, func() bool { return len(api.seen()) != 2 }, window+100*time.Millisecond, 10*time.Millisecond,
		"for one more batch window, nothing else goes out")
}

func TestBatcherSendsWhatWasQueuedBeforeItStarted(t *testing.T) {
	api := &slowRoute53{}
	b := &Batcher{API: api, Cluster: "test", Window: time.Hour}
	res, err := b.Ensure(context.Background(), "claim-0", want(0))
	require.NoError(t, err)
	assert.Equal(t, Pending, res.State)
	assert.Never(t, func() bool { return len(api.seen()) > 0 }, 50*time.Millisecond, 5*time.Millisecond,
		"no batch goes out before the manager starts the batcher")

	run(t, b)
	require.Eventually(t, func() bool { return len(api.seen()) == 1 }, time.Second, 5*time.Millisecond)
}

func TestStopWaitsForTheBatchInFlightAndSendsNoMore(t *testing.T) {
	api := &slowRoute53{delay: 200 * time.Millisecond}
	var notified []string
	var mu sync.Mutex
	b := &Batcher{API: api, Cluster: "test", Window: 50 * time.Millisecond, Notify: func(owner string) {
		mu.Lock()
		defer mu.Unlock()
		notified = append(notified, owner)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		assert.NoError(t, b.Start(ctx))
	}()
	_, err := b.Ensure(ctx, "claim-0", want(0))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(api.seen()) == 1 }, time.Second, 5*time.Millisecond)
	_, err = b.Ensure(ctx, "claim-1", want(1)) // queued behind the batch in flight
	require.NoError(t, err)

	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after its context ended")
	}
	assert.GreaterOrEqual(t, time.Since(api.seen()[0].at), api.delay, "Start returned only after the batch in flight was answered")
	assert.Never(t, func() bool { return len(api.seen()) != 1 }, 200*time.Millisecond, 10*time.Millisecond,
		"a stopped batcher sends nothing more")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, notified, "a stopping batcher tells no reconciler, which is stopping too")
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
	ctx := run(t, b)

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

// zonelessRoute53 knows no hosted zone, as Route53 answers for a zone ID that was never right.
type zonelessRoute53 struct{ slowRoute53 }

func (f *zonelessRoute53) ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return nil, &types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: ZWRONG")}
}

func TestDeletingFromAHostedZoneThatDoesNotExistIsDoneAndWritingThereFails(t *testing.T) {
	b := &Batcher{API: &zonelessRoute53{}, Cluster: "test", Window: 10 * time.Millisecond}
	ctx := run(t, b)
	w := Want{Zone: "ZWRONG", Kind: Exclusive, Record: alias("shop.example.com.", "lb"), Absent: true}

	res, err := b.Ensure(ctx, "claim", w)
	require.NoError(t, err)
	assert.Equal(t, Done, res.State, "nothing of ours can be in a zone that does not exist (an admin corrected its ID)")

	w.Absent = false
	res, err = b.Ensure(ctx, "claim", w)
	require.Error(t, err)
	assert.Equal(t, Failed, res.State, "a record cannot be written there")
	assert.Empty(t, b.API.(*zonelessRoute53).seen(), "no change was sent")
}
