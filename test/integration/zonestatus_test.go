package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/reconciler/zonestatus"
)

// zoneCounts reads a zone's status.claims from the API server (zero counts when unset or
// unreadable: callers wait for other counts).
func zoneCounts(name string) v1alpha1.ZoneClaimCounts {
	var z v1alpha1.ManagedZone
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, &z); err != nil || z.Status.Claims == nil {
		return v1alpha1.ZoneClaimCounts{}
	}
	return *z.Status.Claims
}

func TestManagedZoneStatusCountsItsClaimsWithFewWrites(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	z := newZone(t)
	ns := tenant(t)

	// Count the zone's status writes from here on: each one is a MODIFIED event on a watch.
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	w, err := wc.Watch(ctx, &v1alpha1.ManagedZoneList{}, client.MatchingFields{"metadata.name": z.Name})
	require.NoError(t, err)
	defer w.Stop()
	writes := make(chan int, 1)
	go func() {
		n := 0
		for ev := range w.ResultChan() {
			if ev.Type == watch.Modified {
				n++
			}
		}
		writes <- n
	}()

	const routes = 30
	start := time.Now()
	for i := range routes {
		require.NoError(t, k8s.Create(ctx, route(ns, fmt.Sprintf("r%d.%s", i, z.Spec.Domain))))
	}
	admin := adminClaim("admin."+z.Spec.Domain, ns)
	require.NoError(t, k8s.Create(ctx, admin))

	require.Eventually(t, func() bool {
		return zoneCounts(z.Name).Total == routes+1
	}, 30*time.Second, 100*time.Millisecond, "the zone counts every claim whose status names it")
	// No pool serves the zone, so no claim is Ready; every route-made claim is in use, so none
	// is unbound once the claims' own status changes (InUse) are counted too.
	want := v1alpha1.ZoneClaimCounts{Total: routes + 1, NotReady: routes + 1}
	require.Eventually(t, func() bool { return zoneCounts(z.Name) == want }, 30*time.Second, 100*time.Millisecond)

	var got v1alpha1.ManagedZone
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: z.Name}, &got))
	assert.Equal(t, got.Generation, got.Status.ObservedGeneration)

	cancel()
	elapsed := time.Since(start)
	total := <-writes
	t.Logf("%d claims, each written several times, gave %d ManagedZone status writes in %v", routes+1, total, elapsed.Round(time.Millisecond))
	assert.Positive(t, total)
	// The zone's own creation is counted at once (one write); claim events at most once per
	// debounce period after that. Without debouncing this was 56 writes in 5 s.
	assert.LessOrEqual(t, total, int(elapsed/zonestatus.DefaultDebounce)+2,
		"claim events are coalesced per zone: at most one write per debounce period")

	row, err := table("managedzones", z.Name)
	require.NoError(t, err)
	assert.EqualValues(t, routes+1, row["Claims"], "kubectl get managedzones shows the counts")
	assert.EqualValues(t, routes+1, row["Not Ready"])
	assert.EqualValues(t, 0, row["Ready"])

	require.NoError(t, k8s.Delete(context.Background(), admin))
	require.Eventually(t, func() bool {
		return zoneCounts(z.Name).Total == routes
	}, 30*time.Second, 100*time.Millisecond, "a deleted claim leaves the counts")
}

// table reads one object of resource (domainclaims, managedzones) as kubectl get does: as a
// server-side Table, its columns by name.
func table(resource, name string) (map[string]any, error) {
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(env.Config.Host, "/")+"/apis/gateway.opendi.com/v1alpha1/"+resource+"/"+name, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", req.URL, resp.Status, body)
	}
	var tbl metav1.Table
	if err := json.Unmarshal(body, &tbl); err != nil {
		return nil, err
	}
	if len(tbl.Rows) != 1 || len(tbl.Rows[0].Cells) != len(tbl.ColumnDefinitions) {
		return nil, fmt.Errorf("%s: want one row with a cell per column, got %+v", req.URL, tbl)
	}
	row := map[string]any{}
	for i, c := range tbl.ColumnDefinitions {
		row[c.Name] = tbl.Rows[0].Cells[i]
	}
	return row, nil
}

func TestKubectlGetShowsWhyAClaimIsNotReady(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "why." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	waitCondition(t, h, v1alpha1.ConditionReady, metav1.ConditionFalse)

	// The claim moves on through its steps; compare the table with a claim read before and
	// after it that did not change in between.
	var ready *metav1.Condition
	var row map[string]any
	require.Eventually(t, func() bool {
		before, err := getClaim(h)
		if err != nil {
			return false
		}
		if row, err = table("domainclaims", before.Name); err != nil {
			t.Log(err)
			return false
		}
		after, err := getClaim(h)
		if err != nil {
			return false
		}
		ready = meta.FindStatusCondition(after.Status.Conditions, v1alpha1.ConditionReady)
		return before.ResourceVersion == after.ResourceVersion && ready != nil
	}, 15*time.Second, 20*time.Millisecond)
	require.NotEmpty(t, ready.Reason)
	assert.Equal(t, string(ready.Status), row["Ready"])
	assert.Equal(t, ready.Reason, row["Reason"], "the Reason column is Ready's reason")
	assert.Equal(t, ready.Message, row["Message"], "the Message column (kubectl get -o wide) is Ready's message")
}
