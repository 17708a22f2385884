package certificate

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestRetryDelayDoublesFromAQuarterHourUpToADay(t *testing.T) {
	for name, tc := range map[string]struct {
		attempt int32
		want    time.Duration
	}{
		"the first certificate failed":        {0, 15 * time.Minute},
		"the second":                          {1, 30 * time.Minute},
		"the fifth":                           {4, 4 * time.Hour},
		"the seventh reaches the day":         {7, 24 * time.Hour},
		"later ones stay at a day":            {8, 24 * time.Hour},
		"a huge attempt number does not wrap": {1 << 30, 24 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, retryDelay(tc.attempt))
		})
	}
}

func TestPlanRetry(t *testing.T) {
	now := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	for name, tc := range map[string]struct {
		attempt int32
		at      *metav1.Time
		asked   bool
		want    retryPlan
	}{
		"a new failure waits the attempt's back-off":      {attempt: 0, want: retryPlan{At: now.Add(15 * time.Minute)}},
		"a new failure of the third attempt waits longer": {attempt: 2, want: retryPlan{At: now.Add(time.Hour)}},
		"a recorded time not reached is waited for":       {attempt: 3, at: at(time.Minute), want: retryPlan{At: now.Add(time.Minute)}},
		"a recorded time reached is due":                  {attempt: 3, at: at(0), want: retryPlan{Now: true}},
		"a recorded time passed (a restart) is due":       {attempt: 3, at: at(-time.Hour), want: retryPlan{Now: true}},
		"the owner's ask ends a back-off":                 {attempt: 5, at: at(20 * time.Hour), asked: true, want: retryPlan{Now: true}},
		"the owner's ask needs no recorded time":          {attempt: 0, asked: true, want: retryPlan{Now: true}},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, planRetry(tc.attempt, tc.at, now, tc.asked))
		})
	}
}

func TestOnlyValidationFailuresAreRetried(t *testing.T) {
	for status, want := range map[acmtypes.CertificateStatus]bool{
		acmtypes.CertificateStatusFailed:             true,
		acmtypes.CertificateStatusValidationTimedOut: true,
		acmtypes.CertificateStatusRevoked:            false,
		acmtypes.CertificateStatusExpired:            false,
		acmtypes.CertificateStatusInactive:           false,
		acmtypes.CertificateStatusIssued:             false,
		acmtypes.CertificateStatusPendingValidation:  false,
	} {
		assert.Equal(t, want, retryable(status), status)
	}
}

func TestEachAttemptHasItsOwnTokenAndTheFirstKeepsTheClaimsToken(t *testing.T) {
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{UID: "uid-1"}}
	first := IdempotencyToken(c)
	assert.Equal(t, first, attemptToken("uid-1", 0), "certificates requested before retries keep their token")
	seen := map[string]bool{first: true}
	for n := int32(1); n < 5; n++ {
		c.Status.CertificateAttempt = n
		tok := IdempotencyToken(c)
		assert.Regexp(t, `^\w{1,32}$`, tok, "ACM's token pattern")
		assert.False(t, seen[tok], "attempt %d has a token of its own", n)
		seen[tok] = true
	}
	assert.NotEqual(t, attemptToken("uid-1", 1), attemptToken("uid-2", 1), "claims do not share tokens")
}

func TestTagAttempt(t *testing.T) {
	tag := func(v string) []acmtypes.Tag {
		return []acmtypes.Tag{{Key: aws.String(v1alpha1.TagCertificateAttempt), Value: aws.String(v)}}
	}
	for name, tc := range map[string]struct {
		tags []acmtypes.Tag
		n    int32
		ok   bool
	}{
		"no tag is the first attempt": {nil, 0, true},
		"a number":                    {tag("3"), 3, true},
		"not a number":                {tag("three"), 0, false},
		"negative":                    {tag("-1"), -1, false},
	} {
		t.Run(name, func(t *testing.T) {
			n, ok := tagAttempt(tc.tags)
			assert.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.n, n)
			}
		})
	}
}

func TestFailureMessageSaysWhichAttemptWhyAndWhenNext(t *testing.T) {
	next := time.Date(2026, 11, 28, 5, 15, 0, 0, time.UTC)
	msg := failureMessage(1, acmtypes.CertificateStatusFailed, acmtypes.FailureReasonCaaError, next)
	assert.Contains(t, msg, "attempt 2 is FAILED: CAA_ERROR")
	assert.Contains(t, msg, "attempt 3 deletes it and requests a new one at 2026-11-28T05:15:00Z")
	assert.Contains(t, msg, v1alpha1.AnnotationRetryCertificate)
}
