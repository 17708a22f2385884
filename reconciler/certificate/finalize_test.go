package certificate

import (
	"context"
	"k8s.io/apimachinery/pkg/util/uuid"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

// deletingACM answers DeleteCertificate with the error the test sets and counts the calls;
// any other call panics (the embedded interface is nil): the finalizer must not make them.
type deletingACM struct {
	ACM
	err     error
	deletes []string
}

func (d *deletingACM) DeleteCertificate(_ context.Context, in *acm.DeleteCertificateInput, _ ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error) {
	d.deletes = append(d.deletes, aws.ToString(in.CertificateArn))
	if d.err != nil {
		return nil, d.err
	}
	return &acm.DeleteCertificateOutput{}, nil
}

const arn = "arn:aws:acm:us-east-1:123456789012:certificate/1"

func deletingClaim(dnsReason string) *v1alpha1.DomainClaim {
	c := &v1alpha1.DomainClaim{
		// A new UID each time: claimstatus remembers its writes per claim for the process, so a
		// second run (-count) of a test must not look like the same claim again.
		ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", UID: uuid.NewUUID(), Generation: 1,
			Finalizers: []string{v1alpha1.FinalizerAWSCleanup}, DeletionTimestamp: &metav1.Time{Time: time.Now()}},
		Spec: v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: "team"},
		Status: v1alpha1.DomainClaimStatus{CertificateARN: arn, Conditions: []metav1.Condition{
			{Type: v1alpha1.ConditionCertificateRequested, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonRequested, LastTransitionTime: metav1.Now()},
		}},
	}
	if dnsReason != "" {
		status := metav1.ConditionFalse
		if dnsReason == v1alpha1.ReasonCreated {
			status = metav1.ConditionTrue
		}
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: status, Reason: dnsReason, LastTransitionTime: metav1.Now()})
	}
	return c
}

func finalizing(t *testing.T, c *v1alpha1.DomainClaim, fake_ *deletingACM, funcs ...interceptor.Funcs) *Reconciler {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	zone := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "example"}, Spec: v1alpha1.ManagedZoneSpec{Domain: "example.com", HostedZoneID: "Z1"}}
	k := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(c, zone).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string { return []string{o.(*v1alpha1.ManagedZone).Spec.Domain} }).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimValidationRecord, func(o client.Object) []string {
			if rec := o.(*v1alpha1.DomainClaim).Status.ValidationRecord; rec != nil {
				return []string{dnsbatch.Canonical(rec.Name)}
			}
			return nil
		})
	for _, f := range funcs {
		k = k.WithInterceptorFuncs(f)
	}
	return &Reconciler{Client: k.Build(), ACM: fake_, DNS: &dnsbatch.Batcher{}, Poller: &Poller{}, Requester: &Requester{},
		Clock: clocktesting.NewFakePassiveClock(time.Now()), Recorder: events.NewFakeRecorder(10), InUseRetry: 7 * time.Second}
}

func finalizeOnce(t *testing.T, r *Reconciler) (reconcile.Result, *v1alpha1.DomainClaim) {
	t.Helper()
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: "shop.example.com"}})
	require.NoError(t, err)
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(context.Background(), client.ObjectKey{Name: "shop.example.com"}, c); apierrors.IsNotFound(err) {
		return res, nil
	}
	return res, c
}

func TestTheCertificateWaitsForTheAliasRecordsToGo(t *testing.T) {
	a := &deletingACM{}
	r := finalizing(t, deletingClaim(v1alpha1.ReasonCreated), a)
	_, c := finalizeOnce(t, r)
	assert.Empty(t, a.deletes, "no DeleteCertificate while the ALIAS may still point at the ALB")
	require.NotNil(t, c)
	assert.Contains(t, c.Finalizers, v1alpha1.FinalizerAWSCleanup)
}

func TestACertificateInUseIsTriedAgainAfterInUseRetry(t *testing.T) {
	a := &deletingACM{err: &acmtypes.ResourceInUseException{Message: aws.String("in use by an ALB")}}
	r := finalizing(t, deletingClaim(v1alpha1.ReasonRecordsRemoved), a)
	res, c := finalizeOnce(t, r)
	assert.Equal(t, []string{arn}, a.deletes)
	assert.Equal(t, 7*time.Second, res.RequeueAfter)
	require.NotNil(t, c)
	assert.Contains(t, c.Finalizers, v1alpha1.FinalizerAWSCleanup)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested)
	require.NotNil(t, cond)
	assert.Equal(t, v1alpha1.ReasonCertificateInUse, cond.Reason)
	assert.Equal(t, v1alpha1.ReasonRecordsRemoved, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason,
		"the DNS reconciler's condition is left as it wrote it")
}

func TestTheFinalizerGoesOnceTheCertificateIsDeleted(t *testing.T) {
	for name, dns := range map[string]string{"after RecordsRemoved": v1alpha1.ReasonRecordsRemoved, "when no ALIAS was ever written": ""} {
		t.Run(name, func(t *testing.T) {
			a := &deletingACM{}
			r := finalizing(t, deletingClaim(dns), a)
			_, c := finalizeOnce(t, r)
			assert.Equal(t, []string{arn}, a.deletes)
			assert.Nil(t, c, "the claim is gone: the finalizer was its last")
		})
	}
}

func TestADeletedCertificateIsSuccess(t *testing.T) {
	a := &deletingACM{err: &acmtypes.ResourceNotFoundException{Message: aws.String("gone")}}
	r := finalizing(t, deletingClaim(v1alpha1.ReasonRecordsRemoved), a)
	_, c := finalizeOnce(t, r)
	assert.Len(t, a.deletes, 1)
	assert.Nil(t, c)
}

// TestAValidationRecordHeldInMemoryIsStillNeeded deletes the apex claim while the wildcard's
// claim, in its quiet period, holds the same validation CNAME only in memory (its status does not
// list it yet): the certificate goes, the CNAME stays. The empty Batcher fails the test if the
// CNAME's deletion is asked for.
func TestAValidationRecordHeldInMemoryIsStillNeeded(t *testing.T) {
	c := deletingClaim(v1alpha1.ReasonRecordsRemoved)
	c.Status.ValidationRecord = &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com.", Type: "CNAME", Value: "_y1.acm-validations.aws."}
	a := &deletingACM{}
	r := finalizing(t, c, a)
	r.records.Store(arn+"-wildcard", &v1alpha1.ValidationRecord{Name: "_X1.shop.example.com", Type: "CNAME", Value: "_y1.acm-validations.aws."})
	_, got := finalizeOnce(t, r)
	assert.Equal(t, []string{arn}, a.deletes)
	assert.Nil(t, got, "the claim is gone, its validation CNAME kept for the wildcard's certificate")

	// The claim's own record in memory does not keep it.
	c = deletingClaim(v1alpha1.ReasonRecordsRemoved)
	r = finalizing(t, c, a)
	r.records.Store(arn, c.Status.ValidationRecord)
	needed, err := r.recordStillNeeded(context.Background(), c, arn, &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com."}, "Z1")
	require.NoError(t, err)
	assert.False(t, needed)
	r.records.Store(arn+"-wildcard", &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com."})
	needed, err = r.recordStillNeeded(context.Background(), c, arn, &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com."}, "Z1")
	require.NoError(t, err)
	assert.True(t, needed, "a record held in memory whose zone is not known yet is needed wherever")

	// A record held for a hosted zone is needed there only (a claim whose record moved).
	r.records.Store(arn+"-wildcard", &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com.", RecordZoneID: "Z2"})
	needed, err = r.recordStillNeeded(context.Background(), c, arn, &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com."}, "Z1")
	require.NoError(t, err)
	assert.False(t, needed, "the other certificate's record is in Z2, not Z1")
	needed, err = r.recordStillNeeded(context.Background(), c, arn, &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com."}, "Z2")
	require.NoError(t, err)
	assert.True(t, needed)
}

// TestFinalizingAClaimInItsQuietPeriodDropsWhatWasKeptBack: a claim deleted before its status
// listed its certificate leaves no ARN or record behind in memory. The validation record is
// shared with another claim's status, so its CNAME stays (the empty Batcher is not asked).
func TestFinalizingAClaimInItsQuietPeriodDropsWhatWasKeptBack(t *testing.T) {
	ctx := context.Background()
	rec := &v1alpha1.ValidationRecord{Name: "_x1.shop.example.com.", Type: "CNAME", Value: "_y1.acm-validations.aws."}
	c := deletingClaim("")
	c.Status.CertificateARN = ""
	c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonObjectExists, LastTransitionTime: metav1.Now()})
	a := &deletingACM{}
	r := finalizing(t, c, a)
	wildcard := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "wild.shop.example.com"}, Spec: v1alpha1.DomainClaimSpec{Hostname: "*.shop.example.com", Namespace: "team"}}
	require.NoError(t, r.Client.Create(ctx, wildcard))
	wildcard.Status.ValidationRecord = rec
	require.NoError(t, r.Client.Status().Update(ctx, wildcard))
	r.arns.Store(c.UID, arn)
	r.records.Store(arn, rec)

	_, got := finalizeOnce(t, r)
	assert.Nil(t, got, "the claim is gone")
	assert.Equal(t, []string{arn}, a.deletes, "the kept-back certificate is deleted")
	for name, m := range map[string]interface{ Range(func(k, v any) bool) }{"arns": &r.arns, "records": &r.records, "fresh": &r.fresh} {
		m.Range(func(k, _ any) bool { t.Errorf("%s still holds %v", name, k); return true })
	}
}

// TestTheCertificateOfAClaimHoldingItsHostnameWaitsForReconcilerDNSEvenWithoutACondition: a
// bound claim that holds its hostname and has no DNSRecordReady may have first records that were
// queued unsaid (AliasRecordsGoneForDeletion): its certificate waits for reconciler/dns to say
// RecordsRemoved.
func TestTheCertificateOfAClaimHoldingItsHostnameWaitsForReconcilerDNSEvenWithoutACondition(t *testing.T) {
	held := deletingClaim("")
	held.Status.Conditions = append(held.Status.Conditions,
		metav1.Condition{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed, LastTransitionTime: metav1.Now()},
		metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonObjectExists, LastTransitionTime: metav1.Now()})
	require.True(t, held.AliasRecordsGone(), "its status alone says no record was ever written")
	a := &deletingACM{}
	r := finalizing(t, held, a)
	_, c := finalizeOnce(t, r)
	assert.Empty(t, a.deletes, "no DeleteCertificate before reconciler/dns looked at the name")
	require.NotNil(t, c)
	assert.Contains(t, c.Finalizers, v1alpha1.FinalizerAWSCleanup)

	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonRecordsRemoved})
	require.NoError(t, r.Client.Status().Update(context.Background(), c))
	_, c = finalizeOnce(t, r)
	assert.Equal(t, []string{arn}, a.deletes, "then the certificate goes")
	assert.Nil(t, c, "and the claim with it")
}
