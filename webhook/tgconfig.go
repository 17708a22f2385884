package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// The API server calls this webhook only where LBC's TargetGroupConfiguration CRD is installed,
// and only for configurations that set a target group name or a setting ALBIncompatible checks
// (the matchCondition); it lists the other configurations from the API server (they are few).
// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=targetgroupconfigurations,verbs=list;watch
// +kubebuilder:webhook:path=/validate-gateway-k8s-aws-v1beta1-targetgroupconfiguration,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.k8s.aws,resources=targetgroupconfigurations,verbs=create;update,versions=v1beta1,name=vtargetgroupconfiguration.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"sets-checked-fields","expression":"has(object.spec) && (has(object.spec.defaultConfiguration) && [object.spec.defaultConfiguration].exists(p, has(p.targetGroupName) || has(p.protocol) || has(p.targetType) || has(p.targetControlPort) || has(p.healthCheckConfig) || has(p.targetGroupAttributes)) || has(object.spec.routeConfigurations) && object.spec.routeConfigurations.exists(r, has(r.targetGroupProps) && [r.targetGroupProps].exists(p, has(p.targetGroupName) || has(p.protocol) || has(p.targetType) || has(p.targetControlPort) || has(p.healthCheckConfig) || has(p.targetGroupAttributes))))"}]}`

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
//
// It also denies the settings of lbc.ALBIncompatible (a protocol other than HTTP or HTTPS,
// targetType instance for a Service without NodePorts, health checks and attributes ELBv2
// refuses, ...) for a Service that a pool route uses as a backend (routeTargetGroupConfigs has
// the other side: the route admitted after the configuration): LBC would fail to deploy the
// whole shared Gateway, for every team. An empty targetGroupName is denied everywhere: ELBv2
// refuses a target group without a name.
type TargetGroupConfigValidator struct {
	// Reader lists TargetGroupConfigurations from the API server (the webhook must see those the
	// cache does not show yet).
	Reader client.Reader
	// Door finds the pool routes whose backend the configured Service is (nil: none).
	Door *Door

	// mu serializes the admissions that check names against other namespaces, and recent holds
	// the names this process admitted lately (lower case), which the list may not show yet: two
	// simultaneous creates of one name in two namespaces cannot both pass through one replica.
	mu     sync.Mutex
	recent map[string]heldName
}

// heldName is a target group name admitted lately, by which configuration and when.
type heldName struct {
	namespace, holder string
	at                time.Time
}

// NameHoldTTL is how long a name this replica admitted counts as held without the list showing
// it: the API server stores an admitted create within moments, or another webhook denied it.
const NameHoldTTL = 10 * time.Second

// hold records names (lower case) as held by cfg, and forgets expired holds.
func (v *TargetGroupConfigValidator) hold(names []string, cfg *lbc.TargetGroupConfiguration, now time.Time) {
	if v.recent == nil {
		v.recent = map[string]heldName{}
	}
	for n, h := range v.recent {
		if now.Sub(h.at) > NameHoldTTL {
			delete(v.recent, n)
		}
	}
	for _, n := range names {
		v.recent[n] = heldName{namespace: cfg.Namespace, holder: cfg.Namespace + "/" + ObjectName(cfg.Name, cfg.GenerateName), at: now}
	}
}

var _ admission.Validator[*lbc.TargetGroupConfiguration] = &TargetGroupConfigValidator{}

// registerTargetGroupConfig serves the TargetGroupConfiguration webhook, decoding with a scheme of
// its own holding only lbc.TargetGroupConfiguration (fields it does not declare are ignored).
func registerTargetGroupConfig(mgr manager.Manager, door *Door) {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(lbc.TargetGroupConfigurationGVK, &lbc.TargetGroupConfiguration{})
	mgr.GetWebhookServer().Register(TargetGroupConfigPath,
		admission.WithValidator[*lbc.TargetGroupConfiguration](s, &TargetGroupConfigValidator{Reader: mgr.GetAPIReader(), Door: door}))
}

// validate checks cfg; old is its previous version on update, else nil: a name old already set is
// not checked against other namespaces again, so that the first to set it is never wedged.
func (v *TargetGroupConfigValidator) validate(ctx context.Context, old, cfg *lbc.TargetGroupConfiguration) error {
	var errs field.ErrorList
	var holders map[string]string
	var checked []string
	for _, n := range cfg.TargetGroupNames() {
		if n.Name == "" {
			errs = append(errs, field.Invalid(n.Path, n.Name,
				"an empty target group name makes LBC ask ELBv2 for a target group without a name, which ELBv2 refuses, and LBC fails to deploy the Gateway; remove the field to get a generated name"))
			continue
		}
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
			v.mu.Lock() // held until validate returns: see recent
			defer v.mu.Unlock()
			var err error
			if holders, err = v.otherNamespacesNames(ctx, cfg.Namespace); err != nil {
				return apierrors.NewInternalError(fmt.Errorf("listing TargetGroupConfigurations: %w", err))
			}
			for n, h := range v.recent {
				if _, listed := holders[n]; !listed && h.namespace != cfg.Namespace && time.Since(h.at) <= NameHoldTTL {
					holders[n] = h.holder
				}
			}
		}
		checked = append(checked, strings.ToLower(n.Name))
		if h, ok := holders[strings.ToLower(n.Name)]; ok {
			errs = append(errs, field.Forbidden(n.Path, fmt.Sprintf(
				"target group name %q is set by TargetGroupConfiguration %s of another namespace; ELBv2 would give LBC that target group for your Service too; "+
					"choose another name", n.Name, h)))
		}
	}
	pool, err := v.poolBackends(ctx, cfg)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("looking up the pool routes of the configured Service: %w", err))
	}
	errs = append(errs, pool...)
	if len(errs) == 0 && len(checked) > 0 && !isDryRun(ctx) {
		v.hold(checked, cfg, time.Now())
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(lbc.TargetGroupConfigurationGVK.GroupKind(), ObjectName(cfg.Name, cfg.GenerateName), errs)
	}
	return nil
}

// isDryRun reports whether the admission request in ctx is a dry run.
func isDryRun(ctx context.Context) bool {
	req, err := admission.RequestFromContext(ctx)
	return err == nil && req.DryRun != nil && *req.DryRun
}

// otherNamespacesNames maps the target group names (lower case) that configurations of namespaces
// other than ns set to the configuration setting each ("namespace/name").
func (v *TargetGroupConfigValidator) otherNamespacesNames(ctx context.Context, ns string) (map[string]string, error) {
	l := newTargetGroupConfigList()
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

// poolBackends denies cfg's settings of lbc.ALBIncompatible that would reach a target group of a
// pool route (poolPlace): a route whose backendRefs name the configured Service, with cfg's
// layers for that route. Routes are read from the cache, and only when some setting of cfg is
// incompatible for some route.
func (v *TargetGroupConfigValidator) poolBackends(ctx context.Context, cfg *lbc.TargetGroupConfiguration) (field.ErrorList, error) {
	door := v.Door
	name := cfg.Service()
	if door == nil || door.Reader == nil || name == "" {
		return nil, nil
	}
	key := types.NamespacedName{Namespace: cfg.Namespace, Name: name}
	incompatible := false
	for _, layers := range cfg.AllLayers() {
		svc, err := door.serviceFor(ctx, layers, key)
		if err != nil {
			return nil, err
		}
		incompatible = incompatible || len(lbc.ALBIncompatible(layers, svc)) > 0
	}
	if !incompatible {
		return nil, nil
	}
	var https gwv1.HTTPRouteList
	if err := door.Reader.List(ctx, &https); err != nil {
		return nil, err
	}
	var grpcs gwv1.GRPCRouteList
	if err := door.Reader.List(ctx, &grpcs); err != nil {
		return nil, err
	}
	type user struct {
		kind      string
		meta      *metav1.ObjectMeta
		refs      []gwv1.ParentReference
		hostnames []gwv1.Hostname
		backends  []serviceBackend
	}
	var users []user
	for i := range https.Items {
		r := &https.Items[i]
		users = append(users, user{"HTTPRoute", &r.ObjectMeta, r.Spec.ParentRefs, r.Spec.Hostnames, httpBackends(r)})
	}
	for i := range grpcs.Items {
		r := &grpcs.Items[i]
		users = append(users, user{"GRPCRoute", &r.ObjectMeta, r.Spec.ParentRefs, r.Spec.Hostnames, grpcBackends(r)})
	}
	var errs field.ErrorList
	reported := map[string]bool{}
	for _, u := range users {
		if !slices.ContainsFunc(u.backends, func(b serviceBackend) bool { return b.Service == key }) {
			continue
		}
		layers := cfg.Layers(u.kind, u.meta.Namespace, u.meta.Name)
		svc, err := door.serviceFor(ctx, layers, key)
		if err != nil {
			return nil, err
		}
		bad := lbc.ALBIncompatible(layers, svc)
		if len(bad) == 0 {
			continue
		}
		where, err := door.poolPlace(ctx, u.meta, u.refs, u.hostnames)
		if err != nil {
			return nil, err
		}
		if where == "" {
			continue
		}
		for _, b := range bad {
			if reported[b.Path.String()] {
				continue
			}
			reported[b.Path.String()] = true
			errs = append(errs, field.Forbidden(b.Path, fmt.Sprintf(
				"%q is a setting LBC cannot deploy on an ALB: %s; Service %s is a backend of %s %s/%s (%s), whose ALB every team shares, and LBC could not deploy it any more for any team; %s",
				b.Value, b.Why, name, u.kind, u.meta.Namespace, u.meta.Name, where, b.Fix)))
		}
	}
	return errs, nil
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
