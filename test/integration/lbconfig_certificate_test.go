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
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// lbConfig is a tenant's LoadBalancerConfiguration with one HTTPS:443 listener configuration
// carrying def as its default certificate and certs as its other certificates.
func lbConfig(ns, def string, certs ...string) *unstructured.Unstructured {
	cfg := &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("lbc")}, Spec: lbc.Spec{
		Scheme:                 "internet-facing",
		ListenerConfigurations: []lbc.ListenerConfiguration{{ProtocolPort: gatewaypool.HTTPSProtocolPort, DefaultCertificate: def, Certificates: certs}},
	}}
	u, err := cfg.ToUnstructured()
	if err != nil {
		panic(err)
	}
	return u
}

// cachedCertificate waits until the manager's cache, which admission reads, holds the
// certificate ARN of claim c.
func cachedCertificate(t *testing.T, c *v1alpha1.DomainClaim) {
	t.Helper()
	require.Eventually(t, func() bool {
		var cached v1alpha1.DomainClaim
		return env.Manager.GetCache().Get(context.Background(), client.ObjectKey{Name: c.Name}, &cached) == nil &&
			cached.Status.CertificateARN == c.Status.CertificateARN && cached.Spec.Namespace == c.Spec.Namespace
	}, 10*time.Second, 20*time.Millisecond)
}

// TestALoadBalancerConfigurationCannotNameAnotherNamespacesCertificate: LBC puts the ARNs of a
// LoadBalancerConfiguration's listenerConfigurations on the listeners of the Gateway that
// references it, so team-c's configuration naming team-a's claim certificate would serve
// team-a's certificate on team-c's own ALB. Admission denies it, naming the claim, its owner and
// the hostname; its own claim's certificate, or an ARN that is no claim's, pass. The pool's own
// configurations, which carry many namespaces' certificates, are still written.
func TestALoadBalancerConfigurationCannotNameAnotherNamespacesCertificate(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamC := tenant(t), tenant(t)
	shop, own := "shop."+z.Spec.Domain, "c."+z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(teamA, shop)))
	require.NoError(t, k8s.Create(ctx, route(teamC, own)))

	// The pool seats team-a's hostname: its configuration, in the pool's namespace, carries
	// team-a's certificate, and team-c's on the same Gateway.
	c := ready(t, shop, 60*time.Second)
	mine := ready(t, own, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	arn := c.Status.CertificateARN
	u := lbc.NewUnstructured()
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: c.Status.Gateway.Namespace, Name: c.Status.Gateway.Name}, u))
	poolCfg, err := lbc.FromUnstructured(u)
	require.NoError(t, err)
	https := poolCfg.Spec.Listener(gatewaypool.HTTPSProtocolPort)
	require.NotNil(t, https)
	assert.True(t, https.DefaultCertificate == arn || slices.Contains(https.Certificates, arn), "the pool's configuration carries team-a's certificate: %+v", https)
	cachedCertificate(t, c)
	cachedCertificate(t, mine)

	message := func(field string) string {
		return fmt.Sprintf("%s: Forbidden: certificate %s is the certificate of hostname %q, owned by namespace %s; a LoadBalancerConfiguration of namespace %s may not put it on its load balancer (DomainClaim %s)",
			field, arn, shop, teamA, teamC, c.Name)
	}
	t.Run("team-a's certificate among team-c's certificates is denied, naming the claim, its owner and the hostname", func(t *testing.T) {
		err := k8s.Create(ctx, lbConfig(teamC, "", "arn:aws:acm:us-east-1:000000000000:certificate/unrelated", arn))
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), message("spec.listenerConfigurations[0].certificates[1]"))
	})
	t.Run("team-a's certificate as team-c's default certificate is denied", func(t *testing.T) {
		err := k8s.Create(ctx, lbConfig(teamC, arn))
		require.Error(t, err)
		assert.Contains(t, err.Error(), message("spec.listenerConfigurations[0].defaultCertificate"))
	})
	t.Run("the pool's label does not make a tenant's configuration the pool's", func(t *testing.T) {
		cfg := lbConfig(teamC, arn)
		cfg.SetLabels(map[string]string{v1alpha1.LabelPool: c.Status.Gateway.Name})
		err := k8s.Create(ctx, cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), message("spec.listenerConfigurations[0].defaultCertificate"))
	})
	t.Run("its own claim's certificate is allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, lbConfig(teamC, mine.Status.CertificateARN)))
	})
	t.Run("an ARN that is no claim's is allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, lbConfig(teamC, "arn:aws:acm:us-east-1:000000000000:certificate/unrelated")))
	})
	owners := lbConfig(teamA, arn)
	t.Run("the owner may name its own certificate", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, owners))
	})
	t.Run("an update that adds team-a's certificate is denied", func(t *testing.T) {
		cfg := lbConfig(teamC, mine.Status.CertificateARN)
		require.NoError(t, k8s.Create(ctx, cfg))
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(cfg), cfg); err != nil {
				return err
			}
			if err := lbc.Mutate(cfg, func(l *lbc.LoadBalancerConfiguration) error {
				l.Spec.ListenerConfigurations[0].Certificates = []string{arn}
				return nil
			}); err != nil {
				return err
			}
			return k8s.Update(ctx, cfg)
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), message("spec.listenerConfigurations[0].certificates[0]"))
	})

	t.Run("a transfer warns about the former owner's configurations, and then only the new owner may name the certificate", func(t *testing.T) {
		admin, seen := warningClient(t)
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got, err := getClaim(shop)
			if err != nil {
				return err
			}
			got.Spec.Namespace = teamC
			return admin.Update(ctx, got)
		}))
		assert.Contains(t, seen.all(), fmt.Sprintf(
			"LoadBalancerConfiguration %s/%s still names certificate %s of hostname %q (spec.listenerConfigurations[0].defaultCertificate), which now belongs to namespace %s",
			teamA, owners.GetName(), arn, shop, teamC))

		// Nothing else reports it later: the reconciler tells the configuration's namespace and the claim.
		notes := func(kind, name, namespace string) []string {
			var evs eventsv1.EventList
			require.NoError(t, k8s.List(ctx, &evs, client.InNamespace(namespace)))
			var out []string
			for _, e := range evs.Items {
				if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == v1alpha1.ReasonForeignCertificate && e.Type == "Warning" {
					out = append(out, e.Note)
				}
			}
			return out
		}
		require.Eventually(t, func() bool { return len(notes("LoadBalancerConfiguration", owners.GetName(), teamA)) > 0 },
			10*time.Second, 100*time.Millisecond, "the former owner's configuration has a Warning Event")
		assert.Equal(t, []string{fmt.Sprintf(
			"spec.listenerConfigurations[0].defaultCertificate names certificate %s of hostname %q (DomainClaim %s), which namespace %s owns: the AWS Load Balancer Controller serves it on the load balancer of every Gateway that references this configuration; remove it",
			arn, shop, c.Name, teamC)}, notes("LoadBalancerConfiguration", owners.GetName(), teamA))
		require.Eventually(t, func() bool { return len(notes("DomainClaim", c.Name, "default")) > 0 },
			10*time.Second, 100*time.Millisecond, "the claim has a Warning Event")
		assert.Contains(t, notes("DomainClaim", c.Name, "default")[0], fmt.Sprintf("LoadBalancerConfiguration %s/%s of namespace %s names this claim's certificate", teamA, owners.GetName(), teamA))

		moved := c.DeepCopy()
		moved.Spec.Namespace = teamC
		cachedCertificate(t, moved)
		require.NoError(t, k8s.Create(ctx, lbConfig(teamC, arn)), "the new owner may name it")
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(owners), owners); err != nil {
				return err
			}
			require.NoError(t, unstructured.SetNestedField(owners.Object, "internal", "spec", "scheme"))
			return k8s.Update(ctx, owners)
		})
		require.Error(t, err, "the former owner's configuration cannot change while it names the certificate")
		assert.Contains(t, err.Error(), fmt.Sprintf("owned by namespace %s; a LoadBalancerConfiguration of namespace %s may not put it on its load balancer", teamC, teamA))
	})
}

// warningsSeen collects the warnings the API server returns to a client.
type warningsSeen struct {
	mu    sync.Mutex
	texts []string
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (w *warningsSeen) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.texts = append(w.texts, text)
}

// warningClient is a client of the test's cluster admin that collects the warnings admission
// sends back.
func warningClient(t *testing.T) (client.Client, *warningsSeen) {
	t.Helper()
	seen := &warningsSeen{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = seen
	c, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	require.NoError(t, err)
	return c, seen
}

func (w *warningsSeen) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.texts, "\n")
}
