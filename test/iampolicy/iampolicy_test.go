// Package iampolicy checks deploy/iam/iam_policy.json against the product's code: every AWS
// operation the code calls is allowed, nothing else is, and the Route53 conditions name exactly
// the record types and change actions the code sends.
package iampolicy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// productDirs hold the code that ships in the binary (tests excluded).
var productDirs = []string{"cmd/gateway-orchestrator", "internal", "reconciler", "webhook", "api"}

// iamPrefix maps an SDK service package to its IAM service prefix.
var iamPrefix = map[string]string{
	"acm":                    "acm",
	"route53":                "route53",
	"elasticloadbalancingv2": "elasticloadbalancing",
	"sts":                    "sts",
}

// alsoAuthorizes lists operations that IAM authorizes with more than their own action.
var alsoAuthorizes = map[string][]string{
	// RequestCertificate with Tags (the orchestrator always tags) also checks
	// acm:AddTagsToCertificate (Service Authorization Reference, ACM).
	"acm:RequestCertificate": {"acm:AddTagsToCertificate"},
}

// needsNoPermission lists operations IAM never denies.
var needsNoPermission = map[string]bool{
	"sts:GetCallerIdentity": true, // "No permissions are required to perform this operation."
}

// withoutResourceLevelPermissions are the only actions a statement may grant on "*": they
// have no resource ARN to scope to (or create the resource).
var withoutResourceLevelPermissions = map[string]bool{
	"acm:ListCertificates":                       true,
	"acm:RequestCertificate":                     true,
	"acm:AddTagsToCertificate":                   true, // on the certificate RequestCertificate creates
	"elasticloadbalancing:DescribeLoadBalancers": true,
}

type statement struct {
	Sid       string
	Effect    string
	Action    []string
	Resource  any
	Condition map[string]map[string]any
}

func TestIAMPolicyAllowsExactlyTheOperationsTheCodeCalls(t *testing.T) {
	used := scan(t)
	require.Contains(t, used.actions, "acm:RequestCertificate", "the scanner finds the SDK calls")

	want := map[string]bool{}
	for a := range used.actions {
		if needsNoPermission[a] {
			continue
		}
		want[a] = true
		for _, b := range alsoAuthorizes[a] {
			want[b] = true
		}
	}
	got := map[string]bool{}
	for _, s := range policy(t) {
		assert.Equal(t, "Allow", s.Effect, s.Sid)
		for _, a := range s.Action {
			got[a] = true
		}
	}
	assert.ElementsMatch(t, sorted(want), sorted(got), "actions the code needs (left) against the policy's (right)")
}

func TestIAMPolicyScopesResourcesWhereAWSAllows(t *testing.T) {
	for _, s := range policy(t) {
		if s.Resource != "*" {
			continue
		}
		for _, a := range s.Action {
			assert.True(t, withoutResourceLevelPermissions[a], "%s grants %s on *; scope it to an ARN", s.Sid, a)
		}
	}
}

func TestIAMPolicyRoute53ConditionsNameWhatTheCodeSends(t *testing.T) {
	used := scan(t)
	var conds map[string]any
	for _, s := range policy(t) {
		if slices.Contains(s.Action, "route53:ChangeResourceRecordSets") {
			conds = s.Condition["ForAllValues:StringEquals"]
		}
	}
	require.NotNil(t, conds, "ChangeResourceRecordSets is conditioned")
	assert.ElementsMatch(t, sorted(used.recordTypes), conds["route53:ChangeResourceRecordSetsRecordTypes"])
	assert.ElementsMatch(t, sorted(used.changeActions), conds["route53:ChangeResourceRecordSetsActions"])
}

func TestScannerFindsOperationsRecordTypesAndActions(t *testing.T) {
	src := `package p
import (
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)
type API interface {
	ListResourceRecordSets(in *route53.ListResourceRecordSetsInput) error
}
var _ = elb.NewDescribeListenersPaginator
var c = r53.Change{Action: r53.ChangeActionUpsert, ResourceRecordSet: &r53.ResourceRecordSet{Type: r53.RRTypeAaaa}}
`
	var u usage
	u.init()
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.SkipObjectResolution)
	require.NoError(t, err)
	u.file(f)
	assert.Equal(t, []string{"elasticloadbalancing:DescribeListeners", "route53:ListResourceRecordSets"}, sorted(u.actions))
	assert.Equal(t, []string{"AAAA"}, sorted(u.recordTypes))
	assert.Equal(t, []string{"UPSERT"}, sorted(u.changeActions))
}

type usage struct {
	actions, recordTypes, changeActions map[string]bool
}

func (u *usage) init() {
	u.actions, u.recordTypes, u.changeActions = map[string]bool{}, map[string]bool{}, map[string]bool{}
}

// scan reads every non-test Go file of the product.
func scan(t *testing.T) usage {
	t.Helper()
	var u usage
	u.init()
	root := testenv.RepoRoot()
	for _, dir := range productDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			u.file(f)
			return nil
		})
		require.NoError(t, err)
	}
	return u
}

// file records the SDK operations a file refers to (their <Op>Input types or New<Op>Paginator
// constructors, which every call, interface declaration and paginator names) and the Route53
// record types and change actions it uses.
func (u *usage) file(f *ast.File) {
	services, r53types := map[string]string{}, map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		rest, ok := strings.CutPrefix(path, "github.com/aws/aws-sdk-go-v2/service/")
		if !ok {
			continue
		}
		svc, sub, _ := strings.Cut(rest, "/")
		name := svc
		if sub != "" {
			name = sub
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		switch {
		case sub == "" && iamPrefix[svc] != "":
			services[name] = iamPrefix[svc]
		case sub == "types" && svc == "route53":
			r53types[name] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		name := sel.Sel.Name
		if prefix := services[x.Name]; prefix != "" {
			if op, ok := strings.CutSuffix(name, "Input"); ok {
				u.actions[prefix+":"+op] = true
			} else if op, ok := strings.CutPrefix(name, "New"); ok && strings.HasSuffix(op, "Paginator") {
				u.actions[prefix+":"+strings.TrimSuffix(op, "Paginator")] = true
			}
		}
		if r53types[x.Name] {
			// The type names themselves (RRType, ChangeAction) leave an empty suffix.
			if v, ok := strings.CutPrefix(name, "RRType"); ok && v != "" {
				u.recordTypes[strings.ToUpper(v)] = true
			} else if v, ok := strings.CutPrefix(name, "ChangeAction"); ok && v != "" {
				u.changeActions[strings.ToUpper(v)] = true
			}
		}
		return true
	})
}

func policy(t *testing.T) []statement {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "iam", "iam_policy.json"))
	require.NoError(t, err)
	var p struct {
		Version   string
		Statement []statement
	}
	require.NoError(t, json.Unmarshal(b, &p))
	require.Equal(t, "2012-10-17", p.Version)
	return p.Statement
}

func sorted(m map[string]bool) []string {
	var r []string
	for k := range m {
		r = append(r, k)
	}
	slices.Sort(r)
	return r
}
