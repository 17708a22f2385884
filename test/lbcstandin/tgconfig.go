package lbcstandin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TargetGroupConfigVerdict is why LBC v3 cannot build or deploy the target group of an attached
// route's Service on an ALB, or "": the Service's TargetGroupConfiguration (in the Service's
// namespace, spec.targetReference naming it) sets, for that route (lbc.Layers: LBC's longest
// match over the default), a setting of lbc.ALBIncompatible. LBC fails the build of the whole
// Gateway then, as for any target group it cannot make. services holds the Services the
// configurations target, where known.
func TargetGroupConfigVerdict(attached []Route, cfgs []lbc.TargetGroupConfiguration, services map[types.NamespacedName]*corev1.Service) string {
	for _, rt := range attached {
		for _, rule := range rt.Rules {
			for _, sp := range rule.Services {
				for i := range cfgs {
					c := &cfgs[i]
					if c.Namespace != sp.Service.Namespace || c.Service() != sp.Service.Name {
						continue
					}
					if bad := lbc.ALBIncompatible(c.Layers(rt.Kind, rt.Namespace, rt.Name), services[sp.Service]); len(bad) > 0 {
						return fmt.Sprintf("%s %s/%s: TargetGroupConfiguration %s/%s of Service %s: %s %q: %s",
							rt.Kind, rt.Namespace, rt.Name, c.Namespace, c.Name, sp.Service.Name, bad[0].Path, bad[0].Value, bad[0].Why)
					}
					break // LBC takes the first configuration of the Service
				}
			}
		}
	}
	return ""
}

// targetGroupConfigs reads the TargetGroupConfigurations (none where the kind is not served) and
// the Services they target.
func (s *StandIn) targetGroupConfigs(ctx context.Context) ([]lbc.TargetGroupConfiguration, map[types.NamespacedName]*corev1.Service, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(lbc.TargetGroupConfigurationGVK.GroupVersion().WithKind(lbc.TargetGroupConfigurationGVK.Kind + "List"))
	if err := s.Client.List(ctx, l); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var cfgs []lbc.TargetGroupConfiguration
	services := map[types.NamespacedName]*corev1.Service{}
	for i := range l.Items {
		c := lbc.TargetGroupConfiguration{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(l.Items[i].Object, &c); err != nil {
			continue // LBC could not read it either
		}
		cfgs = append(cfgs, c)
		if c.Service() == "" {
			continue
		}
		key := types.NamespacedName{Namespace: c.Namespace, Name: c.Service()}
		svc := &corev1.Service{}
		if err := s.Client.Get(ctx, key, svc); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return nil, nil, err
			}
			continue
		}
		services[key] = svc
	}
	return cfgs, services, nil
}
