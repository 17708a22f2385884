// Package gatewaypool reconciles GatewayPools: their Gateways (one ALB each) with LBC's
// LoadBalancerConfigurations, and each claimed hostname's seat on one of them.
//
// Watches: GatewayPools, their Gateways, ManagedZones (spec changes), DomainClaims (only changes
// the plan reads, see claimInputs), HTTPRoutes and GRPCRoutes (generation changes), GatewayClasses (their
// existence and controller decide the pool's Ready); claim, route and Gateway events
// wake the pool after a short window so that a burst costs one reconcile, and no sooner than its
// pace allows (a wait that grows with the pool's claims, see pacePerClaim), so a reconcile's O(N)
// cost does not make N claims coming up together cost O(N²). LBC's verdict on a Gateway (its
// first address, Programmed, Accepted) wakes the pool without waiting for the pace.
//
// Each reconcile gathers one snapshot from the cache (gather), decides a PoolPlan as pure data
// (Plan: Gateways to create or delete, seats by first fit within the certificates, listeners,
// ALB rules and target groups LBC can deploy on one ALB, each Gateway's listeners and listener
// certificates, and the claims' and the pool's status), and applies it in dependency order,
// deletions last (apply). Claim statuses are written most urgent first (new seats, then steps
// toward Ready, then reports), at most maxClaimWrites per reconcile; the rest are requeued.
//
// What a reconcile recomputes is what changed since the pool's last one (memo.go): a claim's seat
// need is kept until its spec or a route listing its hostname changes, each Gateway's plan and each
// claim's planned status until one of their inputs (by resourceVersion) does, and the
// configurations are read in full only when their resourceVersion moved. The answers are those of
// the pure steps; the memos make a reconcile cheaper, never different.
//
// Owns and writes: the pool's Gateways (spec.listeners, labels, annotations, infrastructure),
// their LoadBalancerConfigurations, GatewayPool status, and on DomainClaims status.gateway, the
// load balancer fields and the conditions GatewayAssigned, CertificateAttached,
// LoadBalancerReady, RoutesAllowed and StrayRoutes (one write per claim, writeClaimStatus).
//
// Deletion order: a claim being deleted keeps its seat, listener and certificate until its ALIAS
// records are gone (DomainClaim.AliasRecordsGone, the answer reconciler/dns and the certificate
// reconciler go by too), see released.
//
// Claims of a ManagedZone without a pool are planned under that zone's own key (nopool.go): own
// load balancers only, or GatewayAssigned=False/NoGatewayPool; never while the zone names a pool.
// The claims of zones naming a pool that does not exist are planned the same way under the
// missing pool's key (reconcileMissingPool), with GatewayPoolNotFound.
package gatewaypool
