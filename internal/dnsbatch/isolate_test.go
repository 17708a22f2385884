package dnsbatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// groupOf is the group a want for rs makes in a batch: the record and its marker.
func groupOf(id string, rs types.ResourceRecordSet) group {
	rs.Name = aws.String(Canonical(aws.ToString(rs.Name)))
	marker := markerSet(MarkerName(aws.ToString(rs.Name), string(rs.Type)), MarkerValue("test"))
	return group{id: id, changes: []types.Change{
		{Action: types.ChangeActionCreate, ResourceRecordSet: &rs},
		{Action: types.ChangeActionCreate, ResourceRecordSet: &marker},
	}}
}

func ids(parts [][]group) [][]string {
	var out [][]string
	for _, p := range parts {
		var l []string
		for _, g := range p {
			l = append(l, g.id)
		}
		out = append(out, l)
	}
	return out
}

func TestSplitOfARejectedBatch(t *testing.T) {
	a := groupOf("a", cname("a.example.com.", "x.acm-validations.aws."))
	b := groupOf("b", alias("b.example.com.", "lb-1.us-east-1.elb.amazonaws.com."))
	c := groupOf("c", cname("\\052.c.example.com.", "y.acm-validations.aws."))
	d := groupOf("d", cname("example.com.", "z.acm-validations.aws."))
	cases := []struct {
		name   string
		msgs   []string
		groups []group
		want   [][]string
	}{
		{name: "a want rejected alone is the culprit: nothing to split",
			msgs: []string{"Tried to create resource record set [name='a.example.com.', type='CNAME'] but it already exists"}, groups: []group{a}},
		{name: "the named want goes alone, after the others",
			msgs:   []string{"Tried to create resource record set [name='b.example.com.', type='A'] but it already exists"},
			groups: []group{a, b, c}, want: [][]string{{"a", "c"}, {"b"}}},
		{name: "a want is named by its marker too",
			msgs:   []string{"Tried to create resource record set [name='_gateway-orchestrator-cname.a.example.com.', type='TXT'] but it already exists"},
			groups: []group{a, b, c}, want: [][]string{{"b", "c"}, {"a"}}},
		{name: "a marker's name does not name the record it sits below",
			msgs:   []string{"Tried to delete resource record set [name='_gateway-orchestrator-a.b.example.com.', type='TXT'] but it was not found"},
			groups: []group{a, c}, want: [][]string{{"a"}, {"c"}}},
		{name: "an ALIAS is named by its target",
			msgs:   []string{"Tried to create an alias that targets lb-1.us-east-1.elb.amazonaws.com., type A in zone Z35SXDOTRQ7X7K, but the alias target name does not lie within the target zone"},
			groups: []group{a, b, c}, want: [][]string{{"a", "c"}, {"b"}}},
		{name: "names compare without case, trailing dot or Route53's escape of the wildcard",
			msgs:   []string{"RRSet with DNS name \\052.C.Example.com is not permitted in zone example.com."},
			groups: []group{a, b, c}, want: [][]string{{"a", "b"}, {"c"}}},
		{name: "each named want goes alone",
			msgs: []string{"Tried to create resource record set [name='a.example.com.', type='CNAME'] but it already exists",
				"RRSet of type CNAME with DNS name \\052.c.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
			groups: []group{a, b, c, d}, want: [][]string{{"b", "d"}, {"a"}, {"c"}}},
		{name: "a message naming no want bisects the batch",
			msgs:   []string{"Number of records limit of 1000 exceeded."},
			groups: []group{a, b, c}, want: [][]string{{"a"}, {"b", "c"}}},
		{name: "messages naming every want bisect the batch",
			msgs: []string{"Tried to create resource record set [name='a.example.com.', type='CNAME'] but it already exists",
				"Tried to create resource record set [name='b.example.com.', type='A'] but it already exists"},
			groups: []group{a, b}, want: [][]string{{"a"}, {"b"}}},
		{name: "no messages at all bisect the batch",
			groups: []group{a, b, c, d}, want: [][]string{{"a", "b"}, {"c", "d"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ids(split(tc.msgs, tc.groups)))
		})
	}
}

// rewriting passes calls to Route53 and replaces the messages of its InvalidChangeBatch errors,
// as a Route53 that words them differently would send them.
type rewriting struct {
	API
	messages []string
}

func (r rewriting) ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	out, err := r.API.ChangeResourceRecordSets(ctx, in, opts...)
	var invalid *types.InvalidChangeBatch
	if errors.As(err, &invalid) {
		return nil, &types.InvalidChangeBatch{Message: aws.String("rejected"), Messages: r.messages}
	}
	return out, err
}

// isolation is a batcher whose wants for claim-0 … claim-<n-1> were queued in one batch window
// through the real Route53 client and the AWS test server, before someone else wrote a CNAME at
// claim-<foreign>'s name: that claim's CREATE is invalid, the others are good.
type isolation struct {
	s      *awsfake.Server
	zone   string
	b      *Batcher
	ctx    context.Context
	wants  []Want
	mu     sync.Mutex
	told   map[string]int
	client *route53.Client
}

// fakeAWS starts the AWS test server with a hosted zone for example.com, and configures the
// real clients for it: no retries, so that a throttled call reaches the batcher.
func fakeAWS(t *testing.T, opts awsfake.Options) (*awsfake.Server, string, aws.Config) {
	t.Helper()
	s := awsfake.New(opts)
	t.Cleanup(s.Close)
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxAttempts: 1, Rates: map[string]float64{"route53:*": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	return s, s.Route53.AddZone("example.com"), cfg
}

func newIsolation(t *testing.T, n int, foreign ...int) *isolation {
	t.Helper()
	s, zone, cfg := fakeAWS(t, awsfake.Options{})
	iso := &isolation{s: s, zone: zone, client: route53.NewFromConfig(cfg), told: map[string]int{}}
	iso.b = &Batcher{API: iso.client, Cluster: "test", Window: 10 * time.Millisecond, Notify: func(owner string) {
		iso.mu.Lock()
		defer iso.mu.Unlock()
		iso.told[owner]++
	}}
	for i := 0; i < n; i++ {
		w := want(i)
		w.Zone = zone
		iso.wants = append(iso.wants, w)
		res, err := iso.b.Ensure(context.Background(), fmt.Sprintf("claim-%d", i), w)
		require.NoError(t, err)
		require.Equal(t, Pending, res.State)
	}
	for _, i := range foreign {
		s.Route53.Put(zone, awsfake.RecordSet{Name: fmt.Sprintf("_v%d.example.com.", i), Type: "CNAME", TTL: aws.Int64(60), Values: []string{"someone-else.example.net."}})
	}
	return iso
}

// start sends the queued batch and waits until every owner was told.
func (iso *isolation) start(t *testing.T) {
	t.Helper()
	iso.ctx = run(t, iso.b)
	require.Eventually(t, func() bool {
		iso.mu.Lock()
		defer iso.mu.Unlock()
		return len(iso.told) == len(iso.wants)
	}, 5*time.Second, 5*time.Millisecond, "every owner is told how its change went")
}

func (iso *isolation) ensure(t *testing.T, i int) (Result, error) {
	t.Helper()
	return iso.b.Ensure(iso.ctx, fmt.Sprintf("claim-%d", i), iso.wants[i])
}

// assertOnly checks that the culprits alone failed, each with Route53's message about its own
// record, and that every other want is in the zone and Done.
func (iso *isolation) assertOnly(t *testing.T, culprits ...int) {
	t.Helper()
	bad := map[int]bool{}
	for _, c := range culprits {
		bad[c] = true
	}
	for i := range iso.wants {
		name := fmt.Sprintf("_v%d.example.com.", i)
		res, err := iso.ensure(t, i)
		if !bad[i] {
			require.NoError(t, err, "claim-%d", i)
			assert.Equal(t, Done, res.State, "claim-%d's change was good: it is applied (%s)", i, res.Message)
			assert.True(t, iso.has(name), "%s is in the zone", name)
			continue
		}
		require.Error(t, err, "claim-%d", i)
		assert.Equal(t, Failed, res.State, "claim-%d's change was the invalid one", i)
		assert.Contains(t, res.Message, name, "claim-%d is told about its own record", i)
		for j := range iso.wants {
			if j != i {
				assert.NotContains(t, res.Message, fmt.Sprintf("_v%d.example.com", j), "claim-%d is not told about claim-%d's record", i, j)
			}
		}
	}
}

func (iso *isolation) has(name string) bool {
	for _, rs := range iso.s.Route53.Records(iso.zone) {
		if rs.Name == name && rs.Type == "CNAME" && len(rs.Values) == 1 && rs.Values[0] == "x.acm-validations.aws." {
			return true
		}
	}
	return false
}

func TestARejectedBatchFailsOnlyTheWantThatCausedIt(t *testing.T) {
	iso := newIsolation(t, 5, 2)
	iso.start(t)
	iso.assertOnly(t, 2)
	assert.Equal(t, 3, iso.s.Calls("route53:ChangeResourceRecordSets"),
		"the batch, then the good wants together, then the named one alone")
}

func TestARejectedBatchWhoseMessagesNameNoWantIsBisected(t *testing.T) {
	iso := newIsolation(t, 8, 5)
	iso.b.API = rewriting{API: iso.client, messages: []string{"something Route53 says in words we do not know"}}
	iso.start(t)
	for i := range iso.wants {
		res, err := iso.ensure(t, i)
		if i != 5 {
			require.NoError(t, err)
			assert.Equal(t, Done, res.State, "claim-%d's change was good: it is applied", i)
			continue
		}
		require.Error(t, err)
		assert.Equal(t, Failed, res.State)
		assert.Equal(t, "Route53 rejected the change: something Route53 says in words we do not know", res.Message)
	}
	// 8 wants, one bad: the batch, its halves, the bad half's halves, and the bad quarter's.
	assert.Equal(t, 7, iso.s.Calls("route53:ChangeResourceRecordSets"))
}

func TestIsolationSpendsABoundedNumberOfRequestsAndQueuesTheRest(t *testing.T) {
	iso := newIsolation(t, 40, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 1, 4, 7, 10, 13, 16)
	// The requeued wants wait for a batch that does not come in this test.
	iso.b.Window = time.Hour
	// No messages: bisection, the costliest case.
	iso.b.API = rewriting{API: iso.client}
	iso.ctx = run(t, iso.b)
	require.Eventually(t, func() bool { return iso.s.Calls("route53:ChangeResourceRecordSets") == 1+maxIsolationRequests },
		5*time.Second, 5*time.Millisecond)
	assert.Never(t, func() bool { return iso.s.Calls("route53:ChangeResourceRecordSets") > 1+maxIsolationRequests },
		200*time.Millisecond, 10*time.Millisecond, "one flush sends no more than its bound")
	queued := 0
	for i := range iso.wants {
		if res, err := iso.ensure(t, i); err == nil && res.State == Pending {
			queued++
		}
	}
	assert.Positive(t, queued, "the wants not settled wait for the next batch")
}

func TestThrottlingDuringIsolationIsNotARejection(t *testing.T) {
	iso := newIsolation(t, 4, 1)
	// The whole batch is rejected; the next request is throttled beyond the SDK's retries.
	iso.s.SetFault("route53:ChangeResourceRecordSets", &awsfake.Fault{Code: "Throttling", Every: 2, Times: 1})
	iso.start(t)
	assert.Equal(t, 2, iso.s.Calls("route53:ChangeResourceRecordSets"), "throttled, the batcher stops isolating")
	for i := range iso.wants {
		res, err := iso.ensure(t, i)
		require.Error(t, err, "claim-%d", i)
		assert.Equal(t, Failed, res.State)
		assert.True(t, awsclient.IsThrottled(err), "claim-%d backs off as throttled, as before: %v", i, err)
		assert.NotContains(t, res.Message, "_v1.example.com", "no claim is told about claim-1's record")
	}
	assert.Len(t, iso.s.Route53.Records(iso.zone), 1, "only the foreign record is in the zone")
}

func TestAnAliasToAGoneLoadBalancerFailsOnlyItsOwnClaim(t *testing.T) {
	s, zone, cfg := fakeAWS(t, awsfake.Options{AliasTargetsMustExist: true})
	lb, err := elasticloadbalancingv2.NewFromConfig(cfg).CreateLoadBalancer(context.Background(), &elasticloadbalancingv2.CreateLoadBalancerInput{Name: aws.String("k8s-pool-1")})
	require.NoError(t, err)
	live := "dualstack." + aws.ToString(lb.LoadBalancers[0].DNSName)
	const gone = "dualstack.k8s-gone-0123456789.us-east-1.elb.amazonaws.com."

	var mu sync.Mutex
	told := map[string]bool{}
	b := &Batcher{API: route53.NewFromConfig(cfg), Cluster: "test", Window: 10 * time.Millisecond, Notify: func(o string) {
		mu.Lock()
		defer mu.Unlock()
		told[o] = true
	}}
	wants := map[string]Want{}
	for i, target := range []string{live, live, gone, live} {
		rs := alias(fmt.Sprintf("app%d.example.com.", i), target)
		rs.AliasTarget.HostedZoneId = aws.String(awsfake.ALBZoneID)
		wants[fmt.Sprintf("claim-%d", i)] = Want{Zone: zone, Record: rs, Kind: Exclusive}
	}
	for owner, w := range wants { // one batch window: queued before the batcher starts
		res, err := b.Ensure(context.Background(), owner, w)
		require.NoError(t, err)
		require.Equal(t, Pending, res.State)
	}
	ctx := run(t, b)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(told) == len(wants)
	}, 5*time.Second, 5*time.Millisecond, "every owner is told how its change went")

	for owner, w := range wants {
		res, err := b.Ensure(ctx, owner, w)
		if owner != "claim-2" {
			require.NoError(t, err, owner)
			assert.Equal(t, Done, res.State, "%s's ALIAS points at a load balancer that exists: it is made", owner)
			continue
		}
		require.Error(t, err)
		assert.Equal(t, Failed, res.State)
		assert.Equal(t, "Route53 rejected the change: Tried to create an alias that targets "+gone+", type A in zone Z35SXDOTRQ7X7K, but that target was not found", res.Message)
	}
	assert.Len(t, s.Route53.Records(zone), 2*3, "three ALIAS records, each with its marker")
	assert.Equal(t, 3, s.Calls("route53:ChangeResourceRecordSets"), "the batch, the good wants together, the stale one alone")
}
