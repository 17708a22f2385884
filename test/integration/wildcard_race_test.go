package integration

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// ownerNamed matches the part of a denial that names the namespace holding the hostname.
var ownerNamed = regexp.MustCompile(`namespace "([^"]+)"`)

// raceResult is what one trial of a wildcard-against-names race admitted.
type raceResult struct {
	wildcard bool // the wildcard's route was admitted
	exact    int  // how many of the exact names' routes were admitted
}

// raceWildcard releases, at one moment, a route for wildcard from namespace wns and a route for
// exact from each of ens, and checks every answer: an admission, or a denial (422, never a 500)
// that names one of the racing namespaces as the owner.
func raceWildcard(t *testing.T, wildcard, exact string, wns string, ens []string, spell func(int, string) string) raceResult {
	t.Helper()
	ctx := context.Background()
	errs := make([]error, 1+len(ens))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		ns, h := wns, wildcard
		if i > 0 {
			ns, h = ens[i-1], exact
		}
		r := route(ns, spell(i, h))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = k8s.Create(ctx, r)
		}()
	}
	close(start)
	wg.Wait()

	racers := map[string]bool{wns: true}
	for _, ns := range ens {
		racers[ns] = true
	}
	var res raceResult
	for i, err := range errs {
		if err == nil {
			if i == 0 {
				res.wildcard = true
			} else {
				res.exact++
			}
			continue
		}
		require.Falsef(t, apierrors.IsInternalError(err), "a denial must never be an internal error: %v", err)
		require.Truef(t, apierrors.IsInvalid(err), "a loser is denied (422), not failed otherwise: %v", err)
		m := ownerNamed.FindStringSubmatch(err.Error())
		require.NotNilf(t, m, "a denial names the owner: %v", err)
		require.Truef(t, racers[m[1]], "the owner named is one of the racers: %v", err)
	}
	return res
}

func mixedSpelling(i int, h string) string {
	switch i % 3 {
	case 1:
		return strings.ToUpper(h)
	case 2:
		return h + "."
	}
	return h
}

// TestWildcardAndNameRacedAreNeverBothAdmitted races one namespace asking for *.wN against K
// others asking for a name below it, with a fresh wN each trial: the wildcard and a name below it
// are never both admitted, and at most a few trials admit neither.
func TestWildcardAndNameRacedAreNeverBothAdmitted(t *testing.T) {
	cases := []struct {
		name   string
		k      int
		trials int
		below  string // the exact name, below "*.wN.<zone>"
		spell  func(int, string) string
	}{
		{name: "one name against the wildcard", k: 1, trials: 150, below: "x", spell: func(_ int, h string) string { return h }},
		{name: "seven namespaces for one name against the wildcard", k: 7, trials: 150, below: "x", spell: mixedSpelling},
		{name: "a deeper name against the wildcard, mixed spellings", k: 3, trials: 60, below: "a.b", spell: mixedSpelling},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			trials := tc.trials
			if testing.Short() {
				trials = 15
			}
			z := newZone(t)
			wns := tenant(t)
			ens := make([]string, tc.k)
			for i := range ens {
				ens[i] = tenant(t)
			}
			neither := 0
			for trial := 0; trial < trials; trial++ {
				w := fmt.Sprintf("w%d.%s", trial, z.Spec.Domain)
				res := raceWildcard(t, "*."+w, tc.below+"."+w, wns, ens, tc.spell)
				require.Falsef(t, res.wildcard && res.exact > 0, "trial %d: *.%s and a name below it were both admitted", trial, w)
				require.LessOrEqualf(t, res.exact, 1, "trial %d: one exact name admitted for two namespaces", trial)
				if !res.wildcard && res.exact == 0 {
					neither++
				}
				assertClaimsMatch(t, w, res)
			}
			t.Logf("%d trials, %d admitted neither (%.1f %%)", trials, neither, 100*float64(neither)/float64(trials))
			assert.LessOrEqualf(t, float64(neither), 0.05*float64(trials), "at most 5 %% of trials admit neither")
		})
	}
}

// assertClaimsMatch checks that the claims left below domain w, once withdrawals are done, are
// exactly what the trial admitted.
func assertClaimsMatch(t *testing.T, w string, res raceResult) {
	t.Helper()
	var live []string
	var l v1alpha1.DomainClaimList
	require.NoError(t, k8s.List(context.Background(), &l))
	for _, c := range l.Items {
		if c.DeletionTimestamp.IsZero() && (c.Spec.Hostname == "*."+w || hostname.Covers("*."+w, c.Spec.Hostname)) {
			live = append(live, c.Spec.Hostname)
			name := c.Name
			assert.Eventuallyf(t, func() bool {
				got, err := getClaim(name)
				return err == nil && got.Annotations[v1alpha1.AnnotationAdmissionPending] == ""
			}, 5*time.Second, 10*time.Millisecond, "claim %s is left pending", name)
		}
	}
	want := 0
	if res.wildcard {
		want++
	}
	want += res.exact
	require.Lenf(t, live, want, "claims left below %s: %v", w, live)
}

// TestOverlapMadeOutsideAdmissionIsSettled creates a wildcard and a name below it as admin claims
// at the same moment, again until both get in (the DomainClaim webhook decides from its cache and
// is not a lock): the newer is marked Conflicted, with an Event, and the older keeps the name.
func TestOverlapMadeOutsideAdmissionIsSettled(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	a, b := tenant(t), tenant(t)
	var wc, name *v1alpha1.DomainClaim
	for attempt := 0; attempt < 200 && name == nil; attempt++ {
		w := fmt.Sprintf("s%d.%s", attempt, z.Spec.Domain)
		c1, c2 := adminClaim("*."+w, a), adminClaim("x."+w, b)
		var e1, e2 error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); e1 = k8s.Create(ctx, c1) }()
		go func() { defer wg.Done(); e2 = k8s.Create(ctx, c2) }()
		wg.Wait()
		if e1 == nil && e2 == nil {
			wc, name = c1, c2
		}
	}
	require.NotNil(t, name, "no admin race got both claims in: nothing to settle")

	newer, older := name, wc
	if newer.CreationTimestamp.Before(&older.CreationTimestamp) ||
		(newer.CreationTimestamp.Equal(&older.CreationTimestamp) && newer.Name < older.Name) {
		newer, older = older, newer
	}
	require.Eventually(t, func() bool {
		c, err := getClaim(newer.Name)
		if err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed)
		return cond != nil && cond.Status == "False" && cond.Reason == v1alpha1.ReasonConflicted &&
			strings.Contains(cond.Message, older.Spec.Hostname)
	}, 15*time.Second, 50*time.Millisecond, "the newer claim is marked Conflicted, naming the older")
	require.Eventually(t, func() bool {
		c, err := getClaim(older.Name)
		if err != nil {
			return false
		}
		return meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed)
	}, 15*time.Second, 50*time.Millisecond, "the older claim keeps the name")

	require.Eventually(t, func() bool {
		var evs eventsv1.EventList
		if err := k8s.List(ctx, &evs, client.InNamespace("default")); err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == newer.Name && e.Reason == v1alpha1.ReasonConflicted {
				return true
			}
		}
		return false
	}, 15*time.Second, 50*time.Millisecond, "an Event reports the settlement")
}
