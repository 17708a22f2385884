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
