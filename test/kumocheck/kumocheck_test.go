// Package kumocheck runs Route53 scenarios against both the project's AWS test server and kumo,
// an independent AWS emulator, where kumo is faithful (record CREATE/UPSERT/DELETE, ALIAS A and
// AAAA created and deleted, listing, GetChange; ELBv2 load balancers listed across pages), and requires the same answers: a check that the test server speaks
// the wire protocol as others read it. It is its own module so kumo's many dependencies stay out
// of the orchestrator's go.mod.
package kumocheck

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/sivchari/kumo"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

func client(url string) *route53.Client {
	return route53.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
}

func rr(action types.ChangeAction, name string, typ types.RRType, values ...string) types.Change {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(60)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: rs}
}

func alias(name string, typ types.RRType) types.Change {
	return aliasChange(types.ChangeActionCreate, name, typ)
}

// aliasChange is an ALIAS change as the orchestrator sends it: a DELETE repeats the record as
// it is, target included.
func aliasChange(action types.ChangeAction, name string, typ types.RRType) types.Change {
	return types.Change{Action: action, ResourceRecordSet: &types.ResourceRecordSet{
		Name: aws.String(name), Type: typ,
		AliasTarget: &types.AliasTarget{DNSName: aws.String("lb-1.us-east-1.elb.amazonaws.com."), HostedZoneId: aws.String("Z35SXDOTRQ7X7K")},
	}}
}

// scenario applies the same changes through c to zone and returns what the zone then lists (NS
// and SOA left out: a real zone starts with them, the test server's does not) and the status of
// the last change.
func scenario(t *testing.T, c *route53.Client, zone string) ([]string, string) {
	ctx := context.Background()
	var last *types.ChangeInfo
	for _, batch := range [][]types.Change{
		{rr(types.ChangeActionCreate, "a.example.com", types.RRTypeA, "192.0.2.1")},
		{rr(types.ChangeActionCreate, "_v.shop.example.com", types.RRTypeCname, "_x.acm-validations.aws."), rr(types.ChangeActionCreate, "t.example.com", types.RRTypeTxt, `"owner=me"`)},
		{alias("shop.example.com", types.RRTypeA), alias("shop.example.com", types.RRTypeAaaa)},
		{rr(types.ChangeActionUpsert, "a.example.com", types.RRTypeA, "192.0.2.2")},
		{rr(types.ChangeActionDelete, "t.example.com", types.RRTypeTxt, `"owner=me"`)},
		// The A ALIAS goes and its AAAA twin stays, as when one address family is dropped.
		{alias("gone.example.com", types.RRTypeA), alias("gone.example.com", types.RRTypeAaaa)},
		{aliasChange(types.ChangeActionDelete, "gone.example.com", types.RRTypeA)},
	} {
		out, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: batch}})
		require.NoError(t, err)
		last = out.ChangeInfo
	}
	got, err := c.GetChange(ctx, &route53.GetChangeInput{Id: last.Id})
	require.NoError(t, err)

	var records []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)}
	for {
		out, err := c.ListResourceRecordSets(ctx, in)
		require.NoError(t, err)
		for _, rs := range out.ResourceRecordSets {
			if rs.Type == types.RRTypeNs || rs.Type == types.RRTypeSoa {
				continue
			}
			var vals []string
			for _, v := range rs.ResourceRecords {
				vals = append(vals, aws.ToString(v.Value))
			}
			if a := rs.AliasTarget; a != nil {
				vals = append(vals, "ALIAS "+strings.TrimSuffix(aws.ToString(a.DNSName), ".")+" "+aws.ToString(a.HostedZoneId))
			}
			records = append(records, fmt.Sprintf("%s %s %s", strings.TrimSuffix(aws.ToString(rs.Name), "."), rs.Type, strings.Join(vals, ",")))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
	}
	sort.Strings(records)
	return records, string(got.ChangeInfo.Status)
}

func TestRoute53AgreesWithKumo(t *testing.T) {
	k := kumo.NewServer()
	defer k.Close()
	kc := client(k.URL)
	hz, err := kc.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("ref-1")})
	require.NoError(t, err)
	kumoRecords, kumoStatus := scenario(t, kc, aws.ToString(hz.HostedZone.Id))

	ours := awsfake.New(awsfake.Options{})
	defer ours.Close()
	ourRecords, ourStatus := scenario(t, client(ours.URL), ours.Route53.AddZone("example.com"))

	require.NotEmpty(t, kumoRecords)
	require.Equal(t, kumoRecords, ourRecords, "the zones read back the same through the SDK")
	require.Equal(t, kumoStatus, ourStatus, "GetChange reports the same status")
}
