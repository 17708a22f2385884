package certificate

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestAKeptBackValidationRecordOutlivesARejectedBatch deletes a bound claim in its quiet period:
// its certificate and validation CNAME exist in AWS, its status names neither. The certificate
// is deleted and the CNAME's deletion queued; Route53 rejects that batch (another change in it
// met a record someone else made). Once the certificate is gone, ACM cannot tell the record any
// more, so the claim must have saved it: the claim keeps its finalizer until the CNAME is gone.
// Real ACM and Route53 clients against the AWS test server.
func TestAKeptBackValidationRecordOutlivesARejectedBatch(t *testing.T) {
	ctx := context.Background()
	s, acmClient, b := realAWS(t)

	c := deletingClaim(v1alpha1.ReasonRecordsRemoved)
	c.Status.CertificateARN = "" // kept back: the quiet period writes nothing while steps are on their way
	c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonObjectExists, LastTransitionTime: metav1.Now()})
	out, err := acmClient.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(c.Spec.Hostname),
		ValidationMethod: acmtypes.ValidationMethodDns, IdempotencyToken: aws.String(IdempotencyToken(c))})
	require.NoError(t, err)
	certARN := aws.ToString(out.CertificateArn)
	name, value := awsfake.ValidationRecord(c.Spec.Hostname)
	rec := &v1alpha1.ValidationRecord{Name: name, Type: "CNAME", Value: value}

	cname := dnsbatch.Want{Zone: "Z1", Kind: dnsbatch.Shared, Record: r53types.ResourceRecordSet{Name: aws.String(dnsbatch.Canonical(name)),
		Type: r53types.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(value)}}}}
	require.Eventually(t, func() bool {
		res, err := b.Ensure(ctx, c.Name, cname)
		return err == nil && res.State == dnsbatch.Done
	}, 5*time.Second, 10*time.Millisecond, "the validation CNAME is in the zone")
	require.Len(t, s.Route53.Records("Z1"), 2, "the CNAME and its ownership marker")

	r := finalizing(t, c, nil)
	r.ACM, r.DNS = acmClient, b
	r.arns.Store(c.UID, certARN) // what the quiet period keeps in memory
	r.records.Store(certARN, rec)

	s.SetFault("route53:ChangeResourceRecordSets", &awsfake.Fault{Code: "InvalidChangeBatch", Status: 400, Times: 1})
	_, got := finalizeOnce(t, r)
	require.NotNil(t, got, "the CNAME's deletion is queued")
	assert.Empty(t, s.ACM.ForDomain(c.Spec.Hostname), "the certificate is deleted")
	require.Eventually(t, func() bool { return s.Calls("route53:ChangeResourceRecordSets") == 2 }, 5*time.Second, 10*time.Millisecond,
		"the batch carrying the deletion goes out, and is rejected")

	require.Eventually(t, func() bool {
		_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		_ = err // a failed batch is an error of this reconcile: the controller backs off and comes again
		return r.Client.Get(ctx, client.ObjectKey{Name: c.Name}, &v1alpha1.DomainClaim{}) != nil
	}, 10*time.Second, 20*time.Millisecond, "the claim goes")
	assert.Empty(t, s.Route53.Records("Z1"), "and its validation CNAME with it, although Route53 rejected the first deletion")
}
