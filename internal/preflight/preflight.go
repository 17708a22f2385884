// Package preflight checks at start-up what no retry can fix: the cluster name that tags every
// AWS resource, the AWS region and the AWS credentials. A pod that fails a check exits with a
// message that says what to set, instead of going Ready and failing every claim.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
)

// Identity is the AWS principal the orchestrator runs as.
type Identity struct {
	Account string
	ARN     string
}

// ClusterName refuses the cluster name "default": the name goes into AWS tags and DNS ownership
// markers, so two clusters that share it would take each other's certificates and records for
// their own. An empty name is fine: a unique ID is then derived from the cluster itself (package
// clusterid) and logged.
func ClusterName(name string) error {
	if name == "default" {
		return errors.New(`--cluster-name must not be "default": choose a name unique in the AWS account (it names this cluster in AWS tags and DNS ownership markers), or leave it empty to derive one from the kube-system namespace's UID`)
	}
	return nil
}

// AWS checks that cfg has a region and that its credentials resolve, with one
// sts:GetCallerIdentity (which needs no IAM permission), and returns who the orchestrator is.
func AWS(ctx context.Context, cfg aws.Config) (Identity, error) {
	if cfg.Region == "" {
		return Identity{}, errors.New("no AWS region: set --aws-region (the chart's region value) or AWS_REGION")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.RetryMaxAttempts = 3 // a start-up check: fail within seconds, the pod restarts anyway
	})
	if err != nil {
		if code := awsclient.Code(err); code != "" {
			return Identity{}, fmt.Errorf("AWS rejects the credentials (sts:GetCallerIdentity: %s): check the IRSA annotation or Pod Identity association of the ServiceAccount: %w", code, err)
		}
		// A request that never got an answer (no such host, connection refused, a timeout) says
		// nothing about the credentials: a region's name mistyped, a wrong endpoint override or
		// a pod without egress to AWS look like this, and must not send the admin to IAM.
		var send *smithyhttp.RequestSendError
		if errors.As(err, &send) || errors.Is(err, context.DeadlineExceeded) {
			return Identity{}, fmt.Errorf("cannot reach AWS STS in region %q (sts:GetCallerIdentity got no answer): check the region (--aws-region, the chart's region value: a region's name such as eu-west-1), the endpoint override if one is set (--aws-endpoint or AWS_ENDPOINT_URL), and that the pod may reach AWS (egress, proxy, VPC endpoints): %w", cfg.Region, err)
		}
		return Identity{}, fmt.Errorf("no usable AWS credentials (sts:GetCallerIdentity): give the ServiceAccount an IAM role through IRSA or EKS Pod Identity: %w", err)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}, nil
}
