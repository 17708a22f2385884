package gatewaypool

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// certificatesPerGateway is how many certificates besides the default each pool Gateway carries.
var certificatesPerGateway = promutil.Register(metrics.Registry, prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "gateway_orchestrator_gateway_certificates",
	Help: "Certificates on a pool Gateway's HTTPS listener besides the default one (the ALB quota is 25 by default).",
}, []string{"pool", "namespace", "gateway"}))

// ELB is the part of the ELBv2 client the pool uses: the ALB's canonical hosted zone ID, which
// an ALIAS record needs, is not in Gateway status.
type ELB interface {
	DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
}

// claimsOf returns the live claims of the zones this pool serves.
func (r *Reconciler) claimsOf(ctx context.Context, pool *v1alpha1.GatewayPool) ([]*v1alpha1.DomainClaim, error) {
	var zones v1alpha1.ManagedZoneList
	if err := r.Client.List(ctx, &zones, client.MatchingFields{index.ZonePool: pool.Name}); err != nil {
		return nil, err
	}
	var out []*v1alpha1.DomainClaim
	for _, z := range zones.Items {
		var l v1alpha1.DomainClaimList
		if err := r.Client.List(ctx, &l, client.MatchingFields{index.ClaimZone: z.Name}); err != nil {
			return nil, err
		}
		for i := range l.Items {
			c := &l.Items[i]
			if r.assigned != nil {
				if gw, ok := r.assigned[c.UID]; ok && c.Status.Gateway == nil {
					// The cache has not seen the assignment this reconciler wrote yet.
					c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: pool.Spec.Namespace, Name: gw}
				}
			}
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationTimestamp.Equal(&out[j].CreationTimestamp) {
			return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// seat is what a claim needs on a Gateway: its certificate, and the ALB rules LBC makes for the
// owner's HTTPRoutes and GRPCRoutes on its hostname: one per route rule, match and hostname the
// claim answers for (LBC 3.5+). A route whose hostnames sit on several Gateways is counted on each
// for the hostnames seated there.
func (r *Reconciler) seat(ctx context.Context, c *v1alpha1.DomainClaim, claimNames map[string]bool) (Seat, error) {
	var routes gwv1.HTTPRouteList
	if err := r.Client.List(ctx, &routes, client.InNamespace(c.Spec.Namespace), client.MatchingFields{index.RouteHostname: c.Spec.Hostname}); err != nil {
		return Seat{}, err
	}
	rules := int32(0)
	for i := range routes.Items {
		rt := &routes.Items[i]
		rules += ALBRules(httpMatches(rt)) * hostnamesOf(c, rt.Spec.Hostnames, claimNames)
	}
	var grpcs gwv1.GRPCRouteList
	if err := r.Client.List(ctx, &grpcs, client.InNamespace(c.Spec.Namespace)); err != nil {
		return Seat{}, err
	}
	for i := range grpcs.Items {
		rt := &grpcs.Items[i]
		rules += ALBRules(grpcMatches(rt)) * hostnamesOf(c, rt.Spec.Hostnames, claimNames)
	}
	return Seat{Certificates: 1, Rules: max(1, rules)}, nil
}

func gatewayOf(c *v1alpha1.DomainClaim) string {
	if c.Status.Gateway == nil {
		return ""
	}
	return c.Status.Gateway.Name
}

func issued(c *v1alpha1.DomainClaim) bool {
	return c.Status.CertificateARN != "" && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
}

func claimed(c *v1alpha1.DomainClaim) bool {
	return c.DeletionTimestamp.IsZero() && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed)
}

// seats assigns a Gateway to every claim with an issued certificate and none yet, first fit in a
// stable order. Only this reconciler assigns, one pool at a time (the workqueue never hands one
// key to two workers), so no Gateway goes over capacity however many claims arrive at once.
//
// A seated claim whose routes grew past what is left on its Gateway (LBC would fail the whole
// Gateway) is taken off it, newest first, and seated again like a new one; moved records its
// former Gateway.
func (r *Reconciler) seats(ctx context.Context, pool *v1alpha1.GatewayPool, claims []*v1alpha1.DomainClaim, gateways []string, closed map[string]bool, moved map[string]*v1alpha1.ObjectRef) (exhausted map[string]string, loads map[string]*Load, err error) {
	if r.assigned == nil {
		r.assigned = map[types.UID]string{}
	}
	// Every seat takes its own listeners, and a Gateway holds at most 64 of them.
	capacity := Capacity{Certificates: min(pool.Spec.MaxCertificatesPerGateway, MaxListenersPerGateway/ListenersPerSeat(pool.Spec.Template.HTTPListener)),
		Rules: pool.Spec.MaxRulesPerGateway}
	loads = map[string]*Load{}
	for _, g := range gateways {
		loads[g] = &Load{Name: g, Closed: closed[g]}
	}
	exhausted = map[string]string{}
	claimNames := map[string]bool{}
	for _, c := range claims {
		claimNames[c.Name] = true
	}
	need := map[string]Seat{}
	for _, c := range claims {
		if c.Status.Gateway == nil || !c.DeletionTimestamp.IsZero() {
			continue
		}
		st, err := r.seat(ctx, c, claimNames)
		if err != nil {
			return nil, nil, err
		}
		need[c.Name] = st
		if l := loads[c.Status.Gateway.Name]; l != nil {
			l.Certificates += st.Certificates
			l.Rules += st.Rules
		}
	}
	for i := len(claims) - 1; i >= 0; i-- {
		c := claims[i]
		l := loads[gatewayOf(c)]
		if l == nil || l.Rules <= capacity.Rules || !c.DeletionTimestamp.IsZero() {
			continue
		}
		logf.FromContext(ctx).Info("seating the claim again: its routes need more ALB rules than its Gateway has left",
			"claim", c.Name, "hostname", c.Spec.Hostname, "gateway", l.Name, "rules", need[c.Name].Rules)
		l.Certificates -= need[c.Name].Certificates
		l.Rules -= need[c.Name].Rules
		moved[c.Name] = c.Status.Gateway
		delete(r.assigned, c.UID)
		c.Status.Gateway = nil
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	}
	for _, c := range claims {
		if c.Status.Gateway != nil || !claimed(c) || !issued(c) || !v1alpha1.ProvisioningAllowed(c) {
			continue
		}
		st, err := r.seat(ctx, c, claimNames)
		if err != nil {
			return nil, nil, err
		}
		list := make([]Load, 0, len(loads))
		for _, l := range loads {
			list = append(list, *l)
		}
		choice := Assign(pool.Name, list, capacity, int(pool.Spec.MaxGateways), st)
		if choice.Exhausted {
			exhausted[c.Name] = choice.Message
			continue
		}
		if choice.Create {
			if err := r.ensure(ctx, pool, choice.Gateway); err != nil {
				return nil, nil, err
			}
			loads[choice.Gateway] = &Load{Name: choice.Gateway}
		}
		loads[choice.Gateway].Certificates += st.Certificates
		loads[choice.Gateway].Rules += st.Rules
		r.assigned[c.UID] = choice.Gateway
		c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: pool.Spec.Namespace, Name: choice.Gateway}
	}
	return exhausted, loads, nil
}

// attach writes each Gateway's HTTPS certificates into its LoadBalancerConfiguration (ISSUED
// ones only: LBC fails a Gateway over one that is not) and mirrors them in its annotations. It
// returns the ARNs now configured.
func (r *Reconciler) attach(ctx context.Context, pool *v1alpha1.GatewayPool, gw *gwv1.Gateway, claims []*v1alpha1.DomainClaim) (map[string]bool, error) {
	var arns []string
	for _, c := range claims {
		if c.Status.Gateway != nil && c.Status.Gateway.Name == gw.Name && claimed(c) && issued(c) {
			arns = append(arns, c.Status.CertificateARN)
		}
	}
	cfg := &unstructured.Unstructured{}
	cfg.SetGroupVersionKind(LoadBalancerConfigurationGVK)
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(gw), cfg); err != nil {
		return nil, err
	}
	cur := ListenerCertificatesOf(cfg)
	plan := PlanCertificates(cur.DefaultCertificate, arns)
	if !equality.Semantic.DeepEqual(normalize(cur), normalize(plan)) {
		patch := client.MergeFrom(cfg.DeepCopy())
		entries, _, _ := unstructured.NestedSlice(cfg.Object, "spec", "listenerConfigurations")
		for i, e := range entries {
			m, ok := e.(map[string]any)
			if !ok || m["protocolPort"] != HTTPSProtocolPort {
				continue
			}
			delete(m, "defaultCertificate")
			delete(m, "certificates")
			if plan.DefaultCertificate != "" {
				m["defaultCertificate"] = plan.DefaultCertificate
			}
			if len(plan.Certificates) > 0 {
				list := make([]any, len(plan.Certificates))
				for j, a := range plan.Certificates {
					list[j] = a
				}
				m["certificates"] = list
			}
			entries[i] = m
		}
		if err := unstructured.SetNestedSlice(cfg.Object, entries, "spec", "listenerConfigurations"); err != nil {
			return nil, err
		}
		if err := r.Client.Patch(ctx, cfg, patch); err != nil {
			return nil, err
		}
	}
	want := plan.Annotations()
	if gw.Annotations[AnnotationCertificateARN] != want[AnnotationCertificateARN] || gw.Annotations[AnnotationCertificateCount] != want[AnnotationCertificateCount] {
		patch := client.MergeFrom(gw.DeepCopy())
		if gw.Annotations == nil {
			gw.Annotations = map[string]string{}
		}
		for k, v := range want {
			gw.Annotations[k] = v
		}
		if err := r.Client.Patch(ctx, gw, patch); err != nil {
			return nil, err
		}
	}
	out := map[string]bool{}
	if plan.DefaultCertificate != "" {
		out[plan.DefaultCertificate] = true
	}
	certificatesPerGateway.WithLabelValues(pool.Name, gw.Namespace, gw.Name).Set(float64(len(plan.Certificates)))
	for _, a := range plan.Certificates {
		out[a] = true
	}
	return out, nil
}

func normalize(l ListenerCertificates) ListenerCertificates {
	if len(l.Certificates) == 0 {
		l.Certificates = nil
	}
	return l
}

// admit gives each claim seated on a Gateway its own listeners (see Listeners), so that only the
// claim's owner can serve its hostname there, and reports which claims' listeners are in place.
// A claim being deleted or no longer Claimed loses its listener in the same reconcile.
func (r *Reconciler) admit(ctx context.Context, pool *v1alpha1.GatewayPool, gw *gwv1.Gateway, claims []*v1alpha1.DomainClaim) (map[string]bool, error) {
	var seats []Seated
	for _, c := range claims {
		if c.Status.Gateway != nil && c.Status.Gateway.Name == gw.Name && claimed(c) {
			seats = append(seats, Seated{Claim: c.Name, Hostname: c.Spec.Hostname, Namespace: c.Spec.Namespace})
		}
	}
	if per := int(ListenersPerSeat(pool.Spec.Template.HTTPListener)); len(seats)*per > MaxListenersPerGateway {
		// Seating never gets here (listeners are a capacity); a pool filled before that stays within the limit.
		sort.Slice(seats, func(i, j int) bool { return seats[i].Claim < seats[j].Claim })
		seats = seats[:MaxListenersPerGateway/per]
	}
	want := Listeners(seats, pool.Spec.Template.HTTPListener)
	if !equality.Semantic.DeepEqual(gw.Spec.Listeners, want) {
		patch := client.MergeFrom(gw.DeepCopy())
		gw.Spec.Listeners = want
		if err := r.Client.Patch(ctx, gw, patch); err != nil {
			return nil, err
		}
	}
	admitted := map[string]bool{}
	for _, s := range seats {
		admitted[s.Claim] = AdmittedBy(gw, s.Claim, s.Namespace)
	}
	return admitted, nil
}

// loadBalancer returns a Gateway's ALB hostname and canonical hosted zone once LBC has
// programmed it; "" while it has not.
func (r *Reconciler) loadBalancer(ctx context.Context, gw *gwv1.Gateway) (host, zone string, err error) {
	if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) {
		return "", "", nil
	}
	for _, a := range gw.Status.Addresses {
		if a.Type != nil && *a.Type == gwv1.HostnameAddressType {
			host = a.Value
		}
	}
	if host == "" || r.ELB == nil {
		return "", "", nil
	}
	if z, ok := r.zones.Load(host); ok {
		return host, z.(string), nil
	}
	in := &elbv2.DescribeLoadBalancersInput{}
	for {
		out, err := r.ELB.DescribeLoadBalancers(ctx, in)
		if err != nil {
			return "", "", err
		}
		for _, lb := range out.LoadBalancers {
			r.zones.Store(strings.ToLower(aws.ToString(lb.DNSName)), aws.ToString(lb.CanonicalHostedZoneId))
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	if z, ok := r.zones.Load(strings.ToLower(host)); ok {
		return host, z.(string), nil
	}
	return "", "", fmt.Errorf("no load balancer with DNS name %s in ELBv2", host)
}

// lbcRefusal is LBC's verdict on a Gateway it could not deploy: Accepted=False for the current
// generation (Programmed may stay True, the ALB keeping its last good state), as its message.
func lbcRefusal(gw *gwv1.Gateway) string {
	c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted))
	if c == nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != gw.Generation {
		return ""
	}
	return fmt.Sprintf("the AWS Load Balancer Controller does not accept Gateway %s (%s): %s", gw.Name, c.Reason, c.Message)
}

// setRefused turns CertificateAttached and LoadBalancerReady False with LBC's own message: what
// the configuration says does not reach the ALB while LBC refuses the Gateway.
func setRefused(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, msg string) {
	for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady} {
		conditions.Set(&st.Conditions, c.Generation, typ, false, v1alpha1.ReasonNotAccepted, msg)
	}
}

// setStrays sets the claim's StrayRoutes condition, naming the routes of other namespaces that
// list its hostname.
func setStrays(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, strays []string) {
	if len(strays) == 0 {
		conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionStrayRoutes, false, v1alpha1.ReasonNoStrayRoutes,
			"no route of another namespace lists "+c.Spec.Hostname)
		return
	}
	conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionStrayRoutes, true, v1alpha1.ReasonForeignRoutes,
		fmt.Sprintf("routes of other namespaces list %s and are not served it: %s", c.Spec.Hostname, strings.Join(strays, ", ")))
}

// claimStatus sets the pool's part of a claim's status: its Gateway, load balancer and
// conditions for steps 4, 5, 6 and 8.
func claimStatus(pool *v1alpha1.GatewayPool, c *v1alpha1.DomainClaim, exhausted string, attached, admitted bool, lbHost, lbZone string) *v1alpha1.DomainClaimStatus {
	st := c.Status.DeepCopy()
	set := func(typ string, ok bool, reason, msg string) {
		conditions.Set(&st.Conditions, c.Generation, typ, ok, reason, msg)
	}
	switch {
	case exhausted != "":
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPoolExhausted, exhausted)
		return st
	case st.Gateway == nil && !v1alpha1.ProvisioningAllowed(c):
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonUnbound, "waiting for the claim to be bound (see Bound): no seat before")
		return st
	case st.Gateway == nil:
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPending, "waiting for the certificate to be issued")
		return st
	}
	set(v1alpha1.ConditionGatewayAssigned, true, "Assigned", "Gateway "+st.Gateway.Namespace+"/"+st.Gateway.Name+" of pool "+pool.Name)
	if attached {
		set(v1alpha1.ConditionCertificateAttached, true, "Attached", "in the Gateway's LoadBalancerConfiguration (HTTPS:443)")
	} else {
		set(v1alpha1.ConditionCertificateAttached, false, v1alpha1.ReasonPending, "waiting to be written into the Gateway's LoadBalancerConfiguration")
	}
	if lbHost != "" {
		st.LoadBalancerHostname, st.LoadBalancerZoneID = lbHost, lbZone
		st.DualStack = pool.Spec.Template.IPAddressType != "" && pool.Spec.Template.IPAddressType != "ipv4"
		set(v1alpha1.ConditionLoadBalancerReady, true, "Programmed", "load balancer "+lbHost)
	} else {
		set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonPending, "waiting for the AWS Load Balancer Controller to program Gateway "+st.Gateway.Name+" (status.addresses and Programmed=True)")
	}
	if admitted {
		set(v1alpha1.ConditionRoutesAllowed, true, "Allowed", "listener "+c.Name+" of the Gateway serves "+c.Spec.Hostname+" to routes of namespace "+c.Spec.Namespace+" only")
	} else {
		set(v1alpha1.ConditionRoutesAllowed, false, v1alpha1.ReasonPending, "waiting for the Gateway's listener "+c.Name+" to admit namespace "+c.Spec.Namespace)
	}
	return st
}
