package preflight

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// gatewayAPI is Gateway API's v1 (the module's SchemeGroupVersion is deprecated).
var gatewayAPI = schema.GroupVersion{Group: gwv1.GroupName, Version: "v1"}

// requiredKinds are the kinds the orchestrator watches and indexes whatever it is configured to
// do, each group with what installs it. Kinds it watches only when served (ListenerSet, TLSRoute,
// LBC's) are not among them.
var requiredKinds = []struct {
	kinds   []schema.GroupVersionKind
	install string
}{
	{
		kinds: []schema.GroupVersionKind{
			v1alpha1.GroupVersion.WithKind("DomainClaim"),
			v1alpha1.GroupVersion.WithKind("ManagedZone"),
			v1alpha1.GroupVersion.WithKind("GatewayPool"),
		},
		install: "install the orchestrator's CRDs (the Helm chart installs them from its crds/ directory; deploy/crd has them for kubectl apply)",
	},
	{
		kinds: []schema.GroupVersionKind{
			gatewayAPI.WithKind("GatewayClass"),
			gatewayAPI.WithKind("Gateway"),
			gatewayAPI.WithKind("HTTPRoute"),
			gatewayAPI.WithKind("GRPCRoute"),
		},
		install: "install the Gateway API CRDs, standard channel v1.1 or later (GRPCRoute is v1 from v1.1), before the orchestrator (docs/install-eks.md, step 3)",
	},
}

// Kinds checks that the API server serves every kind the orchestrator needs at all (its own, and
// Gateway API's), so that a missing CRD stops the pod with what to install instead of an error
// about a cache index. mapper should discover kinds (the manager's RESTMapper does).
func Kinds(mapper meta.RESTMapper) error {
	var problems []string
	for _, group := range requiredKinds {
		var missing []string
		for _, k := range group.kinds {
			_, err := mapper.RESTMapping(k.GroupKind(), k.Version)
			switch {
			case meta.IsNoMatchError(err):
				missing = append(missing, k.Kind)
			case err != nil:
				return fmt.Errorf("looking up whether the API server serves %s: %w", k, err)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("the API server does not serve %s (%s): %s",
				strings.Join(missing, ", "), group.kinds[0].GroupVersion(), group.install))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
