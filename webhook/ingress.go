package webhook

import (
	"context"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

const (
	// ALBIngressClass is the ingress class name the AWS Load Balancer Controller serves by default.
	ALBIngressClass = lbc.IngressClass
	// ALBIngressController is the controller of IngressClasses the AWS Load Balancer Controller
	// serves, whatever their name.
	ALBIngressController = lbc.IngressController
	// annotationDefaultClass marks the cluster's default IngressClass.
	annotationDefaultClass = lbc.DefaultClassAnnotation
)

// +kubebuilder:webhook:path=/validate-networking-k8s-io-v1-ingress,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=networking.k8s.io,resources=ingresses,verbs=create;update,versions=v1,name=vingress.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"has-hosts-or-a-catch-all-that-may-be-grouped","expression":"(has(object.spec.rules) && object.spec.rules.exists(r, has(r.host) && r.host != '')) || (has(object.spec.tls) && object.spec.tls.exists(t, has(t.hosts) && size(t.hosts) > 0)) || ((has(object.spec.defaultBackend) || (has(object.spec.rules) && object.spec.rules.exists(r, (!has(r.host) || r.host == '') && has(r.http)))) && (!has(object.metadata.annotations) || 'alb.ingress.kubernetes.io/group.name' in object.metadata.annotations || !('kubernetes.io/ingress.class' in object.metadata.annotations))) || (has(object.metadata.annotations) && ('alb.ingress.kubernetes.io/certificate-arn' in object.metadata.annotations || 'alb.ingress.kubernetes.io/load-balancer-name' in object.metadata.annotations || object.metadata.annotations.exists(k, k.startsWith('alb.ingress.kubernetes.io/conditions.'))))"}]}`
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;ingressclasses,verbs=get;list;watch

// IngressValidator checks the hosts of Ingresses the AWS Load Balancer Controller would serve
// (spec.rules[].host, spec.tls[].hosts and the host-header values of the
// alb.ingress.kubernetes.io/conditions.* annotations, which LBC ORs into the rules' host
// condition): a host under a ManagedZone is claimed or denied
// exactly like a route hostname, because LBC finds ACM certificates for Ingress hosts by name
// and would put the owner's certificate on another namespace's load balancer. Hosts outside
// every zone, and Ingresses of other controllers' IngressClasses, pass untouched. An Ingress of
// an explicit IngressGroup may not mix a catch-all with another namespace's managed hostnames on
// the group's shared ALB (GroupCatchAll). The matchCondition sends an Ingress without hosts only
// when it has a catch-all and may be in a group: it names one, or its class (field, or none) may
// have IngressClassParams that impose one, which CEL cannot read. A hostless Ingress classified
// by the kubernetes.io/ingress.class annotation and naming no group skips the webhook, unless it
// has a conditions or certificate-arn annotation: the certificate-arn annotation may not name
// the certificate of another namespace's claim (ingressCertificates).
type IngressValidator Door

var _ admission.Validator[*networkingv1.Ingress] = &IngressValidator{}

// ValidateCreate implements admission.Validator.
func (v *IngressValidator) ValidateCreate(ctx context.Context, ing *networkingv1.Ingress) (admission.Warnings, error) {
	return v.validate(ctx, nil, ing)
}

// validate checks ing; old is its previous version on update, else nil.
func (v *IngressValidator) validate(ctx context.Context, old, ing *networkingv1.Ingress) (admission.Warnings, error) {
	door := (*Door)(v)
	served, err := door.servedByLBC(ctx, ing)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("reading the Ingress's class: %w", err))
	}
	if !served {
		return nil, nil
	}
	e := Entrance{
		Kind:        schema.GroupKind{Group: networkingv1.GroupName, Kind: "Ingress"},
		Namespace:   ing.Namespace,
		Name:        ObjectName(ing.Name, ing.GenerateName),
		ManagedOnly: true,
	}
	for i, r := range ing.Spec.Rules {
		if r.Host != "" {
			e.Hosts = append(e.Hosts, Host{Path: field.NewPath("spec", "rules").Index(i).Child("host"), Name: r.Host})
		}
	}
	for i, t := range ing.Spec.TLS {
		for j, h := range t.Hosts {
			e.Hosts = append(e.Hosts, Host{Path: field.NewPath("spec", "tls").Index(i).Child("hosts").Index(j), Name: h})
		}
	}
	e.Hosts = append(e.Hosts, conditionHosts(ing)...)
	errs, err := door.ingressGroup(ctx, ing)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("reading the Ingress's IngressGroup: %w", err))
	}
	certErrs, err := door.ingressCertificates(ctx, ing)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	name := ing.Annotations[lbc.LoadBalancerNameAnnotation]
	named := old != nil && strings.EqualFold(old.Annotations[lbc.LoadBalancerNameAnnotation], name)
	nameErrs, err := door.loadBalancerName(ctx, annotationKey(lbc.LoadBalancerNameAnnotation), "an Ingress",
		nameSubject(ing, lbc.ExplicitIngressGroup(ing.Annotations), named), name)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	e.Errs = append(append(errs, certErrs...), nameErrs...)
	return door.Admit(ctx, e)
}

// ValidateUpdate implements admission.Validator: every host is checked again.
func (v *IngressValidator) ValidateUpdate(ctx context.Context, old, ing *networkingv1.Ingress) (admission.Warnings, error) {
	if bookkeeping(old, ing, &old.Spec, &ing.Spec) {
		return nil, nil
	}
	return v.validate(ctx, old, ing)
}

// ValidateDelete implements admission.Validator.
func (v *IngressValidator) ValidateDelete(context.Context, *networkingv1.Ingress) (admission.Warnings, error) {
	return nil, nil
}

// servedByLBC reports whether the AWS Load Balancer Controller serves ing, or may come to serve it
// without the Ingress being written again (lbc.ServesIngress).
func (door *Door) servedByLBC(ctx context.Context, ing *networkingv1.Ingress) (bool, error) {
	return lbc.ServesIngress(ctx, door.Reader, ing)
}
