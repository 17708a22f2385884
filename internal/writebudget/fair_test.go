package writebudget

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestAnotherTenantsWriteWaitsAboutOneTokenNotForTheBacklog(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tokens := make(chan struct{})
	f := newFair(ctx, func(ctx context.Context) error {
		select {
		case <-tokens:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	queue := func(tenant string, n int) {
		for range n {
			before := f.len()
			wg.Go(func() {
				if assert.NoError(t, f.Wait(ctx, tenant)) {
					mu.Lock()
					order = append(order, tenant)
					mu.Unlock()
				}
			})
			require.Eventually(t, func() bool { return f.len() == before+1 }, 5*time.Second, time.Millisecond, "queued in turn")
		}
	}
	queue("team-a", 60)
	queue("team-b", 1)
	queue("team-a", 1)
	for i := range 62 { // one token at a time, so that the order seen is the order given
		tokens <- struct{}{}
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) == i+1
		}, 5*time.Second, time.Millisecond)
	}
	wg.Wait()

	require.Len(t, order, 62)
	assert.Equal(t, []string{"team-a", "team-b", "team-a"}, order[:3], "team-b's write goes with the second token, not after team-a's 60")
}

func TestTheBudgetKeepsItsRateAndBurst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := NewFair(ctx, 50, 10)
	start := time.Now()
	for range 10 {
		require.NoError(t, f.Wait(ctx, "team-a"))
	}
	assert.Less(t, time.Since(start), 150*time.Millisecond, "the burst goes at once")
	start = time.Now()
	for range 10 {
		require.NoError(t, f.Wait(ctx, "team-a"))
	}
	assert.GreaterOrEqual(t, time.Since(start), 170*time.Millisecond, "then 50 a second: 10 take about 200 ms")

	g := NewFair(ctx, 1000, 0)
	require.NoError(t, g.Wait(ctx, "team-a"), "a burst below one still lets one write go")
}

func TestAWriteThatGivesUpSpendsNoToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := NewFair(ctx, 2, 1)
	require.NoError(t, f.Wait(ctx, "team-a")) // the burst's token

	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	require.ErrorIs(t, f.Wait(short, "team-a"), context.DeadlineExceeded)

	start := time.Now()
	require.NoError(t, f.Wait(ctx, "team-b"))
	assert.Less(t, time.Since(start), 700*time.Millisecond, "the next token (500 ms after the first) goes to the write still waiting")

	budgetDone, end := context.WithCancel(context.Background())
	g := NewFair(budgetDone, 0.001, 1)
	require.NoError(t, g.Wait(ctx, "team-a"))
	end()
	assert.ErrorIs(t, g.Wait(ctx, "team-a"), context.Canceled, "a budget whose context ended hands out nothing more")
}

func TestAWritesTenantIsTheNamespaceItIsFor(t *testing.T) {
	claim := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com"}, Spec: v1alpha1.DomainClaimSpec{Namespace: "team-a"}}
	for _, tc := range []struct {
		name string
		obj  any
		want string
	}{
		{"a DomainClaim's is its spec.namespace", claim, "team-a"},
		{"a namespaced object's is its namespace", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "x"}}, "gateway-system"},
		{"a cluster-scoped object's is none", &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "example-com"}}, ""},
		{"an object naming its tenant says it", namedTenant("team-c"), "team-c"},
		{"anything else is none", struct{}{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Tenant(tc.obj))
		})
	}

	w := &counter{}
	c := Client(fake.NewClientBuilder().WithScheme(scheme(t)).Build(), w)
	require.NoError(t, c.Create(context.Background(), claim))
	assert.Equal(t, []string{"team-a"}, w.tenants, "the client waits as the claim's namespace")
}

type namedTenant string

func (n namedTenant) WriteTenant() string { return string(n) }

func scheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	return s
}
