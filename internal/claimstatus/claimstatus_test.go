package claimstatus

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

// conditionTypes reads the DomainClaim condition types declared in api/v1alpha1 (every
// Condition* constant), so that a condition added there without an owner fails this test.
func conditionTypes(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../api/v1alpha1/conditions.go", nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if strings.HasPrefix(name.Name, "Condition") && i < len(vs.Values) {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out[name.Name] = v
				}
			}
		}
		return true
	})
	require.NotEmpty(t, out)
	return out
}

func TestEveryConditionTypeHasExactlyOneOwner(t *testing.T) {
	for name, typ := range conditionTypes(t) {
		var owners []string
		for _, o := range Owners {
			if o.Owns(typ) {
				owners = append(owners, o.Manager)
			}
		}
		assert.Len(t, owners, 1, "%s (%q) is owned by %v", name, typ, owners)
	}
}

func TestEveryStatusFieldHasExactlyOneOwner(t *testing.T) {
	full := &v1alpha1.DomainClaimStatus{
		ObservedGeneration: 1, ManagedZone: "z", HostedZoneID: "Z1", CertificateARN: "arn",
		ValidationRecord: &v1alpha1.ValidationRecord{Name: "n", Type: "CNAME", Value: "v"}, CertificateAttempt: 1, CertificateRetryTime: &metav1.Time{},
		CertificateNotAfter: &metav1.Time{}, RenewalStatus: "SUCCESS", Gateway: &v1alpha1.ObjectRef{Namespace: "g", Name: "g"},
		LoadBalancerHostname: "lb", LoadBalancerZoneID: "Z2", DualStack: true, LastReferencedTime: &metav1.Time{},
		ReleaseTime: &metav1.Time{}, OwnerNamespace: &v1alpha1.NamespaceRecord{Name: "n", UID: "u"},
		AliasTarget: &v1alpha1.AliasTarget{DNSName: "lb", HostedZoneID: "Z2"},
	}
	seen := map[string]string{}
	for _, o := range Owners {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Slice(full))
		require.NoError(t, err)
		got := []string{}
		for k := range raw {
			got = append(got, k)
			assert.Empty(t, seen[k], "status.%s is written by %s and %s", k, seen[k], o.Manager)
			seen[k] = o.Manager
		}
		assert.ElementsMatch(t, o.Fields, got, "%s: Fields names exactly what it copies", o.Manager)
	}
	all, err := runtime.DefaultUnstructuredConverter.ToUnstructured(full)
	require.NoError(t, err)
	for k := range all {
		if k != "conditions" {
			assert.NotEmpty(t, seen[k], "status.%s has no owner", k)
		}
	}
}

// TestOwnershipTableInDesignMatchesTheCode reads the table in docs/design.md.
func TestOwnershipTableInDesignMatchesTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/design.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|([^|]*)\\|([^|]*)\\|")
	reasons := regexp.MustCompile(`\([^)]*\)`) // a condition's reasons follow it in parentheses
	rows := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] = [2]string{reasons.ReplaceAllString(m[2], ""), m[3]}
	}
	for _, o := range Owners {
		r, ok := rows[o.Manager]
		if !assert.True(t, ok, "docs/design.md has a row for %s", o.Manager) {
			continue
		}
		for _, c := range o.Conditions {
			assert.Contains(t, r[0], "`"+c+"`", "%s owns %s", o.Manager, c)
		}
		assert.Equal(t, len(o.Conditions), strings.Count(r[0], "`")/2, "%s: no other condition in its row", o.Manager)
		for _, f := range o.Fields {
			assert.Contains(t, r[1], "`"+f+"`", "%s writes %s", o.Manager, f)
		}
		assert.Equal(t, len(o.Fields), strings.Count(r[1], "`")/2, "%s: no other field in its row", o.Manager)
	}
}

func TestSliceKeepsOnlyTheOwnersPart(t *testing.T) {
	st := &v1alpha1.DomainClaimStatus{ObservedGeneration: 3, CertificateARN: "arn", ManagedZone: "z", Conditions: []metav1.Condition{
		{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue}, {Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue},
	}}
	got := Certificate.Slice(st)
	assert.Equal(t, &v1alpha1.DomainClaimStatus{CertificateARN: "arn", Conditions: []metav1.Condition{
		{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue}}}, got)
}

func newScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	return s
}

func TestApplySendsOnlyTheOwnersSliceUnderItsManager(t *testing.T) {
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a.example.com", UID: "uid-1", Generation: 2}}
	c.Status.ManagedZone = "zone" // another owner's field
	var sent []client.SubResourceApplyOption
	var body map[string]any
	k := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(c.DeepCopy()).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			assert.Equal(t, "status", sub)
			sent = opts
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
			require.NoError(t, err)
			body = u
			return cl.Status().Apply(ctx, obj, opts...)
		}}).Build()

	var w Writes
	st := c.Status.DeepCopy()
	st.CertificateARN = "arn:1"
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateRequested, Status: metav1.ConditionTrue, Reason: "Requested", Message: "m"})
	wrote, err := w.Apply(context.Background(), k, Certificate, c, st)
	require.NoError(t, err)
	assert.True(t, wrote)
	status := body["status"].(map[string]any)
	assert.Equal(t, "arn:1", status["certificateARN"])
	assert.NotContains(t, status, "managedZone", "another owner's field is not sent")
	assert.Equal(t, "uid-1", body["metadata"].(map[string]any)["uid"], "the UID is a precondition")
	o := &client.SubResourceApplyOptions{}
	o.ApplyOpts(sent)
	assert.Equal(t, Certificate.Manager, o.FieldManager)
	require.NotNil(t, o.Force)
	assert.True(t, *o.Force, "ownership is forced: no conflicts between owners")
	assert.Equal(t, "arn:1", c.Status.CertificateARN, "the caller's claim shows what was written")

	body = nil
	wrote, err = w.Apply(context.Background(), k, Certificate, c, c.Status.DeepCopy())
	require.NoError(t, err)
	assert.False(t, wrote, "an unchanged slice is not written")
	assert.Nil(t, body)

	other := c.Status.DeepCopy()
	other.ManagedZone = "changed by someone else"
	wrote, err = w.Apply(context.Background(), k, Certificate, c, other)
	require.NoError(t, err)
	assert.False(t, wrote, "a change outside the owner's slice is not the owner's to write")
}

func TestApplyToAClaimThatIsGoneIsNotAnError(t *testing.T) {
	for name, fail := range map[string]error{
		"deleted":                       apierrors.NewNotFound(schema.GroupResource{Resource: "domainclaims"}, "a"),
		"replaced by a new incarnation": apierrors.NewConflict(schema.GroupResource{Resource: "domainclaims"}, "a", nil),
	} {
		t.Run(name, func(t *testing.T) {
			k := fake.NewClientBuilder().WithScheme(newScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
				SubResourceApply: func(context.Context, client.Client, string, runtime.ApplyConfiguration, ...client.SubResourceApplyOption) error {
					return fail
				}}).Build()
			c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u"}}
			var w Writes
			wrote, err := w.Apply(context.Background(), k, DNS, c, &v1alpha1.DomainClaimStatus{Conditions: []metav1.Condition{{Type: v1alpha1.ConditionDNSRecord}}})
			require.NoError(t, err)
			assert.False(t, wrote)
		})
	}
}

func TestOwnersOfDifferentConditionsKeepEachOthersEntries(t *testing.T) {
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a.example.com", UID: "u"}}
	k := fake.NewClientBuilder().WithScheme(newScheme(t)).WithTypeConverters(tc).WithObjects(c.DeepCopy()).
		WithStatusSubresource(&v1alpha1.DomainClaim{}).Build()
	ctx := context.Background()
	var w Writes
	set := func(o Owner, seen *v1alpha1.DomainClaim, typ, reason string, mutate func(*v1alpha1.DomainClaimStatus)) {
		st := seen.Status.DeepCopy()
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: reason})
		if mutate != nil {
			mutate(st)
		}
		_, err := w.Apply(ctx, k, o, seen, st)
		require.NoError(t, err)
	}
	// Both owners act on the same stale view of the claim, as two reconcilers with one cache do.
	stale := c.DeepCopy()
	set(Claim, stale.DeepCopy(), v1alpha1.ConditionClaimed, v1alpha1.ReasonClaimed, func(st *v1alpha1.DomainClaimStatus) { st.ManagedZone = "zone" })
	set(Certificate, stale.DeepCopy(), v1alpha1.ConditionCertificateRequested, "Requested", func(st *v1alpha1.DomainClaimStatus) { st.CertificateARN = "arn" })
	set(DNS, stale.DeepCopy(), v1alpha1.ConditionDNSRecord, "Created", nil)

	got := &v1alpha1.DomainClaim{}
	require.NoError(t, k.Get(ctx, client.ObjectKey{Name: c.Name}, got))
	for _, typ := range []string{v1alpha1.ConditionClaimed, v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionDNSRecord} {
		assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, typ), "%s survives the others' writes", typ)
	}
	assert.Equal(t, "zone", got.Status.ManagedZone)
	assert.Equal(t, "arn", got.Status.CertificateARN)

	// An owner that drops a condition it wrote removes it, and nothing of the others'.
	st := got.Status.DeepCopy()
	meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionDNSRecord)
	_, err = w.Apply(ctx, k, DNS, got, st)
	require.NoError(t, err)
	require.NoError(t, k.Get(ctx, client.ObjectKey{Name: c.Name}, got))
	assert.Nil(t, meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDNSRecord))
	assert.Len(t, got.Status.Conditions, 2)
}

func TestApplyDoesNotRepeatAWriteTheCacheHasNotShownYet(t *testing.T) {
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a.example.com", UID: types.UID(t.Name())}}
	applies := 0
	k := fake.NewClientBuilder().WithScheme(newScheme(t)).WithTypeConverters(tc).WithObjects(c.DeepCopy()).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			applies++
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		}}).Build()
	ctx := context.Background()
	pending := func(seen *v1alpha1.DomainClaim, at time.Time, msg string) *v1alpha1.DomainClaimStatus {
		st := seen.Status.DeepCopy()
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionGatewayAssigned, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonPending, Message: msg, LastTransitionTime: metav1.NewTime(at)})
		return st
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w Writes
	wrote, err := w.Apply(ctx, k, Pool, c.DeepCopy(), pending(c, t0, "waiting"))
	require.NoError(t, err)
	require.True(t, wrote)

	// The cache still shows the claim from before that write: the same again, a second later.
	wrote, err = w.Apply(ctx, k, Pool, c.DeepCopy(), pending(c, t0.Add(time.Second), "waiting"))
	require.NoError(t, err)
	assert.False(t, wrote, "what the owner wrote last is not written again from a stale view")
	assert.Equal(t, 1, applies)

	wrote, err = w.Apply(ctx, k, Pool, c.DeepCopy(), pending(c, t0.Add(time.Second), "waiting for something else"))
	require.NoError(t, err)
	assert.True(t, wrote, "news is written, stale view or not")

	// Someone else changed the owner's slice: what the owner wants is written again.
	edited := c.DeepCopy()
	meta.SetStatusCondition(&edited.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionGatewayAssigned, Status: metav1.ConditionTrue,
		Reason: "EditedByHand", LastTransitionTime: metav1.NewTime(t0)})
	wrote, err = w.Apply(ctx, k, Pool, edited, pending(c, t0, "waiting for something else"))
	require.NoError(t, err)
	assert.True(t, wrote)
	assert.Equal(t, 3, applies)
}

func TestHoldKeepsBackOnlyANewClaimsFirstWordThatSaysItIsWaiting(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cond := func(typ string, ok bool, reason string) metav1.Condition {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		return metav1.Condition{Type: typ, Status: s, Reason: reason}
	}
	cases := []struct {
		name   string
		owner  Owner
		had    []metav1.Condition
		want   []metav1.Condition
		at     time.Duration
		expect time.Duration
	}{
		{name: "a step on its way in the first minute waits for the rest of it", owner: Certificate, at: 20 * time.Second, expect: 40 * time.Second,
			want: []metav1.Condition{cond(v1alpha1.ConditionCertificateRequested, true, "Requested"), cond(v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonPending)}},
		{name: "a step not started counts as on its way", owner: Readiness, at: time.Second, expect: 59 * time.Second,
			want: []metav1.Condition{cond(v1alpha1.ConditionReady, false, v1alpha1.ReasonWaitingPrefix+v1alpha1.ConditionGatewayAssigned)}},
		{name: "every step done is written at once", owner: Certificate, at: 20 * time.Second,
			want: []metav1.Condition{cond(v1alpha1.ConditionCertificateRequested, true, "Requested"), cond(v1alpha1.ConditionCertificateIssued, true, v1alpha1.ReasonIssued)}},
		{name: "a failure is written at once", owner: Certificate, at: 20 * time.Second,
			want: []metav1.Condition{cond(v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonQuotaExceeded), cond(v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonPending)}},
		{name: "past the quiet period a wait is written at once", owner: Certificate, at: time.Minute,
			want: []metav1.Condition{cond(v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonPending)}},
		{name: "an owner that spoke before is heard at once", owner: Certificate, at: 20 * time.Second,
			had:  []metav1.Condition{cond(v1alpha1.ConditionCertificateIssued, true, v1alpha1.ReasonIssued)},
			want: []metav1.Condition{cond(v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonPending)}},
		{name: "StrayRoutes, False when all is well, is no step", owner: Pool, at: 20 * time.Second, expect: 40 * time.Second,
			want: []metav1.Condition{cond(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPending), cond(v1alpha1.ConditionStrayRoutes, false, v1alpha1.ReasonNoStrayRoutes)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
			c.Status.Conditions = tc.had
			st := &v1alpha1.DomainClaimStatus{Conditions: tc.want}
			assert.Equal(t, tc.expect, Hold(tc.owner, c, st, created.Add(tc.at), DefaultQuietPeriod))
			assert.Equal(t, tc.expect, Hold(tc.owner, c, st, created.Add(tc.at), 0), "a quiet of zero is the default")
		})
	}
}
