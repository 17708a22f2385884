package dnsbatch

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// maxIsolationRequests bounds the ChangeResourceRecordSets requests one flush spends, after its
// batch was rejected, to find the changes that caused it: Route53 allows five requests a second
// for the whole account (the client's limiter paces ours at four), so 16 are about four seconds.
// They suffice to resend the named culprits of a batch one by one (up to 15 of them), or to
// bisect a batch of a few hundred wants whose messages name none of its records. Wants still
// unsettled then wait, queued, for the zone's next batch.
const maxIsolationRequests = 16

// group is the changes one want adds to a batch. Route53 applies a batch atomically, so a want's
// record and its marker always travel together.
type group struct {
	id      string
	queued  queued // the want, to queue it again
	changes []types.Change
}

// changesOf concatenates the groups' changes into one batch, in order.
func changesOf(groups []group) []types.Change {
	var out []types.Change
	for _, g := range groups {
		out = append(out, g.changes...)
	}
	return out
}

// split decides how to resend the groups of a batch that Route53 rejected with msgs, its
// InvalidChangeBatch messages. A batch of one group needs no split: that want is the culprit.
// Otherwise the groups whose records the messages name are the suspects: the others go first, as
// one batch, then each suspect alone, so that a good want is applied with one more request and a
// culprit is reported with a message about its own records only. The messages are only a hint: a
// suspect that Route53 accepts alone is applied, and the rest, if Route53 rejects it too, is split
// again. When the messages name none of the groups, or all of them, the batch is bisected.
// The parts keep the groups' order, so that a want planned after another still follows it.
func split(msgs []string, groups []group) [][]group {
	if len(groups) < 2 {
		return nil
	}
	var rest, suspects []group
	for _, g := range groups {
		if names(msgs, g.changes) {
			suspects = append(suspects, g)
		} else {
			rest = append(rest, g)
		}
	}
	if len(rest) == 0 || len(suspects) == 0 {
		half := len(groups) / 2
		return [][]group{groups[:half], groups[half:]}
	}
	parts := [][]group{rest}
	for _, s := range suspects {
		parts = append(parts, []group{s})
	}
	return parts
}

// names reports whether one of Route53's messages names a record of changes, or the target of
// one of its ALIAS records: "[name='a.example.com.', type='A']", "RRSet with DNS name
// a.example.com. is not permitted", "Tried to create an alias that targets lb.elb.amazonaws.com.".
// A name counts only whole: "_marker.a.example.com." does not name "a.example.com.", and the
// hosted zone a message ends with names no record (not even the zone's apex).
func names(msgs []string, changes []types.Change) bool {
	for _, c := range changes {
		rs := c.ResourceRecordSet
		if rs == nil {
			continue
		}
		candidates := []string{aws.ToString(rs.Name)}
		if rs.AliasTarget != nil {
			candidates = append(candidates, aws.ToString(rs.AliasTarget.DNSName))
		}
		for _, m := range msgs {
			m = strings.ToLower(strings.ReplaceAll(m, `\052`, "*"))
			// "... is not permitted in zone example.com.": the zone is no record of the batch.
			m, _, _ = strings.Cut(m, " in zone ")
			for _, n := range candidates {
				if n != "" && containsName(m, strings.TrimSuffix(Canonical(n), ".")) {
					return true
				}
			}
		}
	}
	return false
}

// containsName reports whether text holds name (without its trailing dot) as a whole DNS name.
func containsName(text, name string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], name)
		if i < 0 {
			return false
		}
		i += from
		after := strings.TrimPrefix(text[i+len(name):], ".")
		if (i == 0 || !nameChar(text[i-1])) && (after == "" || !nameChar(after[0])) {
			return true
		}
		from = i + 1
	}
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*'
}
