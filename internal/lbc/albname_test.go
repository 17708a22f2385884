package lbc

import "testing"

func TestALBNameFromDNS(t *testing.T) {
	for _, c := range []struct {
		dns, name string
		ok        bool
	}{
		{"k8s-pool-a-1234abcd.us-east-1.elb.amazonaws.com", "k8s-pool-a", true},
		{"internal-k8s-pool-a-1234abcd.us-east-1.elb.amazonaws.com", "k8s-pool-a", true},
		{"dualstack.k8s-pool-a-1234abcd.eu-west-1.elb.amazonaws.com.", "k8s-pool-a", true},
		{"K8S-Pool-A-1234ABCD.us-east-1.elb.amazonaws.com", "k8s-pool-a", true},
		{"shared-99.cn-north-1.elb.amazonaws.com.cn", "shared", true},
		{"a-b.us-east-1.elb.amazonaws.com", "a", true},
		{"nohyphen.us-east-1.elb.amazonaws.com", "", false},
		{"-1234.us-east-1.elb.amazonaws.com", "", false},
		{"name-.us-east-1.elb.amazonaws.com", "", false},
		{"k8s-pool-a-1234abcd.us-east-1.example.com", "", false},
		{"k8s-pool-a-1234abcd.elb.amazonaws.com", "", false},
		{"k8s_pool-1234.us-east-1.elb.amazonaws.com", "", false},
		{"a-very-long-name-over-thirty-two-chars-1234.us-east-1.elb.amazonaws.com", "", false},
		{"10.0.0.1", "", false},
		{"", "", false},
	} {
		name, ok := ALBNameFromDNS(c.dns)
		if name != c.name || ok != c.ok {
			t.Errorf("ALBNameFromDNS(%q) = %q, %v; want %q, %v", c.dns, name, ok, c.name, c.ok)
		}
	}
}

func TestGeneratedShape(t *testing.T) {
	for _, c := range []struct {
		why, name string
		want      bool
	}{
		{"a Gateway's (namespace and name cut to 8)", "k8s-gateways-public3-0123456789", true},
		{"a short namespace and name", "k8s-a-b-abcdef0123", true},
		{"an explicit IngressGroup's (17 characters of its name)", "k8s-sharedgroupname1-abcdef0123", true},
		{"upper case, which ELB does not tell apart", "K8S-TeamA-Web-ABCDEF0123", true},
		{"a hash of 8 hex digits (the stand-in's old names)", "k8s-teama-web-abcdef01", false},
		{"a hash that is not hex", "k8s-teama-web-abcdefghij", false},
		{"a namespace part longer than 8", "k8s-teamalpha1-web-abcdef0123", false},
		{"a group part longer than 17", "k8s-sharedgroupname123-abcdef0123", false},
		{"three parts before the hash", "k8s-a-b-c-abcdef0123", false},
		{"no k8s prefix", "web-teama-web-abcdef0123", false},
		{"a name of the tenant's own", "team-a-shop", false},
		{"an own name that starts with k8s", "k8s-intruder-own", false},
	} {
		if got := GeneratedShape(c.name); got != c.want {
			t.Errorf("%s: GeneratedShape(%q) = %v, want %v", c.why, c.name, got, c.want)
		}
	}
}

func TestGeneratedFor(t *testing.T) {
	for _, c := range []struct {
		why, name, ns, obj, group string
		want                      bool
	}{
		{"a Gateway's, namespace and name cut to 8 letters and digits", "k8s-gateways-public3-abcdef0123", "gateway-system", "public-3", "", true},
		{"whatever the case", "K8S-TEAMA-WEB-ABCDEF0123", "team-a", "web", "", true},
		{"another object's", "k8s-gateways-public3-abcdef0123", "gateway-system", "public-4", "", false},
		{"another namespace's", "k8s-teamb-web-abcdef0123", "team-a", "web", "", false},
		{"an IngressGroup's, its name cut to 17", "k8s-averylonggroupnam-abcdef0123", "team-a", "web", "a-very-long-group-name-indeed", true},
		{"not of the generated shape", "k8s-teama-web-own", "team-a", "web", "", false},
	} {
		if got := GeneratedFor(c.name, c.ns, c.obj, c.group); got != c.want {
			t.Errorf("%s: GeneratedFor(%q, %q, %q, %q) = %v, want %v", c.why, c.name, c.ns, c.obj, c.group, got, c.want)
		}
	}
}
