package ownership

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// ALBHolder is a Gateway or Ingress that is on an ALB of a given name (its status says so), or
// an Ingress the AWS Load Balancer Controller serves that names it in its load-balancer-name
// annotation, or an LBC LoadBalancerConfiguration that names it in spec.loadBalancerName.
type ALBHolder struct {
	// Object is the *gwv1.Gateway, *networkingv1.Ingress or the configuration's
	// *unstructured.Unstructured.
	Object client.Object
	// Kind is "Gateway", "Ingress" or "LoadBalancerConfiguration".
	Kind string
	// Pool is the GatewayPool of a pool Gateway or of a pool's own configuration, else "".
	Pool string
	// Group is the IngressGroup an Ingress's annotation puts it in, else "".
	Group string
	// On is set when the object's status says it is on the ALB (not only naming it).
	On bool
}

// ALBHolders returns the Gateways and Ingresses on, or naming, the ALB called name, and the
// LoadBalancerConfigurations naming it where LBC's CRD is served, read through
// index.LoadBalancerName (three lookups, case-insensitive), pool objects marked. An Ingress that
// only names the ALB counts only if LBC serves it (lbc.ServesIngress): the admission webhook
// checks no other Ingress's annotation, so another class's Ingress could otherwise make any name
// its namespace's, or squat it for every other namespace.
func ALBHolders(ctx context.Context, r client.Reader, name string) ([]ALBHolder, error) {
	key := client.MatchingFields{index.LoadBalancerName: strings.ToLower(name)}
	var gws gwv1.GatewayList
	if err := r.List(ctx, &gws, key); err != nil {
		return nil, fmt.Errorf("listing the Gateways on ALB %q: %w", name, err)
	}
	var ings networkingv1.IngressList
	if err := r.List(ctx, &ings, key); err != nil {
		return nil, fmt.Errorf("listing the Ingresses on ALB %q: %w", name, err)
	}
	out := make([]ALBHolder, 0, len(gws.Items)+len(ings.Items))
	for i := range gws.Items {
		gw := &gws.Items[i]
		pool, err := PoolObject(ctx, r, gw)
		if err != nil {
			return nil, err
		}
		h := ALBHolder{Object: gw, Kind: "Gateway", On: true}
		if pool {
			h.Pool = gw.Labels[v1alpha1.LabelPool]
		}
		out = append(out, h)
	}
	for i := range ings.Items {
		ing := &ings.Items[i]
		on := slices.ContainsFunc(ing.Status.LoadBalancer.Ingress, func(lb networkingv1.IngressLoadBalancerIngress) bool {
			n, ok := lbc.ALBNameFromDNS(lb.Hostname)
			return ok && strings.EqualFold(n, name)
		})
		if !on {
			served, err := lbc.ServesIngress(ctx, r, ing)
			if err != nil {
				return nil, fmt.Errorf("reading the class of Ingress %s/%s: %w", ing.Namespace, ing.Name, err)
			}
			if !served {
				continue
			}
		}
		out = append(out, ALBHolder{Object: ing, Kind: "Ingress", Group: lbc.ExplicitIngressGroup(ing.Annotations), On: on})
	}
	cfgs := lbc.NewUnstructuredList()
	if err := r.List(ctx, cfgs, key); err != nil {
		if meta.IsNoMatchError(err) {
			return out, nil
		}
		return nil, fmt.Errorf("listing the LoadBalancerConfigurations naming ALB %q: %w", name, err)
	}
	for i := range cfgs.Items {
		cfg := &cfgs.Items[i]
		h := ALBHolder{Object: cfg, Kind: "LoadBalancerConfiguration"}
		pool, err := PoolObject(ctx, r, cfg)
		if err != nil {
			return nil, err
		}
		if pool {
			h.Pool = cfg.GetLabels()[v1alpha1.LabelPool]
		}
		out = append(out, h)
	}
	return out, nil
}

// LoadBalancerNameVerdict is the decision on an explicit ALB name: Reason is "" when the name
// may be used, else v1alpha1.ReasonPoolLoadBalancerName, ReasonForeignLoadBalancerName or
// ReasonGeneratedLoadBalancerName, with Holder the object whose ALB it is (nil for the last).
type LoadBalancerNameVerdict struct {
	Reason string
	Holder *ALBHolder
}

// NameSubject is the object that sets an explicit ALB name.
type NameSubject struct {
	// Namespace is the object's namespace.
	Namespace string
	// Group is its explicit IngressGroup, "" for none.
	Group string
	// UID is the object's UID ("" on create): the object's own naming (its old self in the
	// cache) makes no name its own; only its status does.
	UID types.UID
	// Since is when it began to name the ALB: its creation, or zero for now (a create, or an
	// update that changes the name), so that every other holder came first.
	Since time.Time
}

// DecideLoadBalancerName decides whether subject may set the explicit ALB name name, given the
// holders of that name (ALBHolders). ELB's CreateLoadBalancer returns the existing load balancer
// for a name it has (same settings), so the AWS Load Balancer Controller adopts whatever ALB the
// name is and rewrites its listeners and rules. The first rule that applies decides:
//
//  1. the ALB of a pool Gateway is every tenant's: PoolLoadBalancerName;
//  2. an ALB that an object of another namespace is on or names, and did so before subject
//     (created no later than subject began to name it), or is on under the name LBC generates
//     for it (lbc.GeneratedFor: naming it first was the pre-naming this rule is about), is that
//     namespace's: ForeignLoadBalancerName. Members of the same explicit IngressGroup share one ALB by design
//     and are no other namespace;
//  3. a name of the shape LBC generates (lbc.GeneratedShape) that no object of subject's
//     namespace is on or names (subject itself only by being on it) may be another namespace's ALB, now (a Gateway whose status does
//     not say it yet) or once created (LBC hashes an Ingress's namespace/name or group name, and
//     pool Gateways are made as the pool grows): GeneratedLoadBalancerName.
//
// Any other name is the namespace's own to choose.
func DecideLoadBalancerName(subject NameSubject, name string, holders []ALBHolder) LoadBalancerNameVerdict {
	if name == "" {
		return LoadBalancerNameVerdict{}
	}
	var foreign *ALBHolder
	own := false
	for i := range holders {
		h := &holders[i]
		switch {
		case subject.UID != "" && h.Object.GetUID() == subject.UID:
			own = own || h.On
		case h.Pool != "":
			return LoadBalancerNameVerdict{Reason: v1alpha1.ReasonPoolLoadBalancerName, Holder: h}
		case h.Object.GetNamespace() == subject.Namespace || subject.Group != "" && h.Group == subject.Group:
			own = true
		case foreign == nil && (subject.Since.IsZero() || !h.Object.GetCreationTimestamp().After(subject.Since) ||
			h.On && lbc.GeneratedFor(name, h.Object.GetNamespace(), h.Object.GetName(), h.Group)):
			foreign = h
		}
	}
	if foreign != nil {
		return LoadBalancerNameVerdict{Reason: v1alpha1.ReasonForeignLoadBalancerName, Holder: foreign}
	}
	if !own && lbc.GeneratedShape(name) {
		return LoadBalancerNameVerdict{Reason: v1alpha1.ReasonGeneratedLoadBalancerName}
	}
	return LoadBalancerNameVerdict{}
}
