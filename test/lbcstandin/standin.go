// Package lbcstandin stands in for the AWS Load Balancer Controller in tests and the local run.
// For each Gateway of its class it keeps a load balancer in the AWS-compatible test server with
// an HTTPS:443 listener carrying exactly the certificates the Gateway's LoadBalancerConfiguration
// names (removing any others, as LBC does), and publishes the address and Programmed=True in the
// Gateway's status. Like LBC, it reads certificates only from the configuration, never from
// annotations, holds a finalizer on the Gateways it programs until their load balancer is gone,
// attaches HTTPRoutes and GRPCRoutes by Gateway API's rules (see Attach), keeps each Gateway's
// ALB rule table (see Resolve), reports Accepted=False when the rules or target groups exceed the
// ALB's quotas, discovers certificates by listener hostname when the configuration names none
// (see DiscoverCertificates), and owns the route status entries of its Gateways.
package lbcstandin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// Finalizer is the finalizer LBC puts on the ALB Gateways it programs; it is removed once the
// load balancer is deleted, so a Gateway's deletion takes time.
const Finalizer = "gateway.k8s.aws/alb"

// ControllerName is LBC's controllerName for ALB Gateways, in the route status entries it owns.
const ControllerName = "gateway.k8s.aws/alb"

// StandIn is the LBC stand-in.
type StandIn struct {
	Client client.Client
	ELB    *elbv2.Client
	// ACM finds certificates by hostname for a Gateway whose configuration names none, as LBC
	// does; nil leaves such a Gateway's HTTPS listener without certificates.
	ACM          ACM
	GatewayClass string
	// broken holds Gateways (namespace/name) whose load balancer never becomes ready.
	broken sync.Map
	// held holds Gateways (namespace/name) whose deletion waits until released.
	held sync.Map
	// tables holds each programmed Gateway's ALB rules (namespace/name → []Rule).
	tables sync.Map
	mu     sync.Mutex
	// refusals holds every Accepted=False verdict given to a Gateway (namespace/name), under mu.
	refusals map[string][]string
}

// Break makes a Gateway's load balancer never become ready, as a misconfigured LBC would.
func (s *StandIn) Break(namespace, name string) { s.broken.Store(namespace+"/"+name, true) }

// HoldDeletion keeps a Gateway being deleted (its finalizer stays) until ReleaseDeletion, as a
// slow load balancer deletion would.
func (s *StandIn) HoldDeletion(namespace, name string) { s.held.Store(namespace+"/"+name, true) }

// ReleaseDeletion lets a held Gateway's deletion finish.
func (s *StandIn) ReleaseDeletion(namespace, name string) { s.held.Delete(namespace + "/" + name) }

// Refusals returns every reason the stand-in gave for refusing a Gateway (Accepted=False), in
// order, even those a later reconcile cleared: a test can tell that LBC never refused it.
func (s *StandIn) Refusals(namespace, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals[namespace+"/"+name]...)
}

func (s *StandIn) refused(key, verdict string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals == nil {
		s.refusals = map[string][]string{}
	}
	s.refusals[key] = append(s.refusals[key], verdict)
}

// Rules returns the ALB rules the stand-in last built for a Gateway, in priority order.
func (s *StandIn) Rules(namespace, name string) []Rule {
	if t, ok := s.tables.Load(namespace + "/" + name); ok {
		return t.([]Rule)
	}
	return nil
}

// Resolve answers where the Gateway's ALB sends an HTTPS request for host and path: the backend
// Service of the first matching rule, or false for the default action (no rule matches).
func (s *StandIn) Resolve(gatewayNS, gatewayName, host, path string) (types.NamespacedName, bool) {
	return Resolve(s.Rules(gatewayNS, gatewayName), 443, host, path)
}

// SetupWithManager registers the stand-in.
func (s *StandIn) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("lbc-standin").
		For(&gwv1.Gateway{}).
		Watches(lbc.NewUnstructured(), handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(o)}}
		})).
		Watches(&gwv1.HTTPRoute{}, handler.EnqueueRequestsFromMapFunc(routeToGateways)).
		Watches(&gwv1.GRPCRoute{}, handler.EnqueueRequestsFromMapFunc(routeToGateways)).
		Complete(s)
}

// routeToGateways maps a route to the Gateways it names and those whose status entry it carries.
func routeToGateways(_ context.Context, o client.Object) []reconcile.Request {
	var refs []gwv1.ParentReference
	var st []gwv1.RouteParentStatus
	switch rt := o.(type) {
	case *gwv1.HTTPRoute:
		refs, st = rt.Spec.ParentRefs, rt.Status.Parents
	case *gwv1.GRPCRoute:
		refs, st = rt.Spec.ParentRefs, rt.Status.Parents
	}
	for _, p := range st {
		refs = append(refs, p.ParentRef)
	}
	var reqs []reconcile.Request
	for _, p := range refs {
		ns := o.GetNamespace()
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: string(p.Name)}})
	}
	return reqs
}

// LoadBalancerName is the ALB name the stand-in gives a Gateway, of the shape LBC v3 gives it
// (pkg/gateway/model/model_build_loadbalancer.go): "k8s-", the first 8 letters and digits of the
// namespace and of the name, and 10 hex digits of a SHA-256, 32 characters at most. LBC hashes
// the cluster's name, the Gateway's UID and the scheme; the stand-in hashes namespace/name, so
// that tests can derive the name (and find the ALB after the Gateway is gone).
func LoadBalancerName(ns, name string) string {
	h := sha256.Sum256([]byte(ns + "/" + name))
	return fmt.Sprintf("k8s-%.8s-%.8s-%.10s", alnum(ns), alnum(name), hex.EncodeToString(h[:]))
}

// alnum is s without the characters LBC drops from the parts of a generated name.
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Reconcile implements reconcile.Reconciler.
func (s *StandIn) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	gw := &gwv1.Gateway{}
	if err := s.Client.Get(ctx, req.NamespacedName, gw); err != nil {
		if client.IgnoreNotFound(err) == nil {
			s.tables.Delete(req.String())
			return reconcile.Result{}, s.deleteLB(ctx, LoadBalancerName(req.Namespace, req.Name))
		}
		return reconcile.Result{}, err
	}
	if _, broken := s.broken.Load(req.String()); string(gw.Spec.GatewayClassName) != s.GatewayClass || broken {
		return reconcile.Result{}, nil
	}
	if !gw.DeletionTimestamp.IsZero() {
		if !controllerutil.ContainsFinalizer(gw, Finalizer) {
			return reconcile.Result{}, nil
		}
		if _, held := s.held.Load(req.String()); held {
			return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
		}
		s.tables.Delete(req.String())
		cfg, err := s.configuration(ctx, gw)
		if err != nil {
			return reconcile.Result{}, err
		}
		if cfg == nil {
			cfg = &lbc.LoadBalancerConfiguration{}
		}
		if err := s.deleteLB(ctx, albName(gw, cfg)); err != nil {
			return reconcile.Result{}, err
		}
		patch := client.MergeFrom(gw.DeepCopy())
		controllerutil.RemoveFinalizer(gw, Finalizer)
		return reconcile.Result{}, client.IgnoreNotFound(s.Client.Patch(ctx, gw, patch))
	}
	if !controllerutil.ContainsFinalizer(gw, Finalizer) {
		// Saved before any AWS resource exists, so that none is left behind.
		patch := client.MergeFrom(gw.DeepCopy())
		controllerutil.AddFinalizer(gw, Finalizer)
		if err := s.Client.Patch(ctx, gw, patch); err != nil {
			return reconcile.Result{}, err
		}
	}
	cfg, err := s.configuration(ctx, gw)
	if err != nil {
		return reconcile.Result{}, err
	}
	if cfg == nil {
		// Like LBC, wait for the referenced configuration rather than provision without it.
		return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
	}
	lb, err := s.ensureLB(ctx, albName(gw, cfg), cfg)
	if err != nil {
		return reconcile.Result{}, err
	}
	certs, missing, err := s.certificates(ctx, gw, cfg)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := s.ensureHTTPS(ctx, lb, certs); err != nil {
		return reconcile.Result{}, err
	}
	rules, limits, err := s.routes(ctx, gw)
	if err != nil {
		return reconcile.Result{}, err
	}
	verdict := ""
	widest, width := WidestAction(rules)
	switch {
	case missing != "":
		verdict = missing
	case width > MaxTargetGroupsPerAction:
		verdict = fmt.Sprintf("%s %s/%s forwards a rule to %d target groups, more than the %d an ALB action takes",
			widest.Kind, widest.Namespace, widest.Name, width, MaxTargetGroupsPerAction)
	case limits.matchValues > MaxConditionValuesPerRule:
		verdict = fmt.Sprintf("%s %s/%s has a match needing %d ALB condition values, more than the %d an ALB rule holds",
			limits.widestMatch.Kind, limits.widestMatch.Namespace, limits.widestMatch.Name, limits.matchValues, MaxConditionValuesPerRule)
	case limits.toGateway != nil:
		verdict = fmt.Sprintf("%s %s/%s forwards to a Gateway: ELBv2 makes a target group of target type alb only for a Network Load Balancer",
			limits.toGateway.Kind, limits.toGateway.Namespace, limits.toGateway.Name)
	case limits.unknownTargetGroup != "":
		verdict = fmt.Sprintf("a route forwards to target group %q, which does not exist", limits.unknownTargetGroup)
	case len(rules) > MaxRulesPerALB:
		verdict = fmt.Sprintf("the routes need %d ALB rules, more than the %d an ALB holds", len(rules), MaxRulesPerALB)
	case limits.targetGroups > MaxTargetGroupsPerALB:
		verdict = fmt.Sprintf("the routes need %d target groups, more than the %d an ALB holds", limits.targetGroups, MaxTargetGroupsPerALB)
	}
	if verdict == "" {
		return reconcile.Result{}, s.publish(ctx, gw, aws.ToString(lb.DNSName), verdict)
	}
	// LBC retries a failed deploy with back-off: a certificate issued later, or routes that
	// shrink, get the Gateway deployed without any change to the Gateway itself.
	s.refused(req.String(), verdict)
	return reconcile.Result{RequeueAfter: RetryFailedDeploy}, s.publish(ctx, gw, aws.ToString(lb.DNSName), verdict)
}

// configuration returns the LoadBalancerConfiguration gw's parametersRef names (an empty one
// when it names none), or nil when the named one does not exist (yet).
func (s *StandIn) configuration(ctx context.Context, gw *gwv1.Gateway) (*lbc.LoadBalancerConfiguration, error) {
	ref := gw.Spec.Infrastructure
	if ref == nil || ref.ParametersRef == nil {
		return &lbc.LoadBalancerConfiguration{}, nil
	}
	u := lbc.NewUnstructured()
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: ref.ParametersRef.Name}, u); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return lbc.FromUnstructured(u)
}

// albName is the name of gw's ALB: the configuration's loadBalancerName when it sets one (as
// LBC), else LoadBalancerName. The stand-in creates, adopts and deletes the ALB by this name:
// ELB's create is idempotent, so a Gateway naming another's ALB takes it over, and deletes it
// when it goes.
func albName(gw *gwv1.Gateway, cfg *lbc.LoadBalancerConfiguration) string {
	if cfg.Spec.LoadBalancerName != "" {
		return cfg.Spec.LoadBalancerName
	}
	return LoadBalancerName(gw.Namespace, gw.Name)
}

// RetryFailedDeploy is how soon the stand-in tries a Gateway whose deploy failed again.
const RetryFailedDeploy = time.Second

func (s *StandIn) ensureLB(ctx context.Context, name string, cfg *lbc.LoadBalancerConfiguration) (*elbtypes.LoadBalancer, error) {
	out, err := s.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if err == nil && len(out.LoadBalancers) == 1 {
		return &out.LoadBalancers[0], nil
	}
	var nf *elbtypes.LoadBalancerNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return nil, err
	}
	scheme := cfg.Spec.Scheme
	if scheme == "" {
		scheme = "internal" // LBC's default
	}
	ipType := cfg.Spec.IPAddressType
	if ipType == "" {
		ipType = "ipv4"
	}
	created, err := s.ELB.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Scheme: elbtypes.LoadBalancerSchemeEnum(scheme), IpAddressType: elbtypes.IpAddressType(ipType),
		Type: elbtypes.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return nil, err
	}
	return &created.LoadBalancers[0], nil
}

// ensureHTTPS makes the HTTPS:443 listener carry exactly the configured certificates.
func (s *StandIn) ensureHTTPS(ctx context.Context, lb *elbtypes.LoadBalancer, want gatewaypool.ListenerCertificates) error {
	ls, err := s.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil {
		return err
	}
	var https *elbtypes.Listener
	for i := range ls.Listeners {
		if aws.ToInt32(ls.Listeners[i].Port) == 443 {
			https = &ls.Listeners[i]
		}
	}
	if want.DefaultCertificate == "" {
		if https != nil {
			_, err := s.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: https.ListenerArn})
			return err
		}
		return nil
	}
	if https == nil {
		out, err := s.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443),
			Certificates:   []elbtypes.Certificate{{CertificateArn: aws.String(want.DefaultCertificate)}},
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}},
		})
		if err != nil {
			return err
		}
		https = &out.Listeners[0]
	}
	certs, err := s.ELB.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: https.ListenerArn})
	if err != nil {
		return err
	}
	have := map[string]bool{}
	currentDefault := ""
	for _, c := range certs.Certificates {
		if aws.ToBool(c.IsDefault) {
			currentDefault = aws.ToString(c.CertificateArn)
		} else {
			have[aws.ToString(c.CertificateArn)] = true
		}
	}
	if currentDefault != want.DefaultCertificate {
		if _, err := s.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: https.ListenerArn,
			Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(want.DefaultCertificate)}}}); err != nil {
			return err
		}
		delete(have, want.DefaultCertificate)
	}
	wantSet := map[string]bool{}
	var add []elbtypes.Certificate
	for _, a := range want.Certificates {
		wantSet[a] = true
		if !have[a] {
			add = append(add, elbtypes.Certificate{CertificateArn: aws.String(a)})
		}
	}
	var remove []elbtypes.Certificate
	for a := range have {
		if !wantSet[a] {
			remove = append(remove, elbtypes.Certificate{CertificateArn: aws.String(a)})
		}
	}
	if len(add) > 0 {
		if _, err := s.ELB.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: add}); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		if _, err := s.ELB.RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: remove}); err != nil {
			return err
		}
	}
	return nil
}

// publish writes the address, Programmed=True, and Accepted: False with the reason when the
// Gateway's routes could not be deployed (LBC keeps Programmed as it was).
func (s *StandIn) publish(ctx context.Context, gw *gwv1.Gateway, dns, failure string) error {
	patch := client.MergeFrom(gw.DeepCopy())
	gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.HostnameAddressType), Value: dns}}
	meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue,
		Reason: string(gwv1.GatewayReasonProgrammed), Message: "lbc stand-in", ObservedGeneration: gw.Generation})
	accepted := metav1.Condition{Type: string(gwv1.GatewayConditionAccepted), Status: metav1.ConditionTrue,
		Reason: string(gwv1.GatewayReasonAccepted), Message: "lbc stand-in", ObservedGeneration: gw.Generation}
	if failure != "" {
		accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid), failure
	}
	meta.SetStatusCondition(&gw.Status.Conditions, accepted)
	return s.Client.Status().Patch(ctx, gw, patch)
}

func (s *StandIn) deleteLB(ctx context.Context, name string) error {
	out, err := s.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	var nf *elbtypes.LoadBalancerNotFoundException
	if err != nil {
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	for _, lb := range out.LoadBalancers {
		if _, err := s.ELB.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
			return fmt.Errorf("deleting load balancer %s: %w", name, err)
		}
	}
	return nil
}
