package certificate

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// settledStatuses are the ACM statuses a pending certificate can move to.
var settledStatuses = []types.CertificateStatus{
	types.CertificateStatusIssued, types.CertificateStatusFailed, types.CertificateStatusValidationTimedOut,
	types.CertificateStatusRevoked, types.CertificateStatusExpired, types.CertificateStatusInactive,
}

// Poller watches pending certificates for all claims at once: one ListCertificates call (up to
// 1,000 certificates a page) answers for every waiting claim, where a DescribeCertificate per
// claim per poll would spend ACM's per-account rate many times over.
type Poller struct {
	ACM      ACM
	Interval time.Duration
	// Notify is told the owner of a certificate whose status settled.
	Notify func(owner string)

	mu      sync.Mutex
	waiting map[string]string // ARN → owner
	settled map[string]types.CertificateStatus
}

// Wait registers a pending certificate and returns its settled status if it is known.
func (p *Poller) Wait(arn, owner string) types.CertificateStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.settled[arn]; ok {
		return s
	}
	if p.waiting == nil {
		p.waiting = map[string]string{}
	}
	p.waiting[arn] = owner
	return types.CertificateStatusPendingValidation
}

// Forget drops a certificate (deleted, or its claim gone).
func (p *Poller) Forget(arn string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, arn)
	delete(p.settled, arn)
}

// Start polls until ctx ends. It implements manager.Runnable.
func (p *Poller) Start(ctx context.Context) error {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.poll(ctx)
		}
	}
}

func (p *Poller) poll(ctx context.Context) {
	p.mu.Lock()
	n := len(p.waiting)
	p.mu.Unlock()
	if n == 0 {
		return
	}
	found := map[string]types.CertificateStatus{}
	in := &acm.ListCertificatesInput{CertificateStatuses: settledStatuses, MaxItems: aws32(1000)}
	for {
		out, err := p.ACM.ListCertificates(ctx, in)
		if err != nil {
			if ctx.Err() == nil { // a shutdown is no error: the next start polls again
				logf.FromContext(ctx).Error(err, "listing settled ACM certificates")
			}
			return
		}
		for _, s := range out.CertificateSummaryList {
			if s.CertificateArn != nil {
				found[*s.CertificateArn] = s.Status
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var owners []string
	p.mu.Lock()
	if p.settled == nil {
		p.settled = map[string]types.CertificateStatus{}
	}
	for arn, owner := range p.waiting {
		if s, ok := found[arn]; ok {
			p.settled[arn] = s
			delete(p.waiting, arn)
			owners = append(owners, owner)
		}
	}
	p.mu.Unlock()
	for _, o := range owners {
		p.Notify(o)
	}
}

func aws32(v int32) *int32 { return &v }
