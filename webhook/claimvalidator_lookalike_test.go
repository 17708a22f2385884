package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// claimValidatorOver is a ClaimValidator whose cache is a fake client with the indexes the
// checks read, holding objs, and whose live reads go to the same objects, counting the Lists.
func claimValidatorOver(t *testing.T, objs ...client.Object) (*ClaimValidator, *int) {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimSkeleton, index.ClaimSkeletonKeys).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string {
			return []string{o.(*v1alpha1.ManagedZone).Spec.Domain}
		}).Build()
	lists := 0
	live := interceptor.NewClient(cache, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
			lists++
			return c.List(ctx, l, opts...)
		},
	})
	view := ownership.CacheView{Reader: cache}
	return &ClaimValidator{View: ownership.LiveClaims{View: view, Live: live}, Cache: view}, &lists
}

func zoneObject(domain string) *v1alpha1.ManagedZone {
	return &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "zone"}, Spec: v1alpha1.ManagedZoneSpec{Domain: domain}}
}

func claimObject(t *testing.T, h, ns string, age time.Duration) *v1alpha1.DomainClaim {
	t.Helper()
	n, err := hostname.Normalize(h)
	require.NoError(t, err)
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: hostname.ClaimName(n), CreationTimestamp: metav1.NewTime(time.Now().Add(-age).Truncate(time.Second))},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: n, Namespace: ns, ClaimedBy: v1alpha1.ClaimedByAdmin},
	}
}

// TestClaimValidatorReadsLookAlikesFromTheCache: a Unicode wildcard's look-alikes are read below
// each ASCII reading of its domain (four for "рау11": "pay11", "pay1l", "payl1", "payll"); they
// come from the cache, so the only live List is the overlap check's one.
func TestClaimValidatorReadsLookAlikesFromTheCache(t *testing.T) {
	v, lists := claimValidatorOver(t, zoneObject("example.com"), claimObject(t, "www.pay11.example.com", "team-b", time.Hour))

	_, err := v.ValidateCreate(context.Background(), claimObject(t, "*.рау11.example.com", "team-a", 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `would serve names that look like "www.pay11.example.com", claimed earlier by namespace "team-b"`)
	assert.Equal(t, 1, *lists, "one live List of the claims, for the overlap check")
}

func TestClaimTransferIsDeniedOnlyByAnOlderLookAlike(t *testing.T) {
	cases := []struct {
		name      string
		lookAlike time.Duration // age of team-b's Cyrillic рау.example.com
		wantErr   bool
	}{
		{name: "a look-alike newer than the claim does not stop its transfer", lookAlike: 10 * time.Minute},
		{name: "a look-alike older than the claim denies its transfer", lookAlike: 2 * time.Hour, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := claimObject(t, "pay.example.com", "team-c", time.Hour)
			v, _ := claimValidatorOver(t, zoneObject("example.com"), old, claimObject(t, "рау.example.com", "team-b", tc.lookAlike))
			moved := old.DeepCopy()
			moved.Spec.Namespace = "team-a"

			_, err := v.ValidateUpdate(context.Background(), old, moved)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), `looks like "xn--80a5ak.example.com" (рау.example.com), claimed earlier by namespace "team-b"`)
		})
	}
}

func TestAClaimForANamespaceThatDoesNotExistIsAdmittedWithAWarning(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	require.NoError(t, corev1.AddToScheme(scheme))
	cache := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(zoneObject("example.com"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimSkeleton, index.ClaimSkeletonKeys).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string {
			return []string{o.(*v1alpha1.ManagedZone).Spec.Domain}
		}).Build()
	view := ownership.CacheView{Reader: cache}
	v := &ClaimValidator{View: ownership.LiveClaims{View: view, Live: cache}, Cache: view}
	ctx := context.Background()

	warnings, err := v.ValidateCreate(ctx, claimObject(t, "shop.example.com", "team-a", 0))
	require.NoError(t, err)
	assert.Empty(t, warnings, "the namespace exists")

	old := claimObject(t, "shop.example.com", "team-a", time.Hour)
	moved := old.DeepCopy()
	moved.Spec.Namespace = "taem-c"
	warnings, err = v.ValidateUpdate(ctx, old, moved)
	require.NoError(t, err, "a reservation for a namespace still to be made is allowed")
	assert.Contains(t, warnings, `namespace "taem-c" does not exist: the hostname now belongs to no existing namespace; check the name if it is not one still to be created`)
}
