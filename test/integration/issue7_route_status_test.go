package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// TestTheOrchestratorCannotWriteStatusThatLBCOwns: LBC owns the routes' status.parents entries for
// its Gateways and the Gateways' status, and overwrites what others write there. The
// orchestrator's ClusterRole, as shipped, lets it read them and write neither, so it explains
// itself with Events and claim conditions instead; it can write its own objects' status.
func TestTheOrchestratorCannotWriteStatusThatLBCOwns(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "rbac", "role.yaml"))
	require.NoError(t, err)
	role := &rbacv1.ClusterRole{}
	require.NoError(t, yaml.Unmarshal(data, role))
	role.Name = unique("orchestrator-role")
	require.NoError(t, k8s.Create(ctx, role))
	t.Cleanup(func() { _ = k8s.Delete(ctx, role) })
	user := unique("orchestrator")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	require.NoError(t, k8s.Create(ctx, binding))
	t.Cleanup(func() { _ = k8s.Delete(ctx, binding) })

	may := func(verb, group, resource, sub string) bool {
		t.Helper()
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: "team-a"},
		}}
		require.NoError(t, k8s.Create(ctx, sar))
		return sar.Status.Allowed
	}
	for _, resource := range []string{"httproutes", "grpcroutes", "gateways"} {
		for _, verb := range []string{"update", "patch"} {
			assert.False(t, may(verb, "gateway.networking.k8s.io", resource, "status"), "the orchestrator may not %s %s/status", verb, resource)
		}
		assert.True(t, may("list", "gateway.networking.k8s.io", resource, ""), "it reads %s", resource)
	}
	assert.True(t, may("get", "gateway.networking.k8s.io", "gateways", "status"), "it reads LBC's verdict on its Gateways")
	assert.True(t, may("patch", "gateway.opendi.com", "domainclaims", "status"), "it writes its own claims' status")
	assert.True(t, may("create", "events.k8s.io", "events", ""), "it explains itself with Events")
}
