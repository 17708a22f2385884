package backoff

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	clocktesting "k8s.io/utils/clock/testing"
)

// step is one thing that happens to a key, and what the Tracker must answer.
type step struct {
	at         time.Duration // since the start
	fail       string        // a failure with this reason; "" with ok false: only ask Wait
	ok         bool          // a success
	generation int64
	wantWait   time.Duration // Wait's answer after the step
	wantChange bool          // Fail's changed
	wantEnded  bool          // Succeed's ok
}

func TestTrackerStateMachine(t *testing.T) {
	p := Policy{Base: 10 * time.Second, Max: 10 * time.Minute}
	for _, tc := range []struct {
		name  string
		steps []step
	}{{
		name: "a key that never failed goes ahead",
		steps: []step{
			{at: 0, wantWait: 0},
		},
	}, {
		name: "failures double the wait up to the maximum, and only the first is announced",
		steps: []step{
			{at: 0, fail: "AccessDenied", wantWait: 10 * time.Second, wantChange: true},
			{at: 10 * time.Second, fail: "AccessDenied", wantWait: 20 * time.Second},
			{at: 30 * time.Second, fail: "AccessDenied", wantWait: 40 * time.Second},
			{at: 70 * time.Second, fail: "AccessDenied", wantWait: 80 * time.Second},
			{at: 150 * time.Second, fail: "AccessDenied", wantWait: 160 * time.Second},
			{at: 310 * time.Second, fail: "AccessDenied", wantWait: 320 * time.Second},
			{at: 630 * time.Second, fail: "AccessDenied", wantWait: 10 * time.Minute},
			{at: 1230 * time.Second, fail: "AccessDenied", wantWait: 10 * time.Minute},
		},
	}, {
		name: "the wait runs down with the clock",
		steps: []step{
			{at: 0, fail: "QuotaExceeded", wantWait: 10 * time.Second, wantChange: true},
			{at: 4 * time.Second, wantWait: 6 * time.Second},
			{at: 12 * time.Second, wantWait: 0},
		},
	}, {
		name: "a failure while the wait runs (calls in flight together) does not lengthen it",
		steps: []step{
			{at: 0, fail: "QuotaExceeded", wantWait: 10 * time.Second, wantChange: true},
			{at: time.Second, fail: "QuotaExceeded", wantWait: 9 * time.Second},
			{at: 10 * time.Second, fail: "QuotaExceeded", wantWait: 20 * time.Second},
		},
	}, {
		name: "a new reason is a state change, announced again, and the run goes on",
		steps: []step{
			{at: 0, fail: "Throttled", wantWait: 10 * time.Second, wantChange: true},
			{at: 10 * time.Second, fail: "AccessDenied", wantWait: 20 * time.Second, wantChange: true},
			{at: 30 * time.Second, fail: "AccessDenied", wantWait: 40 * time.Second},
		},
	}, {
		name: "a success ends the run; the next failure starts over and is announced",
		steps: []step{
			{at: 0, fail: "AccessDenied", wantWait: 10 * time.Second, wantChange: true},
			{at: 10 * time.Second, fail: "AccessDenied", wantWait: 20 * time.Second},
			{at: 30 * time.Second, ok: true, wantEnded: true, wantWait: 0},
			{at: 31 * time.Second, ok: true, wantEnded: false, wantWait: 0},
			{at: 40 * time.Second, fail: "AccessDenied", wantWait: 10 * time.Second, wantChange: true},
		},
	}, {
		name: "a spec change (new generation) ends the run at once",
		steps: []step{
			{at: 0, fail: "RequestRejected", generation: 1, wantWait: 10 * time.Second, wantChange: true},
			{at: 10 * time.Second, fail: "RequestRejected", generation: 1, wantWait: 20 * time.Second},
			{at: 11 * time.Second, generation: 2, wantWait: 0},
			{at: 11 * time.Second, fail: "RequestRejected", generation: 2, wantWait: 10 * time.Second, wantChange: true},
		},
	}, {
		name: "a failure of a new generation starts over even without a Wait first",
		steps: []step{
			{at: 0, fail: "AccessDenied", generation: 1, wantWait: 10 * time.Second, wantChange: true},
			{at: 10 * time.Second, fail: "AccessDenied", generation: 1, wantWait: 20 * time.Second},
			{at: 12 * time.Second, fail: "AccessDenied", generation: 2, wantWait: 10 * time.Second, wantChange: true},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			clk := clocktesting.NewFakePassiveClock(start)
			tr := &Tracker{Policy: p}
			for i, s := range tc.steps {
				clk.SetTime(start.Add(s.at))
				switch {
				case s.fail != "":
					st, changed := tr.Fail("claim", s.generation, s.fail, "it failed", clk.Now())
					assert.Equal(t, s.wantChange, changed, "step %d: announced", i)
					assert.Equal(t, s.fail, st.Reason, "step %d", i)
					assert.Equal(t, st.Until, clk.Now().Add(s.wantWait), "step %d: until", i)
				case s.ok:
					_, ended := tr.Succeed("claim")
					assert.Equal(t, s.wantEnded, ended, "step %d: a run ended", i)
				}
				wait, _ := tr.Wait("claim", s.generation, clk.Now())
				assert.Equal(t, s.wantWait, wait, "step %d: wait", i)
			}
		})
	}
}

func TestOtherKeysAreNotHeldBack(t *testing.T) {
	var tr Tracker
	now := time.Now()
	tr.Fail("a", 1, "AccessDenied", "denied", now)
	wait, st := tr.Wait("b", 1, now)
	assert.Zero(t, wait)
	assert.Zero(t, st.Failures)
	wait, st = tr.Wait("a", 1, now)
	assert.Equal(t, Default.Base, wait, "the zero Tracker uses the default policy")
	assert.Equal(t, 1, st.Failures)
}

// A claim that keeps failing makes five calls in its first five minutes with the default
// policy, and at most 10 with any policy of the same shape scaled down (the integration test
// runs one scaled 1:100).
func TestCallsInFiveMinutes(t *testing.T) {
	for _, scale := range []time.Duration{1, 100} {
		var tr Tracker
		tr.Policy = Policy{Base: Default.Base / scale, Max: Default.Max / scale}
		start := time.Unix(0, 0)
		now, calls := start, 0
		for now.Sub(start) < 5*time.Minute/scale {
			calls++
			tr.Fail("a", 1, "AccessDenied", "denied", now)
			wait, _ := tr.Wait("a", 1, now)
			now = now.Add(wait)
		}
		assert.Equal(t, 5, calls, "scale 1:%d", scale)
	}
}

func TestDescribeSaysUntilWhen(t *testing.T) {
	s := State{Message: "missing AWS permission for acm:RequestCertificate", Failures: 3, Until: time.Date(2026, 11, 27, 8, 1, 0, 0, time.UTC)}
	assert.Equal(t, "missing AWS permission for acm:RequestCertificate; backing off: next attempt at 2026-11-27T08:01:00Z (failure 3 in a row)", s.Describe())
}

func TestPolicyDefaultsAndCap(t *testing.T) {
	assert.Equal(t, Default, Policy{}.Or())
	p := Policy{Base: time.Second, Max: 5 * time.Second}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second},
		[]time.Duration{p.After(1), p.After(2), p.After(3), p.After(4), p.After(100)})
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Kind
	}{
		{nil, Transient},
		{fmt.Errorf("dial tcp: connection refused"), Transient},
		{&smithy.GenericAPIError{Code: "InternalFailure"}, Transient},
		{fmt.Errorf("wrapped: %w", &acmtypes.AccessDeniedException{Message: new(string)}), Denied},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, Denied},
		{&acmtypes.LimitExceededException{}, Quota},
		{&acmtypes.ValidationException{}, Invalid},
		{&acmtypes.InvalidParameterException{}, Invalid},
		{&acmtypes.InvalidDomainValidationOptionsException{}, Invalid},
		{&acmtypes.TooManyTagsException{}, Invalid},
		{&r53types.InvalidChangeBatch{}, Invalid},
		{&r53types.NoSuchHostedZone{}, Invalid},
		{&acmtypes.ThrottlingException{}, Throttled},
		{&smithy.GenericAPIError{Code: "Throttling"}, Throttled},
		{&retry.MaxAttemptsError{Attempt: 3, Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, Throttled},
	} {
		assert.Equal(t, tc.want, Classify(tc.err), "%v", tc.err)
	}
}
