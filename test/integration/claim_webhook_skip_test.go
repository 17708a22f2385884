package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// Series of the API server's metrics, counted by webhook name over every operation.
const (
	webhookCallsMetric    = "apiserver_admission_webhook_admission_duration_seconds_count"
	matchConditionsMetric = "apiserver_admission_match_condition_evaluation_seconds_count"
)

// webhookCounts reads, from the API server's own metrics, the series metric by webhook
// configuration name, summed over every operation.
func webhookCounts(t *testing.T, metric string) map[string]int {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	require.NoError(t, err)
	out := map[string]int{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		i := strings.Index(line, `name="`)
		if i < 0 {
			continue
		}
		name := line[i+6:]
		name = name[:strings.IndexByte(name, '"')]
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		require.NoError(t, err)
		out[name] += int(v) // counts, written as floats
	}
	return out
}

// The claims route admission makes are kept away from both DomainClaim webhooks by their
// objectSelector: the API server neither calls them nor evaluates a matchCondition for them (which
// would cost it a copy of the object and a CEL program per claim). A claim an admin writes, and a
// transfer, still reach them.
func TestClaimWebhooksSkipAdmissionsOwnClaims(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns, other := tenant(t), tenant(t)
	hooks := []string{"mdomainclaim.gateway.opendi.com", "vdomainclaim.gateway.opendi.com"}
	transfers := []string{"mdomainclaim-transfer.gateway.opendi.com", "vdomainclaim-transfer.gateway.opendi.com"}

	before, evalsBefore := webhookCounts(t, webhookCallsMetric), webhookCounts(t, matchConditionsMetric)
	r := route(ns, "skip."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, r))
	c := &v1alpha1.DomainClaim{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: "skip." + z.Spec.Domain}, c))
	assert.Equal(t, ns, c.Labels[webhook.LabelOwner])
	after, evalsAfter := webhookCounts(t, webhookCallsMetric), webhookCounts(t, matchConditionsMetric)
	for _, h := range append(hooks, transfers...) {
		assert.Equal(t, before[h], after[h], "%s was called for the claim route admission made", h)
		assert.Equal(t, evalsBefore[h], evalsAfter[h], "the matchConditions of %s were evaluated for the claim route admission made", h)
	}
	assert.Greater(t, after["vhttproute.gateway.opendi.com"], before["vhttproute.gateway.opendi.com"], "the route webhook was called")

	// An admin's claim goes through both; the recorder writes who reserved it.
	before = after
	admin := adminClaim("admin-skip."+z.Spec.Domain, ns)
	require.NoError(t, k8s.Create(ctx, admin))
	after = webhookCounts(t, webhookCallsMetric)
	for _, h := range hooks {
		assert.Greater(t, after[h], before[h], "%s was not called for an admin's claim", h)
	}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(admin), admin))
	assert.NotEmpty(t, admin.Annotations[webhook.AnnotationReservedBy])

	// A transfer of admission's claim reaches the transfer entries and is recorded; updates that
	// keep the namespace do not reach them.
	before = after
	require.NoError(t, updateLatest(ctx, c, func() { c.Labels["example"] = "x" }))
	after = webhookCounts(t, webhookCallsMetric)
	for _, h := range transfers {
		assert.Equal(t, before[h], after[h], "%s was called for an update that is no transfer", h)
	}
	before = after
	require.NoError(t, updateLatest(ctx, c, func() { c.Spec.Namespace = other }))
	after = webhookCounts(t, webhookCallsMetric)
	for _, h := range transfers {
		assert.Greater(t, after[h], before[h], "%s was not called for a transfer", h)
	}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(c), c))
	assert.NotEmpty(t, c.Annotations[webhook.AnnotationTransferredBy])
}
