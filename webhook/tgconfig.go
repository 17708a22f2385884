package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// The API server calls this webhook only where LBC's TargetGroupConfiguration CRD is installed,
// and only for configurations that set a target group name (the matchCondition); it lists the
// other configurations from the API server (they are few, and not cached).
// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=targetgroupconfigurations,verbs=list
// +kubebuilder:webhook:path=/validate-gateway-k8s-aws-v1beta1-targetgroupconfiguration,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.k8s.aws,resources=targetgroupconfigurations,verbs=create;update,versions=v1beta1,name=vtargetgroupconfiguration.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"names-target-groups","expression":"has(object.spec) && (has(object.spec.defaultConfiguration) && has(object.spec.defaultConfiguration.targetGroupName) || has(object.spec.routeConfigurations) && object.spec.routeConfigurations.exists(r, has(r.targetGroupProps) && has(r.targetGroupProps.targetGroupName)))"}]}`

// TargetGroupConfigPath is where the TargetGroupConfiguration webhook is served.
const TargetGroupConfigPath = "/validate-gateway-k8s-aws-v1beta1-targetgroupconfiguration"

// TargetGroupConfigValidator denies an LBC TargetGroupConfiguration that names a target group
// (defaultConfiguration.targetGroupName, routeConfigurations[].targetGroupProps.targetGroupName)
// with a name of the shape LBC generates for the target groups of routes. ELBv2's
// CreateTargetGroup is idempotent: LBC asking for a name that a target group already has gets that
// target group, so a tenant naming the generated target group of another team's route on a pool
// ALB would have its own hostname's rules forward to that team's Services. The name's hash covers
// inputs any reader of the routes knows but the cluster's name, so such names are computable. A
// name another namespace's configuration already sets is denied too (the first keeps it; ELBv2
// compares names case-insensitively).
type TargetGroupConfigValidator struct {
	// Reader lists TargetGroupConfigurations (the API server: the kind is not cached).
	Reader client.Reader
}

var _ admission.Validator[*lbc.TargetGroupConfiguration] = &TargetGroupConfigValidator{}

// registerTargetGroupConfig serves the TargetGroupConfiguration webhook, decoding with a scheme of
// its own holding only lbc.TargetGroupConfiguration (fields it does not declare are ignored).
func registerTargetGroupConfig(mgr manager.Manager) {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(lbc.TargetGroupConfigurationGVK, &lbc.TargetGroupConfiguration{})
	mgr.GetWebhookServer().Register(TargetGroupConfigPath,
		admission.WithValidator[*lbc.TargetGroupConfiguration](s, &TargetGroupConfigValidator{Reader: mgr.GetAPIReader()}))
}

// validate checks cfg; old is its previous version on update, else nil: a name old already set is
// not checked against other namespaces again, so that the first to set it is never wedged.
func (v *TargetGroupConfigValidator) validate(ctx context.Context, old, cfg *lbc.TargetGroupConfiguration) error {
	var errs field.ErrorList
	var holders map[string]string
	for _, n := range cfg.TargetGroupNames() {
		if lbc.GeneratedShape(n.Name) {
			errs = append(errs, field.Forbidden(n.Path, fmt.Sprintf(
				"target group name %q has the shape of the names the AWS Load Balancer Controller generates for the target groups of routes (k8s-<namespace>-<name>-<hash>); "+
					"ELBv2 would give LBC the existing target group of that name, which may be another team's on a shared load balancer; "+
					"choose a name that does not end in a 10-digit hex hash, or remove it", n.Name)))
			continue
		}
		if old != nil && slices.ContainsFunc(old.TargetGroupNames(), func(o lbc.NamedTargetGroup) bool { return strings.EqualFold(o.Name, n.Name) }) {
			continue
		}
		if holders == nil {
			var err error
			if holders, err = v.otherNamespacesNames(ctx, cfg.Namespace); err != nil {
				return apierrors.NewInternalError(fmt.Errorf("listing TargetGroupConfigurations: %w", err))
			}
		}
		if h, ok := holders[strings.ToLower(n.Name)]; ok {
			errs = append(errs, field.Forbidden(n.Path, fmt.Sprintf(
				"target group name %q is set by TargetGroupConfiguration %s of another namespace; ELBv2 would give LBC that target group for your Service too; "+
					"choose another name", n.Name, h)))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(lbc.TargetGroupConfigurationGVK.GroupKind(), ObjectName(cfg.Name, cfg.GenerateName), errs)
	}
	return nil
}

// otherNamespacesNames maps the target group names (lower case) that configurations of namespaces
// other than ns set to the configuration setting each ("namespace/name").
func (v *TargetGroupConfigValidator) otherNamespacesNames(ctx context.Context, ns string) (map[string]string, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(lbc.TargetGroupConfigurationGVK.GroupVersion().WithKind(lbc.TargetGroupConfigurationGVK.Kind + "List"))
	if err := v.Reader.List(ctx, l); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i := range l.Items {
		u := &l.Items[i]
		if u.GetNamespace() == ns || u.GetDeletionTimestamp() != nil {
			continue
		}
		c := &lbc.TargetGroupConfiguration{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, c); err != nil {
			continue // not a configuration LBC would read either
		}
		for _, n := range c.TargetGroupNames() {
			out[strings.ToLower(n.Name)] = u.GetNamespace() + "/" + u.GetName()
		}
	}
	return out, nil
}

// ValidateCreate implements admission.Validator.
func (v *TargetGroupConfigValidator) ValidateCreate(ctx context.Context, cfg *lbc.TargetGroupConfiguration) (admission.Warnings, error) {
	return nil, v.validate(ctx, nil, cfg)
}

// ValidateUpdate implements admission.Validator; a spec left as it was passes.
func (v *TargetGroupConfigValidator) ValidateUpdate(ctx context.Context, old, cfg *lbc.TargetGroupConfiguration) (admission.Warnings, error) {
	if bookkeeping(old, cfg, &old.Spec, &cfg.Spec) {
		return nil, nil
	}
	return nil, v.validate(ctx, old, cfg)
}

// ValidateDelete implements admission.Validator.
func (v *TargetGroupConfigValidator) ValidateDelete(context.Context, *lbc.TargetGroupConfiguration) (admission.Warnings, error) {
	return nil, nil
}
