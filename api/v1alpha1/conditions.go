package v1alpha1

// Condition types of a DomainClaim, one per reconcile step, and Ready rolling them up.
const (
	// ConditionReady is True when every step is done and the hostname is served.
	ConditionReady = "Ready"
	// ConditionClaimed is True while the claim is the hostname's sole owner; False with reason
	// Conflicted when an older overlapping claim of another namespace wins.
	ConditionClaimed = "Claimed"
	// ConditionInUse is True while a route of the owning namespace uses the hostname.
	ConditionInUse = "InUse"
	// ConditionBound is True once a persisted object of the owning namespace used the hostname,
	// or an admin set spec.provision: Always; its message names the object. Nothing is
	// provisioned in AWS before (see ProvisioningAllowed). A bound claim stays bound until it is
	// released, so a redeploy within the retention keeps its certificate.
	ConditionBound = "Bound"
	// ConditionCertificateRequested is True once an ACM certificate exists for the hostname.
	ConditionCertificateRequested = "CertificateRequested"
	// ConditionValidationRecord is True once the validation CNAME is in the hosted zone.
	ConditionValidationRecord = "ValidationRecordReady"
	// ConditionCertificateIssued is True once ACM has issued the certificate.
	ConditionCertificateIssued = "CertificateIssued"
	// ConditionGatewayAssigned is True once the hostname has a seat on a pool Gateway.
	ConditionGatewayAssigned = "GatewayAssigned"
	// ConditionCertificateAttached is True once the certificate is on the Gateway's listener.
	ConditionCertificateAttached = "CertificateAttached"
	// ConditionLoadBalancerReady is True once the Gateway's ALB is provisioned.
	ConditionLoadBalancerReady = "LoadBalancerReady"
	// ConditionDNSRecord is True once the ALIAS record points at the ALB.
	ConditionDNSRecord = "DNSRecordReady"
	// ConditionRoutesAllowed is True once the Gateway admits the owner's routes.
	ConditionRoutesAllowed = "RoutesAllowed"
	// ConditionRenewal is True while ACM can renew the issued certificate: a load balancer uses
	// it and no renewal failed. It is not a step of Ready: it warns before expiry.
	ConditionRenewal = "CertificateRenewable"
	// ConditionStrayRoutes is True while routes of other namespaces list the hostname (for
	// example after the claim was transferred); its message names them. The Gateway's listener
	// keeps them from serving it; they are reported so that their owners remove the hostname.
	// Gateways, ListenerSets and Ingresses of other namespaces listing it are named too: no
	// listener of the pool stands before their own load balancers.
	ConditionStrayRoutes = "StrayRoutes"
)

// Condition reasons.
const (
	// ReasonClaimed: the claim owns its hostname.
	ReasonClaimed = "Claimed"
	// ReasonConflicted: an older overlapping claim of another namespace owns the hostname.
	ReasonConflicted = "Conflicted"
	// ReasonNoManagedZone: no ManagedZone covers the hostname.
	ReasonNoManagedZone = "NoManagedZone"
	// ReasonRouteFound: a route of the owning namespace uses the hostname.
	ReasonRouteFound = "RouteFound"
	// ReasonNoRoutes: no route of the owning namespace uses the hostname.
	ReasonNoRoutes = "NoRoutes"
	// ReasonObjectExists: a persisted object of the owning namespace uses the hostname.
	ReasonObjectExists = "ObjectExists"
	// ReasonProvisionAlways: an admin asked for provisioning with spec.provision: Always.
	ReasonProvisionAlways = "ProvisionAlways"
	// ReasonProvisionedBefore: the claim held a certificate before binding was introduced.
	ReasonProvisionedBefore = "ProvisionedBefore"
	// ReasonUnbound: no persisted object uses the hostname yet, so nothing is provisioned; steps
	// that wait for binding show it too.
	ReasonUnbound = "Unbound"
	// ReasonAdminClaim: an administrator's claim, never released automatically.
	ReasonAdminClaim = "AdminClaim"
	// ReasonPending: the step waits for an earlier one.
	ReasonPending = "Pending"
	// ReasonPoolExhausted: every Gateway of the pool is full and the pool is at its maximum.
	ReasonPoolExhausted = "PoolExhausted"
	// ReasonNoGatewayPool: the claim's ManagedZone has no GatewayPool and no load balancer of the
	// users' own serves the hostname (GatewayAssigned, and the steps after it).
	ReasonNoGatewayPool = "NoGatewayPool"
	// ReasonGatewayPoolNotFound: the claim's ManagedZone names, in spec.gatewayPoolRef, a
	// GatewayPool that does not exist, and no load balancer of the users' own serves the hostname
	// (GatewayAssigned, and the steps after it); the pool takes over once it is created.
	ReasonGatewayPoolNotFound = "GatewayPoolNotFound"
	// ReasonNotAccepted: the AWS Load Balancer Controller reports the Gateway Accepted=False.
	ReasonNotAccepted = "NotAccepted"
	// ReasonOwnLoadBalancer: the hostname's users bring their own load balancer (a Gateway that is
	// not a pool's, an Ingress, or routes naming only such Gateways), so it has no pool seat and
	// its ALIAS points at that load balancer.
	ReasonOwnLoadBalancer = "OwnLoadBalancer"
	// ReasonWaitingForOwnLoadBalancer: the load balancer of the object serving the hostname has no
	// address yet (a wait, like Pending, so a new claim's quiet period holds it back).
	ReasonWaitingForOwnLoadBalancer = "WaitingForOwnLoadBalancer"
	// ReasonLoadBalancerNotFound: the hostname's users name only objects with a load balancer of
	// their own that do not exist (a route whose parentRefs name a Gateway that is not there, or
	// no longer), so nothing serves it (GatewayAssigned, and the steps after it).
	ReasonLoadBalancerNotFound = "LoadBalancerNotFound"
	// ReasonAmbiguousLoadBalancers: the hostname's users report different load balancers, and an
	// ALIAS record can point at one only.
	ReasonAmbiguousLoadBalancers = "AmbiguousLoadBalancers"
	// ReasonUnknownLoadBalancer: the address of the object serving the hostname is no load
	// balancer ELBv2 knows in this account, so no ALIAS record can point at it.
	ReasonUnknownLoadBalancer = "UnknownLoadBalancer"
	// ReasonForeignRoutes: routes (or own Gateways, ListenerSets, Ingresses) of other namespaces
	// list the hostname.
	ReasonForeignRoutes = "ForeignRoutes"
	// ReasonNoStrayRoutes: only routes of the owning namespace list the hostname.
	ReasonNoStrayRoutes = "NoStrayRoutes"
	// ReasonDNSConflict: a record the orchestrator did not create holds the name.
	ReasonDNSConflict = "DNSConflict"
	// ReasonQuotaExceeded: ACM refused a new certificate because an account quota (certificates
	// held, or requested in a year) is used up; the message is AWS's.
	ReasonQuotaExceeded = "QuotaExceeded"
	// ReasonHostnameTooLong: the hostname is longer than an ACM certificate's 64-character name.
	ReasonHostnameTooLong = "HostnameTooLong"
	// ReasonRequestRejected: ACM rejected the certificate request as invalid; retrying cannot help.
	ReasonRequestRejected = "RequestRejected"
	// ReasonUnprovisioned: the claim lost its hostname after provisioning, and its ALIAS records,
	// certificate and validation record were removed.
	ReasonUnprovisioned = "Unprovisioned"
	// ReasonRenewalFailed: ACM's managed renewal of the certificate failed.
	ReasonRenewalFailed = "RenewalFailed"
	// ReasonNotInUse: no load balancer uses the certificate (no route attached), so ACM does not
	// renew it.
	ReasonNotInUse = "NotInUse"
	// ReasonAwaitingLoadBalancer: a route uses the hostname but its load balancer did not serve
	// the certificate yet when ACM was asked (at issuance), so whether ACM renews it is unknown
	// until the next renewal check.
	ReasonAwaitingLoadBalancer = "AwaitingLoadBalancer"
	// ReasonRecordsRemoved: the claim is being deleted and its ALIAS records are gone, so its
	// certificate may leave the Gateway's listener.
	ReasonRecordsRemoved = "RecordsRemoved"
	// ReasonNoLoadBalancer: nothing serves the hostname any more (GatewayAssigned=False with
	// NoGatewayPool, GatewayPoolNotFound, PoolExhausted, Unbound or LoadBalancerNotFound, and no
	// load balancer in the status), so its ALIAS records were removed rather than left pointing at
	// a load balancer that no longer serves it; they are written again once one serves it.
	ReasonNoLoadBalancer = "NoLoadBalancer"
)
