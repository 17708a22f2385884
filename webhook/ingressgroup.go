package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// +kubebuilder:rbac:groups=elbv2.k8s.aws,resources=ingressclassparams,verbs=get;list;watch

// watchClassParams sets door.ClassParams when the API server serves LBC's IngressClassParams, and
// then registers their informer with the manager's cache, so that the first grouped Ingress does
// not wait for it.
func watchClassParams(mgr manager.Manager, door *Door) error {
	_, err := mgr.GetRESTMapper().RESTMapping(lbc.IngressClassParamsGVK.GroupKind(), lbc.IngressClassParamsGVK.Version)
	if meta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up whether the API server serves %s: %w", lbc.IngressClassParamsGVK.GroupKind(), err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(lbc.IngressClassParamsGVK)
	if _, err := mgr.GetCache().GetInformer(context.Background(), u); err != nil {
		return fmt.Errorf("watching IngressClassParams: %w", err)
	}
	door.ClassParams = true
	return nil
}

// GroupMember is what the IngressGroup decision needs of one Ingress of a group.
type GroupMember struct {
	Namespace string
	Name      string
	// CatchAll is the field of the Ingress's first rule without host (which LBC turns into a
	// listener rule without a host condition) or of its defaultBackend (which becomes the
	// listener's default action); nil when it has neither.
	CatchAll *field.Path
	// Managed are the Ingress's hostnames under a ManagedZone, normalized.
	Managed []string
	// Joins is the field that puts the Ingress in its group: the group annotation, or
	// spec.ingressClassName when the class's IngressClassParams impose the group.
	Joins *field.Path
}

// GroupCatchAll denies an Ingress that would make its IngressGroup mix a catch-all of one
// namespace with managed hostnames of another on the group's one ALB: self's catch-all next to
// another namespace's managed hostnames, or self's managed hostnames next to another namespace's
// catch-all. Whatever the members' group.order, the catch-all receives those hostnames' requests
// that no rule of their owner matches, and all of them when it comes first. Members of self's own
// namespace are never a reason.
func GroupCatchAll(group string, self GroupMember, others []GroupMember) field.ErrorList {
	if group == "" {
		return nil
	}
	others = slices.Clone(others)
	slices.SortFunc(others, func(a, b GroupMember) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	var errs field.ErrorList
	if self.CatchAll != nil {
		hosts := map[string][]string{}
		var namespaces []string
		for _, o := range others {
			if o.Namespace == self.Namespace || len(o.Managed) == 0 {
				continue
			}
			if hosts[o.Namespace] == nil {
				namespaces = append(namespaces, o.Namespace)
			}
			for _, h := range o.Managed {
				if !slices.Contains(hosts[o.Namespace], h) {
					hosts[o.Namespace] = append(hosts[o.Namespace], h)
				}
			}
		}
		for _, ns := range namespaces {
			errs = append(errs, field.Forbidden(self.CatchAll, fmt.Sprintf(
				"IngressGroup %q serves %s of namespace %s; an Ingress of namespace %s in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)",
				group, hostnameList(hosts[ns]), ns, self.Namespace)))
		}
	}
	if len(self.Managed) > 0 {
		path := self.Joins
		if path == nil {
			path = annotationPath
		}
		for _, o := range others {
			if o.Namespace == self.Namespace || o.CatchAll == nil {
				continue
			}
			errs = append(errs, field.Forbidden(path, fmt.Sprintf(
				"IngressGroup %q has a rule without host, a defaultBackend or a host-header pattern in Ingress %s of namespace %s, which would receive the traffic of %s; use a group of this namespace's own, or no group",
				group, o.Name, o.Namespace, hostnameList(self.Managed))))
		}
	}
	return errs
}

var annotationPath = field.NewPath("metadata", "annotations").Key(lbc.IngressGroupAnnotation)

func hostnameList(hs []string) string {
	q := make([]string, len(hs))
	for i, h := range hs {
		q[i] = fmt.Sprintf("%q", h)
	}
	if len(q) == 1 {
		return "hostname " + q[0]
	}
	return "hostnames " + strings.Join(q, ", ")
}

// ingressGroup decides ing's IngressGroup (GroupCatchAll) against the other members the cache
// holds. Two members created at the same moment may each miss the other in the cache; see
// docs/certificate-management.md.
func (door *Door) ingressGroup(ctx context.Context, ing *networkingv1.Ingress) (field.ErrorList, error) {
	if door.Reader == nil {
		return nil, nil
	}
	group, joins, err := door.ownGroup(ctx, ing)
	if err != nil || group == "" {
		return nil, err
	}
	malformed := door.malformedConditions(ing, group)
	classes, err := door.classGroups(ctx)
	if err != nil {
		return nil, err
	}
	members, err := door.groupMembers(ctx, group, classes)
	if err != nil {
		return nil, err
	}
	var others []GroupMember
	for _, o := range members {
		// Members of ing's own namespace (ing's old self among them) are never a reason to deny.
		if o.Namespace == ing.Namespace {
			continue
		}
		m, err := door.groupMember(ctx, o)
		if err != nil {
			return nil, err
		}
		others = append(others, m)
	}
	if len(others) == 0 {
		return malformed, nil
	}
	self, err := door.groupMember(ctx, ing)
	if err != nil {
		return nil, err
	}
	self.Joins = joins
	errs := GroupCatchAll(group, self, others)
	for range errs {
		door.Metrics.decision(v1alpha1.ReasonCatchAllInSharedIngressGroup)
	}
	return append(malformed, errs...), nil
}

// groupOf is the IngressGroup LBC puts ing in (pkg/ingress group_loader.go), and the field that
// puts it there: the group its class's IngressClassParams impose (classes, from classGroups),
// which takes precedence, else its group annotation; "" for an Ingress of its own ALB. An
// Ingress the kubernetes.io/ingress.class annotation classifies gets no IngressClassParams.
func groupOf(ing *networkingv1.Ingress, classes map[string]string) (string, *field.Path) {
	if _, ok := ing.Annotations[lbc.IngressClassAnnotation]; !ok {
		if g := classes[ptr.Deref(ing.Spec.IngressClassName, "")]; g != "" {
			return g, field.NewPath("spec", "ingressClassName")
		}
	}
	return lbc.ExplicitIngressGroup(ing.Annotations), annotationPath
}

// ownGroup is groupOf for the Ingress being admitted, reading only its own class while it names
// one, so that an Ingress of no group pays one cache read.
func (door *Door) ownGroup(ctx context.Context, ing *networkingv1.Ingress) (string, *field.Path, error) {
	_, annotated := ing.Annotations[lbc.IngressClassAnnotation]
	if annotated || !door.ClassParams {
		g, p := groupOf(ing, nil)
		return g, p, nil
	}
	if ing.Spec.IngressClassName == nil {
		classes, err := door.classGroups(ctx)
		if err != nil {
			return "", nil, err
		}
		g, p := groupOf(ing, classes)
		return g, p, nil
	}
	classes := map[string]string{}
	ic := &networkingv1.IngressClass{}
	if err := door.Reader.Get(ctx, client.ObjectKey{Name: *ing.Spec.IngressClassName}, ic); err == nil {
		g, err := door.classGroup(ctx, ic)
		if err != nil {
			return "", nil, err
		}
		classes[ic.Name] = g
	} else if !apierrors.IsNotFound(err) {
		return "", nil, fmt.Errorf("reading IngressClass %q: %w", *ing.Spec.IngressClassName, err)
	}
	g, p := groupOf(ing, classes)
	return g, p, nil
}

// classGroups maps each IngressClass of LBC whose IngressClassParams impose a group to that
// group, and "" to the default class's group when the cluster has exactly one default class
// (LBC serves Ingresses without a class as that class's). Without IngressClassParams served, or
// without such classes, it is empty.
func (door *Door) classGroups(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if !door.ClassParams {
		return out, nil
	}
	var classes networkingv1.IngressClassList
	if err := door.Reader.List(ctx, &classes); err != nil {
		return nil, fmt.Errorf("listing IngressClasses: %w", err)
	}
	defaults := 0
	defaultGroup := ""
	for i := range classes.Items {
		ic := &classes.Items[i]
		g, err := door.classGroup(ctx, ic)
		if err != nil {
			return nil, err
		}
		if g != "" {
			out[ic.Name] = g
		}
		if ic.Annotations[annotationDefaultClass] == "true" {
			defaults++
			defaultGroup = g
		}
	}
	if defaults == 1 && defaultGroup != "" {
		out[""] = defaultGroup
	}
	return out, nil
}

// classGroup is the group the IngressClassParams of IngressClass ic impose, or "".
func (door *Door) classGroup(ctx context.Context, ic *networkingv1.IngressClass) (string, error) {
	p := ic.Spec.Parameters
	if ic.Spec.Controller != ALBIngressController || p == nil || ptr.Deref(p.APIGroup, "") != lbc.IngressClassParamsGVK.Group || p.Kind != lbc.IngressClassParamsGVK.Kind {
		return "", nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(lbc.IngressClassParamsGVK)
	if err := door.Reader.Get(ctx, client.ObjectKey{Name: p.Name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("reading IngressClassParams %q of IngressClass %q: %w", p.Name, ic.Name, err)
	}
	return lbc.ClassParamsGroup(u), nil
}

// groupMembers lists the Ingresses LBC would put in group: those naming it in their annotation
// and those of the classes whose IngressClassParams impose it (classes, from classGroups), found
// through index.IngressGroup and checked with groupOf and servedByLBC; an Ingress being deleted is
// no member.
func (door *Door) groupMembers(ctx context.Context, group string, classes map[string]string) ([]*networkingv1.Ingress, error) {
	keys := []string{index.IngressGroupKey(group)}
	for c, g := range classes {
		if g == group {
			keys = append(keys, index.IngressClassKey(c))
		}
	}
	seen := map[client.ObjectKey]bool{}
	var out []*networkingv1.Ingress
	for _, key := range keys {
		var l networkingv1.IngressList
		if err := door.Reader.List(ctx, &l, client.MatchingFields{index.IngressGroup: key}); err != nil {
			return nil, fmt.Errorf("listing the Ingresses of IngressGroup %q: %w", group, err)
		}
		for i := range l.Items {
			o := &l.Items[i]
			k := client.ObjectKeyFromObject(o)
			if seen[k] || o.DeletionTimestamp != nil {
				continue
			}
			seen[k] = true
			if g, _ := groupOf(o, classes); g != group {
				continue
			}
			served, err := door.servedByLBC(ctx, o)
			if err != nil {
				return nil, fmt.Errorf("reading the class of Ingress %s: %w", k, err)
			}
			if served {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// groupMember reads what GroupCatchAll needs of ing: its catch-all, and which of its hostnames
// lie under a ManagedZone.
func (door *Door) groupMember(ctx context.Context, ing *networkingv1.Ingress) (GroupMember, error) {
	m := GroupMember{Namespace: ing.Namespace, Name: ObjectName(ing.Name, ing.GenerateName), CatchAll: catchAll(ing)}
	for _, raw := range index.Hostnames(ing) {
		h, err := hostname.Normalize(raw)
		if err != nil || slices.Contains(m.Managed, h) {
			continue
		}
		z, err := ownership.FindZone(ctx, door.View, h)
		if err != nil {
			return m, fmt.Errorf("finding the ManagedZone of hostname %q: %w", h, err)
		}
		if z != nil {
			m.Managed = append(m.Managed, h)
		}
	}
	return m, nil
}

// catchAll is the field of ing's defaultBackend, else of its first rule without host that has
// paths (LBC skips a rule without http paths), else of its first host-header pattern in a
// conditions annotation (conditionPattern), or nil.
func catchAll(ing *networkingv1.Ingress) *field.Path {
	if ing.Spec.DefaultBackend != nil {
		return field.NewPath("spec", "defaultBackend")
	}
	for i, r := range ing.Spec.Rules {
		if r.Host == "" && r.HTTP != nil && len(r.HTTP.Paths) > 0 {
			return field.NewPath("spec", "rules").Index(i)
		}
	}
	return conditionPattern(ing)
}
