package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestADeniedRoute53ChangeShowsOnTheClaimUntilThePermissionIsGranted has IAM deny
// ChangeResourceRecordSets (HTTP 403 AccessDenied, as Route53 answers): the claim's
// validation-record condition names the missing permission, and once it is granted the claim's
// certificate is issued without anyone touching the claim.
func TestADeniedRoute53ChangeShowsOnTheClaimUntilThePermissionIsGranted(t *testing.T) {
	ctx := context.Background()
	const op = "route53:ChangeResourceRecordSets"
	env.AWS.SetFault(op, &awsfake.Fault{Deny: true})
	t.Cleanup(func() { env.AWS.SetFault(op, nil) })
	z := newZone(t)
	h := "r53-denied." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))

	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionValidationRecord)
		return cond != nil && cond.Status == "False" && cond.Reason == v1alpha1.ReasonAccessDenied &&
			strings.Contains(cond.Message, "missing AWS permission for "+op)
	}, 20*time.Second, 50*time.Millisecond, "the claim names the missing Route53 permission")

	env.AWS.SetFault(op, nil)
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}, 60*time.Second, 100*time.Millisecond, "the claim completes once the permission is granted")
}
