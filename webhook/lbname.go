package webhook

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// loadBalancerName denies an object (what, for example "an Ingress"; subject) whose field path
// names (value) an ALB that is not its namespace's to name (ownership.DecideLoadBalancerName): a pool Gateway's, one another
// namespace's Gateway or Ingress is on or named first, or one of the shape LBC generates that no
// object of ns is on. ELB's CreateLoadBalancer is idempotent: the same name with the same
// settings returns the existing load balancer, so LBC would adopt that ALB for the object and
// rewrite its listeners and rules. The holders are read from the cache through
// index.LoadBalancerName (status addresses and hostnames, lbc.ALBNameFromDNS, and Ingresses'
// load-balancer-name annotations); names compare case-insensitively.
func (door *Door) loadBalancerName(ctx context.Context, path *field.Path, what string, subject ownership.NameSubject, value string) (field.ErrorList, error) {
	if value == "" || door.Reader == nil {
		return nil, nil
	}
	holders, err := ownership.ALBHolders(ctx, door.Reader, value)
	if err != nil {
		return nil, err
	}
	ns := subject.Namespace
	v := ownership.DecideLoadBalancerName(subject, value, holders)
	if v.Reason == "" {
		return nil, nil
	}
	door.Metrics.decision(v.Reason)
	switch v.Reason {
	case v1alpha1.ReasonPoolLoadBalancerName:
		h := v.Holder.Object
		return field.ErrorList{field.Forbidden(path, fmt.Sprintf(
			"load balancer name %q is the shared ALB of pool Gateway %s/%s (GatewayPool %s); %s of namespace %s may not name it, since the AWS Load Balancer Controller would take that ALB over from every tenant: remove the name, or choose one no pool Gateway uses",
			value, h.GetNamespace(), h.GetName(), v.Holder.Pool, what, ns))}, nil
	case v1alpha1.ReasonForeignLoadBalancerName:
		h := v.Holder.Object
		return field.ErrorList{field.Forbidden(path, fmt.Sprintf(
			"load balancer name %q is the ALB of %s %s/%s of namespace %s (it is on that ALB, or named it first); %s of namespace %s may not name it, since the AWS Load Balancer Controller would take that ALB over: remove the name, or choose one of your own",
			value, v.Holder.Kind, h.GetNamespace(), h.GetName(), h.GetNamespace(), what, ns))}, nil
	default:
		return field.ErrorList{field.Forbidden(path, fmt.Sprintf(
			"load balancer name %q has the shape of the names the AWS Load Balancer Controller generates for the ALBs of Gateways and IngressGroups (k8s-<namespace>-<name>-<hash> or k8s-<group>-<hash>), and no Gateway or Ingress of namespace %s is on or names that ALB; it may be another namespace's, now or once created: remove the name, or choose one that does not end in a 10-digit hex hash",
			value, ns))}, nil
	}
}

// nameSubject is the ownership.NameSubject of obj, in IngressGroup group, naming an ALB that
// is new to it (a create, or an update that changes the name, which ELB compares
// case-insensitively: named now, after every other holder) or that it named before (since its
// creation).
func nameSubject(obj metav1.Object, group string, named bool) ownership.NameSubject {
	s := ownership.NameSubject{Namespace: obj.GetNamespace(), Group: group, UID: obj.GetUID()}
	if named {
		s.Since = obj.GetCreationTimestamp().Time
	}
	return s
}
