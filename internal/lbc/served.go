package lbc

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
