package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

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
				"IngressGroup %q serves %s of namespace %s; an Ingress of namespace %s in that group may not have a rule without host or a defaultBackend (it would receive that hostname's traffic)",
				group, hostnameList(hosts[ns]), ns, self.Namespace)))
		}
	}
	if len(self.Managed) > 0 {
		path := field.NewPath("metadata", "annotations").Key(lbc.IngressGroupAnnotation)
		for _, o := range others {
			if o.Namespace == self.Namespace || o.CatchAll == nil {
				continue
			}
			errs = append(errs, field.Forbidden(path, fmt.Sprintf(
				"IngressGroup %q has a rule without host or a defaultBackend in Ingress %s of namespace %s, which would receive the traffic of %s; use a group of this namespace's own, or no group",
				group, o.Name, o.Namespace, hostnameList(self.Managed))))
		}
	}
	return errs
}

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

// ingressGroup decides ing's explicit IngressGroup (GroupCatchAll) against the other members the
// cache holds, found through index.IngressGroup. Two members created at the same moment may each
// miss the other in the cache; see docs/certificate-management.md.
func (door *Door) ingressGroup(ctx context.Context, ing *networkingv1.Ingress) (field.ErrorList, error) {
	group := lbc.ExplicitIngressGroup(ing.Annotations)
	if group == "" || door.Reader == nil {
		return nil, nil
	}
	var l networkingv1.IngressList
	if err := door.Reader.List(ctx, &l, client.MatchingFields{index.IngressGroup: group}); err != nil {
		return nil, fmt.Errorf("listing the Ingresses of IngressGroup %q: %w", group, err)
	}
	var others []GroupMember
	for i := range l.Items {
		o := &l.Items[i]
		// LBC drops an Ingress being deleted from its group, and members of ing's own
		// namespace are never a reason to deny.
		if o.Namespace == ing.Namespace || o.DeletionTimestamp != nil {
			continue
		}
		served, err := door.servedByLBC(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("reading the class of Ingress %s/%s: %w", o.Namespace, o.Name, err)
		}
		if !served {
			continue
		}
		m, err := door.groupMember(ctx, o)
		if err != nil {
			return nil, err
		}
		others = append(others, m)
	}
	if len(others) == 0 {
		return nil, nil
	}
	self, err := door.groupMember(ctx, ing)
	if err != nil {
		return nil, err
	}
	errs := GroupCatchAll(group, self, others)
	for range errs {
		door.Metrics.decision(v1alpha1.ReasonCatchAllInSharedIngressGroup)
	}
	return errs, nil
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
// paths (LBC skips a rule without http paths), or nil.
func catchAll(ing *networkingv1.Ingress) *field.Path {
	if ing.Spec.DefaultBackend != nil {
		return field.NewPath("spec", "defaultBackend")
	}
	for i, r := range ing.Spec.Rules {
		if r.Host == "" && r.HTTP != nil && len(r.HTTP.Paths) > 0 {
			return field.NewPath("spec", "rules").Index(i)
		}
	}
	return nil
}
