package lbcstandin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// MaxRulesPerALB is the ALB quota of rules per load balancer (default actions not counted).
const MaxRulesPerALB = 100

// MaxTargetGroupsPerALB is the ELBv2 quota of target groups per Application Load Balancer.
const MaxTargetGroupsPerALB = 100

// MaxTargetGroupsPerAction is the ELBv2 quota of target groups per forward action of an
// Application Load Balancer (not adjustable): a rule of more is refused, and LBC's deploy of the
// Gateway fails with it.
const MaxTargetGroupsPerAction = 5

// WidestAction is the attached route rule with the most Service backends (LBC forwards one route
// rule to all of them in one action), and how many it has.
func WidestAction(rules []Rule) (Route, int) {
	var widest Route
	n := 0
	for _, r := range rules {
		for _, rule := range r.Route.Rules {
			if len(rule.Services) > n {
				widest, n = r.Route, len(rule.Services)
			}
		}
	}
	return widest, n
}

// MaxConditionValuesPerRule is the ELBv2 quota "Condition values per rule" (5) of an ALB rule,
// all its conditions together: a rule of more is refused, and LBC's deploy of the Gateway fails
// with it.
const MaxConditionValuesPerRule = 5

// WidestMatch is the attached route with the match whose ALB rule needs the most condition
// values, and how many. LBC v3.0 to v3.4.2 (pkg/gateway/routeutils BuildHttpRuleConditions) puts
// all of a route's hostnames on a port into one host-header condition of each match's rule, so
// every hostname is a value of every match; v3.4.3 splits the rule per hostname. The stand-in is
// as strict as the oldest LBC the project supports, even though its rule table (BuildRules) is
// split per hostname. A rule without matches is the match of "/*".
func WidestMatch(attached []Route, hosts []map[int32][]string) (Route, int) {
	var widest Route
	n := 0
	for i, rt := range attached {
		for _, hs := range hosts[i] {
			named := 0
			for _, h := range hs {
				if h != "" {
					named++
				}
			}
			for _, rule := range rt.Rules {
				matches := rule.Matches
				if len(matches) == 0 {
					matches = []Match{{Path: "/", Values: 1}}
				}
				for _, m := range matches {
					if named+m.Values > n {
						widest, n = rt, named+m.Values
					}
				}
			}
		}
	}
	return widest, n
}

// TargetGroups counts the target groups LBC makes for the routes attached to one Gateway: one per
// route (kind, namespace, name), Service backend and port, however many rules use it.
func TargetGroups(attached []Route) int {
	type key struct {
		kind, ns, name string
		svc            ServicePort
	}
	seen := map[key]bool{}
	for _, rt := range attached {
		for _, rule := range rt.Rules {
			for _, sp := range rule.Services {
				seen[key{rt.Kind, rt.Namespace, rt.Name, sp}] = true
			}
		}
	}
	return len(seen)
}

// Rule is one ALB listener rule as LBC v3.4.3 and later builds it: one per route rule, match and
// hostname (before, one per route rule and match with all the hostnames in its host condition,
// which routes the same requests; WidestMatch counts its condition values that way).
type Rule struct {
	Port    int32
	Host    string // "" matches every host
	Match   Match
	Backend types.NamespacedName
	// TargetGroup is the target group name the rule forwards to when its route rule names one
	// (RouteRule.TargetGroup); ResolveTargetGroups sets Backend from it.
	TargetGroup string
	// BackendPort is the port of Backend.
	BackendPort int32
	Route       Route
}

// BuildRules makes the ALB rules of the routes attached to a Gateway, in LBC's order of
// precedence: exact hosts before wildcards before the catch-all, then exact paths before
// prefixes, longer paths first, then the older route, then the route's name.
func BuildRules(attached []Route, hosts []map[int32][]string) []Rule {
	var out []Rule
	for i, rt := range attached {
		for port, hs := range hosts[i] {
			for _, rule := range rt.Rules {
				matches := rule.Matches
				if len(matches) == 0 {
					matches = []Match{{Path: "/"}}
				}
				for _, m := range matches {
					for _, h := range hs {
						out = append(out, Rule{Port: port, Host: h, Match: m, Backend: rule.Backend, BackendPort: rule.BackendPort, TargetGroup: rule.TargetGroup, Route: rt})
					}
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out
}

// TargetGroupName is the name the stand-in gives the target group LBC makes for a route's Service
// backend and port on a Gateway when no TargetGroupConfiguration names it, of the shape LBC v3
// gives it (pkg/gateway/model/model_build_target_group.go buildTargetGroupName): "k8s-", the
// first 8 letters and digits of the route's namespace and of its name, and 10 hex digits of a
// SHA-256 of the Gateway, the route, the Service and the port (LBC also hashes the cluster's name
// and the target type and protocol), 32 characters at most.
func TargetGroupName(gatewayNS, gatewayName string, rt Route, sp ServicePort) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s|%s/%s/%s|%s|%d", gatewayNS, gatewayName, rt.Kind, rt.Namespace, rt.Name, sp.Service, sp.Port)))
	return fmt.Sprintf("k8s-%.8s-%.8s-%.10s", alnum(rt.Namespace), alnum(rt.Name), hex.EncodeToString(h[:]))
}

// TargetGroupNamer names the target group of a route's Service backend and port.
type TargetGroupNamer func(Route, ServicePort) string

// ResolveTargetGroups points each rule at the Service whose target group it forwards to, as
// ELBv2 does for LBC. LBC creates a target group per route, Service backend and port, by name
// (name); ELBv2's create is idempotent, so a name some target group already has returns that
// one, and the Service of the route made first keeps it. A rule naming a target group
// (RouteRule.TargetGroup) gets that target group, whoever made it (LBC looks the name up in the
// account). It returns the first such name no target group has: LBC's lookup fails, and its
// deploy of the whole Gateway with it.
func ResolveTargetGroups(rules []Rule, attached []Route, name TargetGroupNamer) string {
	made := append([]Route(nil), attached...)
	sort.SliceStable(made, func(i, j int) bool {
		if !made[i].Created.Equal(made[j].Created) {
			return made[i].Created.Before(made[j].Created)
		}
		return made[i].Namespace+"/"+made[i].Name < made[j].Namespace+"/"+made[j].Name
	})
	byName := map[string]types.NamespacedName{}
	for _, rt := range made {
		for _, rule := range rt.Rules {
			for _, sp := range rule.Services {
				if n := strings.ToLower(name(rt, sp)); byName[n] == (types.NamespacedName{}) {
					byName[n] = sp.Service
				}
			}
		}
	}
	for i := range rules {
		n := rules[i].TargetGroup
		if n == "" {
			if rules[i].Backend == (types.NamespacedName{}) {
				continue
			}
			n = name(rules[i].Route, ServicePort{Service: rules[i].Backend, Port: rules[i].BackendPort})
		}
		svc, ok := byName[strings.ToLower(n)]
		switch {
		case ok:
			rules[i].Backend = svc
		case rules[i].TargetGroup != "":
			return rules[i].TargetGroup
		}
	}
	return ""
}

func hostRank(h string) int {
	switch {
	case h == "":
		return 2
	case strings.HasPrefix(h, "*."):
		return 1
	}
	return 0
}

func before(a, b Rule) bool {
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	if ra, rb := hostRank(a.Host), hostRank(b.Host); ra != rb {
		return ra < rb
	}
	if len(a.Host) != len(b.Host) {
		return len(a.Host) > len(b.Host)
	}
	if a.Match.Exact != b.Match.Exact {
		return a.Match.Exact
	}
	if len(a.Match.Path) != len(b.Match.Path) {
		return len(a.Match.Path) > len(b.Match.Path)
	}
	if !a.Route.Created.Equal(b.Route.Created) {
		return a.Route.Created.Before(b.Route.Created)
	}
	if an, bn := a.Route.Namespace+"/"+a.Route.Name, b.Route.Namespace+"/"+b.Route.Name; an != bn {
		return an < bn
	}
	return a.Host < b.Host
}

// hostMatches is an ALB host-header condition: exact, or a wildcard's suffix.
func hostMatches(cond, host string) bool {
	if cond == "" || cond == host {
		return true
	}
	return strings.HasPrefix(cond, "*.") && strings.HasSuffix(host, cond[1:])
}

func pathMatches(m Match, path string) bool {
	if m.Exact {
		return path == m.Path
	}
	p := strings.TrimSuffix(m.Path, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

// Resolve is what the ALB does with a request on a port: the backend of the first rule whose
// host and path match, or false for the listener's default action (404).
func Resolve(rules []Rule, port int32, host, path string) (types.NamespacedName, bool) {
	for _, r := range rules {
		if r.Port == port && hostMatches(r.Host, host) && pathMatches(r.Match, path) {
			return r.Backend, true
		}
	}
	return types.NamespacedName{}, false
}
