package lbc

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const (
	// IngressClass is the ingress class name the AWS Load Balancer Controller serves by default.
	IngressClass = "alb"
	// IngressController is the controller of IngressClasses the AWS Load Balancer Controller
	// serves, whatever their name.
	IngressController = "ingress.k8s.aws/alb"
	// DefaultClassAnnotation marks the cluster's default IngressClass.
	DefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"
)

// ServesIngress reports whether the AWS Load Balancer Controller serves ing, or may come to serve
// it without the Ingress being written again, reading IngressClasses from r (nil: only the class
// "alb" is LBC's). Its class is spec.ingressClassName, else the kubernetes.io/ingress.class
// annotation. A class "alb", or an IngressClass whose controller is ingress.k8s.aws/alb, is LBC's;
// so is a class no IngressClass exists for yet, since an admin may create it as LBC's. An Ingress
// without a class is LBC's unless the cluster's default IngressClass is another controller's: LBC
// serves Ingresses without a class once its class is the default, and an admin may make it the
// default later.
func ServesIngress(ctx context.Context, r client.Reader, ing *networkingv1.Ingress) (bool, error) {
	class := ing.Annotations[IngressClassAnnotation]
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	if class == IngressClass {
		return true, nil
	}
	if r == nil {
		return false, nil
	}
	if class != "" {
		ic := &networkingv1.IngressClass{}
		if err := r.Get(ctx, client.ObjectKey{Name: class}, ic); err != nil {
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		}
		return ic.Spec.Controller == IngressController, nil
	}
	var classes networkingv1.IngressClassList
	if err := r.List(ctx, &classes); err != nil {
		return false, err
	}
	otherDefault := false
	for _, ic := range classes.Items {
		if ic.Annotations[DefaultClassAnnotation] == "true" {
			if ic.Spec.Controller == IngressController {
				return true, nil
			}
			otherDefault = true
		}
	}
	return !otherDefault, nil
}

// ServesGateway reports whether the AWS Load Balancer Controller's ALB controller serves gw, or
// may come to serve it without the Gateway being written again, reading its GatewayClass from r:
// the class's controllerName is ControllerName, or no GatewayClass of that name exists yet (an
// admin may create it as LBC's), as for an Ingress's class (ServesIngress).
func ServesGateway(ctx context.Context, r client.Reader, gw *gwv1.Gateway) (bool, error) {
	gc := &gwv1.GatewayClass{}
	if err := r.Get(ctx, client.ObjectKey{Name: string(gw.Spec.GatewayClassName)}, gc); err != nil {
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}
	return string(gc.Spec.ControllerName) == ControllerName, nil
}

// ServesListenerSet reports whether ls's listeners reach an ALB of the AWS Load Balancer
// Controller: its parent Gateway is one LBC serves (ServesGateway), or does not exist yet.
func ServesListenerSet(ctx context.Context, r client.Reader, ls *gwv1.ListenerSet) (bool, error) {
	ref := ls.Spec.ParentRef
	if (ref.Group != nil && *ref.Group != gwv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
		return false, nil
	}
	ns := ls.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	gw := &gwv1.Gateway{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: string(ref.Name)}, gw); err != nil {
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}
	return ServesGateway(ctx, r, gw)
}
