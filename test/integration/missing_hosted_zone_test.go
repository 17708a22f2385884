package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// A ManagedZone whose hostedZoneID names no hosted zone (a typo, or a zone deleted in Route53)
// holds no record of ours: its claims say so while they live, and go when deleted, their
// certificates with them, so that the admin can then delete the zone.
func TestAClaimOfAZoneWithoutItsHostedZoneCanBeDeleted(t *testing.T) {
	ctx := context.Background()
	ns := tenant(t)
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.HostedZoneID = "ZNOSUCHZONE" + strings.TrimPrefix(unique("z"), "z-")
	})
	c := adminClaim("app."+z.Spec.Domain, ns)
	require.NoError(t, k8s.Create(ctx, c))

	var arn string
	require.Eventually(t, func() bool {
		got, err := getClaim(c.Name)
		if err != nil {
			return false
		}
		v := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionValidationRecord)
		arn = got.Status.CertificateARN
		return arn != "" && v != nil && v.Reason == v1alpha1.ReasonChangeFailed && strings.Contains(v.Message, "NoSuchHostedZone")
	}, 20*time.Second, 100*time.Millisecond, "the claim says the hosted zone does not exist")

	require.NoError(t, k8s.Delete(ctx, c))
	require.Eventually(t, func() bool {
		_, err := getClaim(c.Name)
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 100*time.Millisecond, "the claim goes: a hosted zone that does not exist holds no record to remove")
	assert.False(t, slices.Contains(env.AWS.ACM.Certificates(), arn), "its certificate went with it")
	require.NoError(t, k8s.Delete(ctx, z), "then the zone may go")
}
