package awsfake

import (
	"fmt"
	"net/http"
	"regexp"
)

// Account is the AWS account ID of every test server.
const Account = "123456789012"

// sigV4Credential picks the access key ID and the scope's service out of a SigV4 Authorization
// header ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, …").
var sigV4Credential = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/[0-9]{8}/[^/]+/([^/]+)/aws4_request,`)

// serveSTS answers STS's GetCallerIdentity (Query protocol), the one STS call of the
// orchestrator: the caller is a user named after the access key ID. As STS does, it refuses an
// unsigned request; SetFault("sts:GetCallerIdentity", …) makes it refuse credentials
// (InvalidClientTokenId, 403).
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	if ref := s.admit(r, "sts", "GetCallerIdentity"); ref.code != "" {
		elbError(w, ref.status, ref.code, ref.message)
		return
	}
	m := sigV4Credential.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[2] != "sts" {
		elbError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
		`<Arn>arn:aws:iam::%s:user/%s</Arn><UserId>%s</UserId><Account>%s</Account>`+
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		Account, m[1], m[1], Account)
}
