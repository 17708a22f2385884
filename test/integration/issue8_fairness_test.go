package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// TestAnotherNamespacesFirstCertificateIsRequestedWithinFiveSlotsOfABurst runs the whole path
// (admission, the certificate reconciler, its request queue, the SDK's client-side rate limiter
// at ACM's real 5 requests a second, the AWS test server): with 1,000 claims of namespace A
// waiting for their certificate requests, namespace B's first claim has its request sent after at
// most 5 more of A's.
func TestAnotherNamespacesFirstCertificateIsRequestedWithinFiveSlotsOfABurst(t *testing.T) {
	ctx := context.Background()
	const burst, workers = 1000, 8
	rates := map[string]float64{}
	for k, v := range testRates {
		rates[k] = v
	}
	rates["acm:RequestCertificate"] = 5 // ACM's own limit, the --aws-rate default
	restartManager(ctx, t, testenv.Options{AWSRates: rates})
	z := newZone(t)
	a, b := tenant(t), tenant(t)

	var hosts []string
	for i := range burst {
		hosts = append(hosts, fmt.Sprintf("a%d.%s", i, z.Spec.Domain))
	}
	t.Cleanup(func() { // delete the burst while this test's manager still runs; waiting requests are withdrawn
		var wg sync.WaitGroup
		next := make(chan string)
		for range workers {
			wg.Go(func() {
				for h := range next {
					assert.NoError(t, deleteClaim(ctx, h))
				}
			})
		}
		for _, h := range hosts {
			next <- h
		}
		close(next)
		wg.Wait()
		for _, h := range hosts {
			waitGone(t, h, 2*time.Minute)
		}
	})
	start := len(env.AWS.ACM.RequestOrder(0))
	began := time.Now()
	var wg sync.WaitGroup
	next := make(chan string)
	for range workers {
		wg.Go(func() {
			for h := range next {
				assert.NoError(t, k8s.Create(ctx, adminClaim(h, a)))
			}
		})
	}
	for _, h := range hosts {
		next <- h
	}
	close(next)
	wg.Wait()
	created := time.Since(began)
	// Give the reconciler time to queue every one of A's requests.
	time.Sleep(5 * time.Second)
	sentA := len(env.AWS.ACM.RequestOrder(start))
	require.Less(t, sentA, burst-100, "hundreds of A's requests still wait (5 are sent a second)")

	hb := "b." + z.Spec.Domain
	from := len(env.AWS.ACM.RequestOrder(0))
	require.NoError(t, k8s.Create(ctx, adminClaim(hb, b)))
	t.Cleanup(func() {
		assert.NoError(t, deleteClaim(ctx, hb))
	})
	var before []string
	require.Eventually(t, func() bool {
		sent := env.AWS.ACM.RequestOrder(from)
		i := slices.Index(sent, hb)
		if i < 0 {
			return false
		}
		before = sent[:i]
		return true
	}, 30*time.Second, 20*time.Millisecond, "B's request is sent")
	for _, h := range before {
		require.True(t, strings.HasPrefix(h, "a"), "only A's requests went before B's: %s", h)
	}
	assert.LessOrEqual(t, len(before), 5, "B's first request waits at most 5 request slots behind A's %d", burst)
	t.Logf("%d claims of A created in %s; A's requests sent before B's claim: %d; between B's create and its request: %d",
		burst, created.Round(time.Second), sentA, len(before))
}

// deleteClaim deletes the claim called name; a claim already gone is fine.
func deleteClaim(ctx context.Context, name string) error {
	c, err := getClaim(name)
	if err == nil {
		err = k8s.Delete(ctx, c)
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
