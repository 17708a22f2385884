// Package ownership decides who may use a hostname: the covering ManagedZone, its namespace
// allowance, and first-come-first-serve DomainClaims with wildcard overlap rules. Decisions
// are pure functions over a View of the informer cache.
package ownership

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// Verdict is what admission does with one hostname.
type Verdict int

const (
	// Allow: the namespace already owns the hostname (or it is unmanaged and that is allowed).
	Allow Verdict = iota
	// Claim: the hostname is free; admission creates its DomainClaim.
	Claim
	// Deny: the hostname may not be used by the namespace; Message says why.
	Deny
)

// Reasons, used in denial messages, metrics and tests; the names live in api/v1alpha1.
const (
	ReasonOwned           = v1alpha1.ReasonOwned
	ReasonCovered         = v1alpha1.ReasonCoveredByOwnWildcard
	ReasonFree            = v1alpha1.ReasonFree
	ReasonUnmanaged       = v1alpha1.ReasonUnmanaged
	ReasonInvalid         = v1alpha1.ReasonInvalidHostname
	ReasonNoZone          = v1alpha1.ReasonNoManagedZone
	ReasonNotAllowed      = v1alpha1.ReasonNamespaceNotAllowed
	ReasonTaken           = v1alpha1.ReasonClaimedByOther
	ReasonUnderWildcard   = v1alpha1.ReasonCoveredByOtherWildcard
	ReasonWildcardOverlap = v1alpha1.ReasonWildcardOverlapsOther
	ReasonZoneWildcard    = v1alpha1.ReasonWildcardCoversZone
	ReasonReleasing       = v1alpha1.ReasonClaimBeingReleased
	ReasonConflicted      = v1alpha1.ReasonClaimConflicted
	ReasonLookAlike       = v1alpha1.ReasonMixedScripts
	ReasonConfusable      = v1alpha1.ReasonConfusableWithOtherClaim
	ReasonStaleOwner      = v1alpha1.ReasonClaimOfEarlierNamespace
	ReasonTooLong         = v1alpha1.ReasonTooLongForCertificate
)

// MaxCertificateName is the longest hostname ACM issues a certificate for: RequestCertificate's
// DomainName (the Common Name, which RFC 5280 caps at 64 octets, "*." of a wildcard included).
const MaxCertificateName = 64

// Decision is the verdict for one hostname and the facts behind it.
type Decision struct {
	Verdict  Verdict
	Reason   string
	Message  string
	Hostname string
	Zone     *v1alpha1.ManagedZone
	// Held is the claim, as the view holds it, through which the namespace already owns the
	// hostname when the verdict is Allow (its exact claim, or its own one-label wildcard's);
	// admission marks it when it is idle (webhook.Claimer.Keep).
	Held *v1alpha1.DomainClaim
}

// Options change what Decide allows.
type Options struct {
	// AllowUnmanaged lets hostnames outside every ManagedZone pass untouched.
	AllowUnmanaged bool
	// Limits are the cluster-wide caps per namespace and ManagedZone, used where a zone's
	// spec.limits leaves a cap unset.
	Limits Limits
}

// Decide says whether namespace ns may use normalized hostname h, reading only from view.
// Checks run in order and the first that fails gives the message: syntax, covering zone, the
// zone's namespace allowance, an exact claim, covering wildcard claims, and for a wildcard the
// claims below it.
func Decide(ctx context.Context, view View, h, ns string, opts Options) (Decision, error) {
	d := Decision{Hostname: h}
	if err := hostname.Validate(h); err != nil {
		return d.Deny(ReasonInvalid, "hostname %q is invalid: %v", h, err), nil
	}
	if l, u, scripts := hostname.MixedScripts(h); l != "" {
		return d.Deny(ReasonLookAlike, "hostname %q is denied: its label %q (%s) mixes %s letters, which makes it a look-alike of other names (Unicode UTS #39); use letters of one script per label",
			h, l, u, strings.Join(scripts, " and ")), nil
	}

	zone, err := FindZone(ctx, view, h)
	if err != nil {
		return d, err
	}
	if zone == nil {
		// A wildcard outside every zone may still reach over one: "*.com" covers example.com.
		if below, err := zonesUnder(ctx, view, h); err != nil || len(below) > 0 {
			if err != nil {
				return d, err
			}
			return d.Deny(ReasonZoneWildcard, "wildcard %q would cover every name of ManagedZone %q (domain %s); a wildcard that covers managed names must be claimed inside their zone",
				h, below[0].Name, below[0].Spec.Domain), nil
		}
		if opts.AllowUnmanaged {
			return d.allow(ReasonUnmanaged), nil
		}
		return d.Deny(ReasonNoZone, "hostname %q is not under any ManagedZone; ask a cluster admin to create a ManagedZone for its domain", h), nil
	}
	d.Zone = zone
	if len(h) > MaxCertificateName {
		return d.Deny(ReasonTooLong, "hostname %q is %d characters long; ACM issues certificates only for names of at most %d characters (wildcard \"*.\" included), so it cannot be served over HTTPS: use a shorter hostname",
			h, len(h), MaxCertificateName), nil
	}
	ok, err := NamespaceAllowed(ctx, view, zone, ns)
	if err != nil {
		return d, err
	}
	if !ok {
		return d.Deny(ReasonNotAllowed, "namespace %q may not claim hostnames in ManagedZone %q (domain %s); a cluster admin can allow it in spec.allowedNamespaces",
			ns, zone.Name, zone.Spec.Domain), nil
	}

	if denied, err := zoneWildcard(ctx, view, &d, ns); err != nil || denied {
		return d, err
	}

	if c, err := view.Claim(ctx, hostname.ClaimName(h)); err != nil {
		return d, err
	} else if c != nil {
		if c.Spec.Namespace == ns && RecordedNamespace(c) != nil {
			obj, err := view.Namespace(ctx, ns)
			if err != nil {
				return d, err
			}
			if Stale(c, obj) {
				return d.Deny(ReasonStaleOwner, "hostname %q was claimed by an earlier namespace named %q, deleted since (DomainClaim %s); the claim is released after the zone's retention, then this namespace can claim the hostname again",
					h, ns, c.Name), nil
			}
		}
		return d.Owner(c, ns), nil
	}

	if d, err = lookAlikeUnclaimed(ctx, view, d, ns); err != nil || d.Verdict == Deny {
		return d, err
	}
	return Overlaps(ctx, view, d, ns)
}

// lookAlikeUnclaimed is LookAlike for d.Hostname, which has no claim of its own. An exact name
// its namespace serves through its own one-label wildcard is held since that wildcard's claim,
// which only an older look-alike denies; the wildcard is read only after a denial, to spare
// every free name the lookup.
func lookAlikeUnclaimed(ctx context.Context, view View, d Decision, ns string) (Decision, error) {
	out, err := LookAlike(ctx, view, d, ns, nil)
	if err != nil || out.Verdict != Deny || hostname.IsWildcard(d.Hostname) {
		return out, err
	}
	w, err := view.Claim(ctx, hostname.ClaimName(hostname.Serving(d.Hostname)))
	if err != nil || w == nil || w.Spec.Namespace != ns || w.DeletionTimestamp != nil || isConflicted(w) {
		return out, err
	}
	return LookAlike(ctx, view, d, ns, w)
}

// LookAlike denies d.Hostname, under ManagedZone d.Zone, when it looks like a claim of another
// namespace in the same zone and at least one of the two has a punycode label: their UTS #39
// skeletons are equal, or one is a wildcard and the other looks like a name it serves (their
// hostname.Serving wildcards have one skeleton, without the wildcard really covering the name).
// Either may come first: a Unicode name next to an ASCII claim, or an ASCII name next to a Unicode
// claim made before it (the squatter first). held is the claim through which ns already holds the
// name (a claim being transferred to ns, or ns's own wildcard that serves it), nil for a new
// name: only a look-alike older than held denies, so that a newer look-alike, or the newer side
// of a pair made before this check, never takes a name from its earlier owner. ASCII names are
// never compared with each other ("modern" and "modem" have one skeleton too, and both are fine).
// The zone may opt out with spec.allowConfusableHostnames. Claims being deleted or conflicted own
// nothing and are not looked at. The claims come from the view's cache: two look-alikes made at
// the same instant may both pass. Otherwise d is returned as it was.
func LookAlike(ctx context.Context, view View, d Decision, ns string, held *v1alpha1.DomainClaim) (Decision, error) {
	h := d.Hostname
	if d.Zone == nil || d.Zone.Spec.AllowConfusableHostnames {
		return d, nil
	}
	self := newLookAlikeOf(h)
	lists, err := lookAlikeCandidates(ctx, view, self, d.Zone.Spec.Domain)
	if err != nil {
		return d, err
	}
	var first *v1alpha1.DomainClaim
	var how string
	for _, like := range lists {
		for i := range like {
			c := &like[i]
			if c.Spec.Hostname == h || c.Spec.Namespace == ns || c.DeletionTimestamp != nil || isConflicted(c) {
				continue
			}
			if first != nil && !Older(c, first) || held != nil && !Older(c, held) {
				continue
			}
			rel := self.resemblance(c.Spec.Hostname)
			if rel == "" {
				continue
			}
			z, err := FindZone(ctx, view, c.Spec.Hostname)
			if err != nil {
				return d, err
			}
			if z != nil && z.Name == d.Zone.Name {
				first, how = c, rel
			}
		}
	}
	if first == nil {
		return d, nil
	}
	if how == looksLike && hostname.HasPunycode(h) {
		return d.Deny(ReasonConfusable, "hostname %q (%s) looks like %q, owned by namespace %q%s: the two are confusable under Unicode UTS #39 (same skeleton); a cluster admin can allow look-alikes in ManagedZone %q with spec.allowConfusableHostnames",
			h, unicodeSpelling(h), first.Spec.Hostname, first.Spec.Namespace, describe(first), d.Zone.Name), nil
	}
	advice := fmt.Sprintf("a cluster admin can allow look-alikes in ManagedZone %q with spec.allowConfusableHostnames", d.Zone.Name)
	if hostname.HasPunycode(first.Spec.Hostname) {
		advice = fmt.Sprintf("if that claim only imitates this name, a cluster admin can delete DomainClaim %s (then claim this name again); or %s", first.Name, advice)
	}
	return d.Deny(ReasonConfusable, "hostname %q%s %s %q%s, claimed earlier by namespace %q%s: the two are confusable under Unicode UTS #39 (equal skeletons); %s",
		h, spelledAlso(h), how, first.Spec.Hostname, spelledAlso(first.Spec.Hostname), first.Spec.Namespace, describe(first), advice), nil
}

// maxASCIIReadings caps the ASCII domains a Unicode wildcard's domain is read as
// (hostname.ASCIIReadings): two readings for each "l" and "rn" of its skeleton above the zone.
const maxASCIIReadings = 64

// lookAlikeCandidates lists the claims that normalized hostname h.h, under the ManagedZone of
// domain zone, may look like (resemblance), with others. An exact name, ASCII or Unicode, finds
// look-alike names by its skeleton and look-alike wildcards by its Serving wildcard's: two
// lookups whose keys hold only real candidates, not every Unicode name beside it. A wildcard
// finds the Unicode names it would look like it serves, and the Unicode wildcards that look like
// it, by its ServedKey; a Unicode wildcard also finds wildcards of every script by its skeleton,
// and the ASCII names it would look like it serves, which the index does not key that way (it
// would cost every ASCII claim a second key), below each ASCII reading of its domain
// (ClaimsBelow).
func lookAlikeCandidates(ctx context.Context, view View, h lookAlikeOf, zone string) ([][]v1alpha1.DomainClaim, error) {
	var keys []string
	switch {
	case h.servingSkeleton == "":
		return nil, nil
	case !h.wildcard:
		keys = []string{h.skeleton, h.servingSkeleton}
	case h.unicode:
		keys = []string{h.skeleton, hostname.ServedKey(h.h)}
	default:
		keys = []string{hostname.ServedKey(h.h)}
	}
	var out [][]v1alpha1.DomainClaim
	for _, key := range keys {
		like, err := view.ClaimsLike(ctx, key)
		if err != nil {
			return nil, err
		}
		out = append(out, like)
	}
	if above, ok := strings.CutSuffix(hostname.MatchDomain(h.h), "."+zone); ok && h.wildcard && hostname.HasPunycode(above) {
		for _, r := range hostname.ASCIIReadings(hostname.Skeleton(above), maxASCIIReadings) {
			below, err := view.ClaimsBelow(ctx, r+"."+zone)
			if err != nil {
				return nil, err
			}
			out = append(out, below)
		}
	}
	return out, nil
}

// How one hostname resembles another (resemblance).
const (
	looksLike     = "looks like"
	looksServedBy = "looks like a name served by wildcard"
	wouldServe    = "would serve names that look like"
)

// lookAlikeOf is a normalized hostname with the skeletons its look-alike keys and resemblance
// use, computed once for all the claims it is compared with. servingSkeleton is that of its
// hostname.Serving wildcard, "" for a single label, which looks like nothing.
type lookAlikeOf struct {
	h, skeleton, servingSkeleton string
	wildcard, unicode            bool
}

func newLookAlikeOf(h string) lookAlikeOf {
	l := lookAlikeOf{h: h, skeleton: hostname.Skeleton(h), wildcard: hostname.IsWildcard(h), unicode: hostname.HasPunycode(h)}
	switch w := hostname.Serving(h); {
	case l.wildcard:
		l.servingSkeleton = l.skeleton
	case w != "":
		l.servingSkeleton = hostname.Skeleton(w)
	}
	return l
}

// resemblance says how normalized hostname h looks like claim hostname c, in words for a
// denial, or "" when it does not or when neither has a punycode label: one skeleton; h exact
// and a name wildcard c serves looks like it; h a wildcard that serves a name that looks like c.
// A wildcard that really covers the other name is not a look-alike (Overlaps decides that).
func (h lookAlikeOf) resemblance(c string) string {
	if !h.unicode && !hostname.HasPunycode(c) {
		return ""
	}
	switch cw := hostname.IsWildcard(c); {
	case h.wildcard == cw:
		if h.skeleton == hostname.Skeleton(c) {
			return looksLike
		}
	case cw:
		if !hostname.Covers(c, h.h) && h.servingSkeleton == hostname.Skeleton(c) {
			return looksServedBy
		}
	default:
		if !hostname.Covers(h.h, c) && h.skeleton == hostname.Skeleton(hostname.Serving(c)) {
			return wouldServe
		}
	}
	return ""
}

// spelledAlso is " (" and the Unicode spelling of normalized hostname h ")" for a name with a
// punycode label, "" for an ASCII one.
func spelledAlso(h string) string {
	if !hostname.HasPunycode(h) {
		return ""
	}
	return " (" + unicodeSpelling(h) + ")"
}

// unicodeSpelling is normalized hostname h as a person reads it, its punycode labels decoded.
func unicodeSpelling(h string) string {
	if u, err := hostname.ToUnicode(h); err == nil {
		return u
	}
	return h
}

// isConflicted reports whether claim c lost to an older overlapping claim (Claimed=False, reason
// Conflicted): it owns nothing.
func isConflicted(c *v1alpha1.DomainClaim) bool {
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed)
	return cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == v1alpha1.ReasonConflicted
}

// zoneWildcard denies (setting *d) a wildcard that would cover every name of a ManagedZone: the
// zone's own wildcard ("*.example.com" for domain example.com), or a wildcard above a child zone.
// Each such zone must opt in with spec.allowZoneWildcard and allow namespace ns.
func zoneWildcard(ctx context.Context, view View, d *Decision, ns string) (bool, error) {
	h := d.Hostname
	if !hostname.IsWildcard(h) {
		return false, nil
	}
	zones, err := zonesUnder(ctx, view, h)
	if err != nil {
		return false, err
	}
	if d.Zone.Spec.Domain == hostname.MatchDomain(h) {
		zones = append([]v1alpha1.ManagedZone{*d.Zone}, zones...)
	}
	for i := range zones {
		z := &zones[i]
		if !z.Spec.AllowZoneWildcard {
			*d = d.Deny(ReasonZoneWildcard, "wildcard %q would cover every name of ManagedZone %q (domain %s); a cluster admin can allow zone-wide wildcards with spec.allowZoneWildcard",
				h, z.Name, z.Spec.Domain)
			return true, nil
		}
		ok, err := NamespaceAllowed(ctx, view, z, ns)
		if err != nil {
			return false, err
		}
		if !ok {
			*d = d.Deny(ReasonZoneWildcard, "wildcard %q would cover every name of ManagedZone %q (domain %s), in which namespace %q may not claim hostnames; claim a wildcard below that zone, or ask a cluster admin to allow the namespace in its spec.allowedNamespaces",
				h, z.Name, z.Spec.Domain, ns)
			return true, nil
		}
	}
	return false, nil
}

// zonesUnder lists the ManagedZones whose domains wildcard h matches (strictly below its domain).
func zonesUnder(ctx context.Context, view View, h string) ([]v1alpha1.ManagedZone, error) {
	if !hostname.IsWildcard(h) {
		return nil, nil
	}
	return view.ZonesBelow(ctx, hostname.MatchDomain(h))
}

// Overlaps finishes a decision for namespace ns on d.Hostname, which has no claim of its own
// yet, from the wildcard claims around it: a covering wildcard of another namespace denies; the
// owner's own one-label wildcard covers an exact name without a claim of its own; a wildcard
// that would cover another namespace's claims denies. Otherwise the hostname is free to claim.
func Overlaps(ctx context.Context, view View, d Decision, ns string) (Decision, error) {
	h := d.Hostname
	var covered *v1alpha1.DomainClaim
	for i, w := range hostname.CoveringWildcards(h) {
		c, err := view.Claim(ctx, hostname.ClaimName(w))
		if err != nil {
			return d, err
		}
		if c == nil {
			continue
		}
		if c.Spec.Namespace != ns {
			return d.CoveredBy(w, c), nil
		}
		// The owner's wildcard certificate matches exactly one more label; deeper names get
		// claims (and certificates) of their own.
		if i == 0 && !hostname.IsWildcard(h) {
			covered = c
		}
	}
	if covered != nil {
		d.Held = covered
		return d.allow(ReasonCovered), nil
	}

	if hostname.IsWildcard(h) {
		below, err := view.ClaimsBelow(ctx, hostname.MatchDomain(h))
		if err != nil {
			return d, err
		}
		if c := oldestForeign(below, h, ns); c != nil {
			return d.WouldCover(c), nil
		}
	}
	d.Verdict, d.Reason, d.Message = Claim, ReasonFree, ""
	return d, nil
}

// Stale reports whether route-made claim c belongs to an earlier namespace of the same name as
// obj, the owning namespace as it exists now: its recorded UID (RecordedNamespace) differs. Admin
// claims follow the namespace's name and are never stale.
func Stale(c *v1alpha1.DomainClaim, obj *corev1.Namespace) bool {
	rec := RecordedNamespace(c)
	return obj != nil && rec != nil && c.Spec.ClaimedBy == v1alpha1.ClaimedByRoute &&
		rec.Name == c.Spec.Namespace && obj.Name == c.Spec.Namespace && obj.UID != rec.UID
}

// RecordedNamespace is the owning namespace as claim c records it: status.ownerNamespace, else
// the namespace admission stamped on it at creation (StampedNamespace); nil when neither is there
// yet.
func RecordedNamespace(c *v1alpha1.DomainClaim) *v1alpha1.NamespaceRecord {
	if c.Status.OwnerNamespace != nil {
		return c.Status.OwnerNamespace
	}
	return StampedNamespace(c)
}

// StampedNamespace is the namespace admission recorded on claim c when it made it
// (v1alpha1.AnnotationOwnerNamespace), when that is still the claim's namespace; else nil.
func StampedNamespace(c *v1alpha1.DomainClaim) *v1alpha1.NamespaceRecord {
	name, uid, ok := strings.Cut(c.Annotations[v1alpha1.AnnotationOwnerNamespace], "/")
	if !ok || name != c.Spec.Namespace || uid == "" {
		return nil
	}
	return &v1alpha1.NamespaceRecord{Name: name, UID: types.UID(uid)}
}

// StampNamespace records namespace ns, as admission sees it, on claim c (which admission makes
// for it): see v1alpha1.AnnotationOwnerNamespace.
func StampNamespace(c *v1alpha1.DomainClaim, ns *corev1.Namespace) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[v1alpha1.AnnotationOwnerNamespace] = ns.Name + "/" + string(ns.UID)
}

// Owner decides from an existing claim for h: allowed for its owner, denied for anyone else.
// A claim being deleted, or one that lost to an older overlapping claim (Claimed=False, reason
// Conflicted), owns nothing: its owner may not use the hostname, and nobody else may take it
// until the claim is gone.
func (d Decision) Owner(c *v1alpha1.DomainClaim, ns string) Decision {
	if c.DeletionTimestamp != nil {
		if c.Spec.Namespace == ns {
			return d.Deny(ReasonReleasing, "hostname %q is being released (DomainClaim %s is being deleted); it can be claimed again once the claim is gone", d.Hostname, c.Name)
		}
		return d.Deny(ReasonReleasing, "hostname %q is being released by namespace %q (DomainClaim %s is being deleted); it can be claimed once the claim is gone",
			d.Hostname, c.Spec.Namespace, c.Name)
	}
	if isConflicted(c) {
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed)
		if c.Spec.Namespace == ns {
			return d.Deny(ReasonConflicted, "hostname %q cannot be used: its DomainClaim %s lost to an older claim (%s); use another hostname, or ask a cluster admin to delete or transfer one of the two claims",
				d.Hostname, c.Name, cond.Message)
		}
		return d.Deny(ReasonConflicted, "hostname %q is claimed by namespace %q%s and cannot be taken until that conflicted claim is gone (%s); use another hostname, or ask a cluster admin to delete DomainClaim %s",
			d.Hostname, c.Spec.Namespace, describe(c), cond.Message, c.Name)
	}
	if c.Spec.Namespace == ns {
		d.Held = c
		return d.allow(ReasonOwned)
	}
	return d.Deny(ReasonTaken, "hostname %q is claimed by namespace %q%s; use another hostname, or ask a cluster admin to transfer it to namespace %q",
		d.Hostname, c.Spec.Namespace, describe(c), ns)
}

// StillHeld decides d again from claim c, read live, through which namespace ns held d.Hostname
// when d was decided: its exact claim (Owner), or its own one-label wildcard's, which may since
// have been transferred (CoveredBy), be being deleted or have lost an overlap.
func (d Decision) StillHeld(c *v1alpha1.DomainClaim, ns string) Decision {
	if c.Spec.Hostname != d.Hostname && c.Spec.Namespace != ns && c.DeletionTimestamp == nil {
		return d.CoveredBy(c.Spec.Hostname, c)
	}
	return d.Owner(c, ns)
}

// Free turns d into a claim of its hostname: the claim through which the namespace held it is
// gone, so the hostname is free again for whoever claims it first.
func (d Decision) Free() Decision {
	d.Verdict, d.Reason, d.Message, d.Held = Claim, ReasonFree, "", nil
	return d
}

func (d Decision) allow(reason string) Decision {
	d.Verdict, d.Reason = Allow, reason
	return d
}

// Deny denies d.Hostname for reason, with a message made from format and args.
func (d Decision) Deny(reason, format string, args ...any) Decision {
	d.Verdict, d.Reason, d.Message = Deny, reason, fmt.Sprintf(format, args...)
	return d
}

// CoveredBy denies d.Hostname because wildcard w's claim c, of another namespace, covers it.
func (d Decision) CoveredBy(w string, c *v1alpha1.DomainClaim) Decision {
	return d.Deny(ReasonUnderWildcard, "hostname %q is covered by wildcard %q, claimed by namespace %q%s; use a name outside it, or ask a cluster admin to transfer or delete DomainClaim %s",
		d.Hostname, w, c.Spec.Namespace, describe(c), c.Name)
}

// WouldCover denies wildcard d.Hostname because it would cover claim c of another namespace.
func (d Decision) WouldCover(c *v1alpha1.DomainClaim) Decision {
	return d.Deny(ReasonWildcardOverlap, "wildcard %q would cover %q, claimed by namespace %q%s; claim the exact names you need, or ask a cluster admin to transfer or delete DomainClaim %s",
		d.Hostname, c.Spec.Hostname, c.Spec.Namespace, describe(c), c.Name)
}

// describe names a claim for deny messages, and since when its namespace owns it: its creation,
// or its last transfer.
func describe(c *v1alpha1.DomainClaim) string {
	s := " (DomainClaim " + c.Name
	since := c.CreationTimestamp.Time
	if t, err := time.Parse(time.RFC3339, c.Annotations[v1alpha1.AnnotationTransferredAt]); err == nil {
		since = t
	}
	if !since.IsZero() {
		s += ", since " + since.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// oldestForeign returns the oldest claim, other than h's own, not owned by ns, or nil.
func oldestForeign(claims []v1alpha1.DomainClaim, h, ns string) *v1alpha1.DomainClaim {
	var out *v1alpha1.DomainClaim
	for i := range claims {
		c := &claims[i]
		if c.Spec.Namespace == ns || c.Spec.Hostname == h {
			continue
		}
		if out == nil || Older(c, out) {
			out = c
		}
	}
	return out
}

// Older orders claims for settling overlaps: earlier creation first, then name.
func Older(a, b *v1alpha1.DomainClaim) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// FindZone returns the ManagedZone with the longest domain that covers h, or nil.
func FindZone(ctx context.Context, view View, h string) (*v1alpha1.ManagedZone, error) {
	for _, d := range hostname.ZoneCandidates(h) {
		z, err := view.Zone(ctx, d)
		if err != nil || z != nil {
			return z, err
		}
	}
	return nil, nil
}

// NamespaceAllowed reports whether zone lets namespace ns claim hostnames.
func NamespaceAllowed(ctx context.Context, view View, zone *v1alpha1.ManagedZone, ns string) (bool, error) {
	a := zone.Spec.AllowedNamespaces
	if slices.Contains(a.Names, ns) {
		return true, nil
	}
	if a.Selector == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(a.Selector)
	if err != nil {
		return false, fmt.Errorf("ManagedZone %q has an invalid namespace selector: %w", zone.Name, err)
	}
	if sel.Empty() {
		return true, nil
	}
	obj, err := view.Namespace(ctx, ns)
	if err != nil || obj == nil {
		return false, err
	}
	return sel.Matches(labels.Set(obj.Labels)), nil
}
