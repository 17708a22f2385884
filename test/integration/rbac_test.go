package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/testenv"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// installUserRoles applies deploy/rbac/user_roles.yaml as shipped.
func installUserRoles(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "rbac", "user_roles.yaml"))
	require.NoError(t, err)
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(doc, &u.Object))
		if len(u.Object) == 0 {
			continue
		}
		if err := k8s.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err)
		}
	}
}

// allowed asks the API server's authorizer whether user may do verb on DomainClaims.
func allowed(t require.TestingT, user, verb, resource string) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: resource, Verb: verb},
	}}
	require.NoError(t, k8s.Create(context.Background(), sar))
	return sar.Status.Allowed
}

// as is a client that acts as user, a member of system:authenticated.
func as(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	require.NoError(t, err)
	return c
}

func TestDevelopersReadClaimsAndOnlyTheAdminRoleWritesThem(t *testing.T) {
	ctx := context.Background()
	installUserRoles(t)
	ns := tenant(t)
	dev, admin := unique("dev"), unique("admin")
	require.NoError(t, k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dev-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: dev}},
	}))
	require.NoError(t, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: unique("platform")},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "gateway-orchestrator-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: admin}},
	}))

	// The built-in roles pick the read role up by its labels.
	view := &rbacv1.ClusterRole{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: "gateway-orchestrator-view"}, view))
	for _, name := range []string{"view", "edit", "admin"} {
		builtin := &rbacv1.ClusterRole{}
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: name}, builtin), "the API server's bootstrap role %s", name)
		require.NotNil(t, builtin.AggregationRule, name)
		picked := false
		for _, sel := range builtin.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			require.NoError(t, err)
			picked = picked || s.Matches(labels.Set(view.Labels))
		}
		assert.True(t, picked, "ClusterRole %s must aggregate gateway-orchestrator-view", name)
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.True(c, allowed(c, dev, "list", "domainclaims")) }, 10*time.Second, 50*time.Millisecond)
	for _, r := range []string{"domainclaims", "managedzones", "gatewaypools"} {
		for _, verb := range []string{"get", "list", "watch"} {
			assert.True(t, allowed(t, dev, verb, r), "a developer may %s %s", verb, r)
		}
		for _, verb := range []string{"create", "update", "patch", "delete"} {
			assert.False(t, allowed(t, dev, verb, r), "a developer may not %s %s", verb, r)
			assert.True(t, allowed(t, admin, verb, r), "the admin role may %s %s", verb, r)
		}
	}

	// The same, as the API server enforces it on real requests.
	z := newZone(t)
	var l v1alpha1.DomainClaimList
	require.NoError(t, as(t, dev).List(ctx, &l))
	err := as(t, dev).Create(ctx, adminClaim("dev."+z.Spec.Domain, ns))
	assert.True(t, apierrors.IsForbidden(err), "a developer cannot reserve a hostname: %v", err)
	require.NoError(t, as(t, admin).Create(ctx, adminClaim("admin."+z.Spec.Domain, ns)))
}

func TestClaimRecordsWhoReservedAndWhoTransferredIt(t *testing.T) {
	ctx := context.Background()
	installUserRoles(t)
	z := newZone(t)
	from, to := tenant(t), tenant(t)
	admin := unique("admin")
	require.NoError(t, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: unique("platform")},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "gateway-orchestrator-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: admin}},
	}))
	c := as(t, admin)
	h := "reserved." + z.Spec.Domain
	require.Eventually(t, func() bool { // RBAC's cache sees the binding shortly
		return c.Create(ctx, adminClaim(h, from)) == nil
	}, 10*time.Second, 100*time.Millisecond)

	got, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, admin, got.Annotations[webhook.AnnotationReservedBy])
	_, err = time.Parse(time.RFC3339, got.Annotations[webhook.AnnotationReservedAt])
	assert.NoError(t, err, "reserved-at is a time")
	assert.Empty(t, got.Annotations[webhook.AnnotationTransferredBy])

	// A transfer, by another admin: both are on record.
	second := unique("admin")
	require.NoError(t, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: unique("platform")},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "gateway-orchestrator-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: second}},
	}))
	asSecond := as(t, second)
	require.Eventually(t, func() bool {
		cur, err := getClaim(h)
		if err != nil {
			return false
		}
		cur.Spec.Namespace = to
		return asSecond.Update(ctx, cur) == nil
	}, 10*time.Second, 100*time.Millisecond)
	got, err = getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, to, got.Spec.Namespace)
	assert.Equal(t, admin, got.Annotations[webhook.AnnotationReservedBy])
	assert.Equal(t, second, got.Annotations[webhook.AnnotationTransferredBy])
	assert.NotEmpty(t, got.Annotations[webhook.AnnotationTransferredAt])

	// An update that does not transfer changes nothing on record.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := getClaim(h)
		if err != nil {
			return err
		}
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		cur.Labels["example"] = "x"
		return k8s.Update(ctx, cur)
	}))
	again, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, second, again.Annotations[webhook.AnnotationTransferredBy])

	// A claim that a route's admission made is not a reservation, and its create does not call
	// the recorder at all (the matchCondition keeps the route path at one webhook call).
	before := recorderCalls(t)
	require.NoError(t, k8s.Create(ctx, route(from, "shop."+z.Spec.Domain)))
	made, err := getClaim("shop." + z.Spec.Domain)
	require.NoError(t, err)
	assert.NotContains(t, made.Annotations, webhook.AnnotationReservedBy)
	assert.Equal(t, before, recorderCalls(t), "the DomainClaim recorder was called for a route's claim")
	require.NoError(t, k8s.Create(ctx, adminClaim("another."+z.Spec.Domain, from)))
	assert.Equal(t, before+1, recorderCalls(t), "the recorder is called for a reservation (the counter works)")
}

// recorderCalls is how many requests the DomainClaim recorder's endpoint has served.
func recorderCalls(t *testing.T) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == "/mutate-gateway-opendi-com-v1alpha1-domainclaim" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
