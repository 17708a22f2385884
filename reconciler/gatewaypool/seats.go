package gatewaypool

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/albrules"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// ELB is the part of the ELBv2 client the pool uses: the ALB's canonical hosted zone ID, which
// an ALIAS record needs, is not in Gateway status.
type ELB interface {
	DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
}

// claimsOf returns the claims of the zones this pool serves, oldest first. They are shared with
// the cache and must not be changed.
func (r *Reconciler) claimsOf(ctx context.Context, pool *v1alpha1.GatewayPool) ([]*v1alpha1.DomainClaim, error) {
	var zones v1alpha1.ManagedZoneList
	if err := r.Client.List(ctx, &zones, client.MatchingFields{index.ZonePool: pool.Name}); err != nil {
		return nil, err
	}
	var out []*v1alpha1.DomainClaim
	for _, z := range zones.Items {
		var l v1alpha1.DomainClaimList
		// The cache's own objects, not copies: a pool reconcile reads every claim of the pool, and
		// nothing here changes them (Plan copies what it changes; apply writes copies).
		if err := r.Client.List(ctx, &l, client.MatchingFields{index.ClaimZone: z.Name}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
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

// seat is what a claim needs on a Gateway: its certificate, the ALB rules LBC makes for the
// owner's HTTPRoutes and GRPCRoutes on its hostname (one per route rule, match and hostname the
// claim answers for: LBC 3.4.3+; an HTTPRoute's on the HTTP listener too when the pool has one,
// since the ALB's rule quota counts every listener's rules: see albrules), and LBC's target groups for them (one per Gateway, route,
// Service backend and port). A route whose hostnames sit on several Gateways is counted on each
// for the hostnames seated there. The routes are those listing the hostname in any namespace
// (the RouteHostname index); only the owner's count.
func seat(c *v1alpha1.DomainClaim, https []gwv1.HTTPRoute, grpcs []gwv1.GRPCRoute, claimNames map[string]bool, httpListener bool) Seat {
	need := Seat{Certificates: 1}
	for i := range https {
		rt := &https[i]
		n := hostnamesOf(c, rt.Spec.Hostnames, claimNames)
		if rt.Namespace != c.Spec.Namespace || n == 0 {
			continue
		}
		need.Rules += albrules.HTTPRoute(rt, c.Name, httpListener) * n
		need.Routes = append(need.Routes, "HTTPRoute "+rt.Namespace+"/"+rt.Name)
		for _, rule := range rt.Spec.Rules {
			for _, b := range rule.BackendRefs {
				need.TargetGroups = appendTargetGroup(need.TargetGroups, "HTTPRoute", rt.Namespace, rt.Name, b.BackendRef)
			}
		}
	}
	for i := range grpcs {
		rt := &grpcs[i]
		n := hostnamesOf(c, rt.Spec.Hostnames, claimNames)
		if rt.Namespace != c.Spec.Namespace || n == 0 {
			continue
		}
		need.Rules += albrules.GRPCRoute(rt) * n
		need.Routes = append(need.Routes, "GRPCRoute "+rt.Namespace+"/"+rt.Name)
		for _, rule := range rt.Spec.Rules {
			for _, b := range rule.BackendRefs {
				need.TargetGroups = appendTargetGroup(need.TargetGroups, "GRPCRoute", rt.Namespace, rt.Name, b.BackendRef)
			}
		}
	}
	need.Rules = max(1, need.Rules)
	sort.Strings(need.TargetGroups)
	return need
}

// appendTargetGroup adds the target group of a Service backend (other kinds make none), once.
func appendTargetGroup(keys []string, kind, ns, name string, b gwv1.BackendRef) []string {
	if b.Group != nil && *b.Group != "" || b.Kind != nil && *b.Kind != "Service" {
		return keys
	}
	svcNS := ns
	if b.Namespace != nil {
		svcNS = string(*b.Namespace)
	}
	port := int32(0)
	if b.Port != nil {
		port = int32(*b.Port)
	}
	k := TargetGroupKey(kind, ns, name, svcNS, string(b.Name), port)
	if slices.Contains(keys, k) {
		return keys
	}
	return append(keys, k)
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
	lb, err := r.hostedZone(ctx, host, unknownRecheck)
	zone = lb.zone
	switch {
	case err != nil:
		return "", "", err
	case zone == "":
		return "", "", &unknownLoadBalancer{host: host}
	}
	return host, zone, nil
}

// unknownLoadBalancer is loadBalancer's error for a Gateway whose address ELBv2 does not know.
type unknownLoadBalancer struct{ host string }

func (e *unknownLoadBalancer) Error() string {
	return "no load balancer with DNS name " + e.host + " in ELBv2"
}

// elbInfo is what ELBv2 says of a load balancer that an ALIAS record needs.
type elbInfo struct {
	// zone is its canonical hosted zone ID.
	zone string
	// dualStack says it has IPv6 addresses too (an AAAA record is due).
	dualStack bool
	// fetched is when ELBv2 said so.
	fetched time.Time
}

// elbInfoTTL is how long what ELBv2 said of a load balancer is used before it is asked again: a
// load balancer's zone never changes, but its IP address type can (ipv4 to dualstack and back),
// and the AAAA record must follow.
const elbInfoTTL = 10 * time.Minute

// hostedZone is what ELBv2 says of the load balancer with DNS name host (cached per name for
// elbInfoTTL; an answer older than that is used only while ELBv2 cannot be asked); a zero elbInfo
// when ELBv2 knows none of that name (then not asked again for recheck about it) or there is no
// ELBv2 client.
func (r *Reconciler) hostedZone(ctx context.Context, host string, recheck time.Duration) (elbInfo, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	var stale *elbInfo
	if z, ok := r.zones.Load(host); ok {
		info := z.(elbInfo)
		if time.Since(info.fetched) < elbInfoTTL {
			return info, nil
		}
		stale = &info
	}
	if r.ELB == nil {
		return elbInfo{}, nil
	}
	if at, ok := r.misses.Load(host); ok && time.Since(at.(time.Time)) < recheck {
		return elbInfo{}, nil
	}
	if wait, s := r.elbBackoff.Wait(describeLoadBalancers, 0, time.Now()); wait > 0 {
		if stale != nil {
			return *stale, nil // no call: the last answer stands
		}
		return elbInfo{}, &backingOff{wait: wait, state: s}
	}
	in := &elbv2.DescribeLoadBalancersInput{}
	now := time.Now()
	var found *elbInfo
	for {
		out, err := r.ELB.DescribeLoadBalancers(ctx, in)
		if err != nil {
			if err := r.elbFailed(ctx, err); stale == nil {
				return elbInfo{}, err
			}
			return *stale, nil
		}
		for _, lb := range out.LoadBalancers {
			name, info := strings.ToLower(aws.ToString(lb.DNSName)), elbInfo{zone: aws.ToString(lb.CanonicalHostedZoneId),
				dualStack: lb.IpAddressType != "" && lb.IpAddressType != elbtypes.IpAddressTypeIpv4, fetched: now}
			r.zones.Store(name, info)
			if name == host {
				found = &info
			}
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	if s, ended := r.elbBackoff.Succeed(describeLoadBalancers); ended {
		logf.FromContext(ctx).Info("AWS call succeeded again after backing off", "call", describeLoadBalancers, "failures", s.Failures, "lastReason", s.Reason)
	}
	if found != nil {
		r.misses.Delete(host)
		return *found, nil
	}
	r.zones.Delete(host) // not (or no longer) in ELBv2
	r.misses.Store(host, time.Now())
	return elbInfo{}, nil
}

// describeLoadBalancers is the call, and the back-off key, of the ALBs' canonical hosted zones.
const describeLoadBalancers = "elasticloadbalancing:DescribeLoadBalancers"

// backingOff is the error of a DescribeLoadBalancers that failed in a way a quick retry cannot
// fix (backoff.Classify), or that waits for the back-off: the pool is looked at again after wait,
// without an error (and its log line) for every reconcile.
type backingOff struct {
	wait  time.Duration
	state backoff.State
}

func (b *backingOff) Error() string { return b.state.Describe() }

// elbFailed backs off a DescribeLoadBalancers that failed persistently, logging once per state
// change; other errors are returned as they are.
func (r *Reconciler) elbFailed(ctx context.Context, err error) error {
	reason := map[backoff.Kind]string{
		backoff.Denied: v1alpha1.ReasonAccessDenied, backoff.Invalid: v1alpha1.ReasonRequestRejected, backoff.Throttled: v1alpha1.ReasonThrottled,
	}[backoff.Classify(err)]
	if reason == "" {
		return err
	}
	now := time.Now()
	s, changed := r.elbBackoff.Fail(describeLoadBalancers, 0, reason, awsclient.Describe(describeLoadBalancers, err), now)
	if changed {
		logf.FromContext(ctx).Info("AWS call failed in a way a quick retry cannot fix; backing off",
			"call", describeLoadBalancers, "reason", reason, "error", s.Message, "nextAttempt", s.Until)
	}
	return &backingOff{wait: s.Until.Sub(now), state: s}
}

// setRefused turns CertificateAttached and LoadBalancerReady False with LBC's own message: what
// the configuration says does not reach the ALB while LBC refuses the Gateway.
func setRefused(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, msg string) {
	for _, typ := range []string{v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady} {
		conditions.Set(&st.Conditions, c.Generation, typ, false, v1alpha1.ReasonNotAccepted, msg)
	}
}

// setStrays sets the claim's StrayRoutes condition, naming the routes of other namespaces that
// list its hostname, and the objects of other namespaces with load balancers of their own that do
// (strayLoadBalancers).
func setStrays(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, strays []string) {
	if len(strays) == 0 {
		conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionStrayRoutes, false, v1alpha1.ReasonNoStrayRoutes,
			"no route of another namespace lists "+c.Spec.Hostname)
		return
	}
	var routes, lbs []string
	for _, s := range strays {
		if strings.HasPrefix(s, "HTTPRoute ") || strings.HasPrefix(s, "GRPCRoute ") {
			routes = append(routes, s)
		} else {
			lbs = append(lbs, s)
		}
	}
	var msgs []string
	if len(routes) > 0 {
		msgs = append(msgs, fmt.Sprintf("routes of other namespaces list %s and are not served it: %s", c.Spec.Hostname, strings.Join(routes, ", ")))
	}
	if len(lbs) > 0 {
		msgs = append(msgs, fmt.Sprintf("load balancers of other namespaces list %s: %s; its ALIAS does not point at them, "+
			"but LBC finds its certificate by hostname for them: their namespaces must remove it", c.Spec.Hostname, strings.Join(lbs, ", ")))
	}
	conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionStrayRoutes, true, v1alpha1.ReasonForeignRoutes, strings.Join(msgs, "; "))
}

// claimStatus sets the pool's part of a claim's status in st (a copy of the claim's status with
// its planned Gateway): the load balancer and the conditions for steps 4, 5, 6 and 8. refusal is
// LBC's verdict on the Gateway ("" when it accepts it), which CertificateAttached and
// LoadBalancerReady report instead of their own (set once, so that their transition times do not
// move on every plan).
func claimStatus(pool *v1alpha1.GatewayPool, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, exhausted string, attached, admitted bool,
	lbHost, lbZone, refusal, unknownLB string) *v1alpha1.DomainClaimStatus {
	set := func(typ string, ok bool, reason, msg string) {
		conditions.Set(&st.Conditions, c.Generation, typ, ok, reason, msg)
	}
	switch {
	case exhausted != "":
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPoolExhausted, exhausted)
		return st
	case st.Gateway == nil && !v1alpha1.ProvisioningAllowed(c):
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonUnbound, "waiting for the claim to be bound (see Bound): an unbound claim gets no Gateway seat")
		return st
	case st.Gateway == nil:
		set(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPending, "waiting for the certificate to be issued")
		return st
	}
	set(v1alpha1.ConditionGatewayAssigned, true, v1alpha1.ReasonAssigned, "Gateway "+st.Gateway.Namespace+"/"+st.Gateway.Name+" of pool "+pool.Name)
	if lbHost != "" {
		st.LoadBalancerHostname, st.LoadBalancerZoneID = lbHost, lbZone
		st.DualStack = pool.Spec.Template.IPAddressType != "" && pool.Spec.Template.IPAddressType != "ipv4"
	}
	switch {
	case refusal != "":
		setRefused(st, c, refusal)
	default:
		if attached {
			set(v1alpha1.ConditionCertificateAttached, true, v1alpha1.ReasonAttached, "in the Gateway's LoadBalancerConfiguration (HTTPS:443)")
		} else {
			set(v1alpha1.ConditionCertificateAttached, false, v1alpha1.ReasonPending, "waiting to be written into the Gateway's LoadBalancerConfiguration")
		}
		switch {
		case lbHost != "":
			set(v1alpha1.ConditionLoadBalancerReady, true, v1alpha1.ReasonProgrammed, "load balancer "+lbHost)
		case unknownLB != "":
			set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonUnknownLoadBalancer, "Gateway "+st.Gateway.Name+" reports load balancer "+unknownLB+
				", which ELBv2 does not know (deleted outside the AWS Load Balancer Controller, or not visible yet); the hostname's ALIAS records stay where they point until the Gateway reports one ELBv2 knows")
		default:
			set(v1alpha1.ConditionLoadBalancerReady, false, v1alpha1.ReasonPending, "waiting for the AWS Load Balancer Controller to program Gateway "+st.Gateway.Name+" (status.addresses and Programmed=True)")
		}
	}
	if admitted {
		set(v1alpha1.ConditionRoutesAllowed, true, v1alpha1.ReasonAllowed, "listener "+c.Name+" of the Gateway serves "+c.Spec.Hostname+" to routes of namespace "+c.Spec.Namespace+" only")
	} else {
		set(v1alpha1.ConditionRoutesAllowed, false, v1alpha1.ReasonPending, "waiting for the Gateway's listener "+c.Name+" to admit namespace "+c.Spec.Namespace)
	}
	return st
}
