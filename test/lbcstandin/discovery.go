package lbcstandin

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// ACM is the part of the ACM client the stand-in's certificate discovery uses.
type ACM interface {
	ListCertificates(ctx context.Context, in *acm.ListCertificatesInput, optFns ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
	DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, optFns ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
}

// certificates returns the HTTPS:443 certificates the ALB gets: the configuration's, or, when it
// names none, those discovered by the HTTPS listeners' hostnames. missing is LBC's failure when a
// hostname has no certificate (the Gateway is not accepted).
func (s *StandIn) certificates(ctx context.Context, gw *gwv1.Gateway, cfg *lbc.LoadBalancerConfiguration) (certs gatewaypool.ListenerCertificates, missing string, err error) {
	certs = gatewaypool.CertificatesOf(cfg)
	if certs.DefaultCertificate != "" || len(certs.Certificates) > 0 || s.ACM == nil {
		return certs, "", nil
	}
	var hosts []string
	for _, l := range gw.Spec.Listeners {
		if l.Protocol == gwv1.HTTPSProtocolType && l.Hostname != nil {
			hosts = append(hosts, string(*l.Hostname))
		}
	}
	if len(hosts) == 0 {
		return certs, "", nil
	}
	found, err := DiscoverCertificates(ctx, s.ACM, hosts)
	if err != nil {
		var nc *noCertificate
		if errors.As(err, &nc) {
			return certs, err.Error(), nil
		}
		return certs, "", err
	}
	return found, "", nil
}

type noCertificate struct{ host string }

func (e *noCertificate) Error() string {
	return "no certificate found for host: " + e.host
}

// DiscoverCertificates does what LBC does for a listener whose configuration names no
// certificate: it reads every ISSUED ACM certificate's names (domain and subject alternative
// names) and takes, for each hostname, the certificates with a name that matches it exactly or as
// a wildcard one label above it. A hostname without one fails (LBC does not deploy the Gateway).
// The default certificate is the first of the sorted ARNs.
func DiscoverCertificates(ctx context.Context, client ACM, hosts []string) (gatewaypool.ListenerCertificates, error) {
	names := map[string][]string{} // ARN → names
	in := &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued}}
	for {
		out, err := client.ListCertificates(ctx, in)
		if err != nil {
			return gatewaypool.ListenerCertificates{}, err
		}
		for _, sum := range out.CertificateSummaryList {
			arn := aws.ToString(sum.CertificateArn)
			d, err := client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: sum.CertificateArn})
			if err != nil {
				return gatewaypool.ListenerCertificates{}, err
			}
			names[arn] = append([]string{aws.ToString(d.Certificate.DomainName)}, d.Certificate.SubjectAlternativeNames...)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	set := map[string]bool{}
	for _, h := range hosts {
		n := 0
		for arn, ns := range names {
			for _, name := range ns {
				if domainMatchesHost(name, h) {
					set[arn] = true
					n++
					break
				}
			}
		}
		if n == 0 {
			return gatewaypool.ListenerCertificates{}, &noCertificate{host: h}
		}
	}
	arns := make([]string, 0, len(set))
	for a := range set {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	return gatewaypool.ListenerCertificates{DefaultCertificate: arns[0], Certificates: arns[1:]}, nil
}

// domainMatchesHost is ACM name matching: equal names, or a wildcard covering exactly one label.
func domainMatchesHost(name, host string) bool {
	name, host = strings.ToLower(name), strings.ToLower(host)
	if name == host {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		label, parent, found := strings.Cut(host, ".")
		return found && label != "" && label != "*" && parent == rest
	}
	return false
}
