package kafka

import (
	"context"
	"errors"

	"github.com/gregorkafka/gregor/protocol"
)

// ACL enums, with the protocol's values. In an ACLFilter the zero value of
// each (and an empty string) matches anything.

// ACLResourceType is the kind of resource an ACL guards.
type ACLResourceType int8

const (
	ACLResourceAny             ACLResourceType = 1
	ACLResourceTopic           ACLResourceType = 2
	ACLResourceGroup           ACLResourceType = 3
	ACLResourceCluster         ACLResourceType = 4
	ACLResourceTransactionalID ACLResourceType = 5
	ACLResourceDelegationToken ACLResourceType = 6
	ACLResourceUser            ACLResourceType = 7
)

// ACLPatternType says how an ACL's resource name matches.
type ACLPatternType int8

const (
	ACLPatternAny      ACLPatternType = 1 // filters only: literal or prefixed
	ACLPatternMatch    ACLPatternType = 2 // filters only: every ACL that applies to the name
	ACLPatternLiteral  ACLPatternType = 3
	ACLPatternPrefixed ACLPatternType = 4
)

// ACLOperation is what an ACL allows or denies.
type ACLOperation int8

const (
	ACLOperationAny             ACLOperation = 1
	ACLOperationAll             ACLOperation = 2
	ACLOperationRead            ACLOperation = 3
	ACLOperationWrite           ACLOperation = 4
	ACLOperationCreate          ACLOperation = 5
	ACLOperationDelete          ACLOperation = 6
	ACLOperationAlter           ACLOperation = 7
	ACLOperationDescribe        ACLOperation = 8
	ACLOperationClusterAction   ACLOperation = 9
	ACLOperationDescribeConfigs ACLOperation = 10
	ACLOperationAlterConfigs    ACLOperation = 11
	ACLOperationIdempotentWrite ACLOperation = 12
	ACLOperationCreateTokens    ACLOperation = 13
	ACLOperationDescribeTokens  ACLOperation = 14
)

// ACLPermission allows or denies.
type ACLPermission int8

const (
	ACLPermissionAny   ACLPermission = 1
	ACLPermissionDeny  ACLPermission = 2
	ACLPermissionAllow ACLPermission = 3
)

// ACL is one access control entry bound to a resource pattern.
type ACL struct {
	ResourceType ACLResourceType
	ResourceName string
	PatternType  ACLPatternType // zero means literal
	Principal    string         // "User:alice"
	Host         string         // "" means "*", any host
	Operation    ACLOperation
	Permission   ACLPermission
}

// ACLFilter selects ACLs; zero fields match anything.
type ACLFilter ACL

func orAny[T ~int8](v T) int8 {
	if v == 0 {
		return 1 // ANY
	}
	return int8(v)
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// DescribeACLs lists the ACLs matching filter (any broker answers). A
// cluster without an authorizer reports
// errors.Is(err, protocol.ErrSecurityDisabled).
func (c *Cluster) DescribeACLs(ctx context.Context, filter ACLFilter) ([]ACL, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewDescribeAclsRequest()
	req.ResourceTypeFilter = orAny(filter.ResourceType)
	req.ResourceNameFilter = orNil(filter.ResourceName)
	req.PatternTypeFilter = int8(filter.PatternType)
	if filter.PatternType == 0 {
		req.PatternTypeFilter = int8(ACLPatternAny)
	}
	req.PrincipalFilter = orNil(filter.Principal)
	req.HostFilter = orNil(filter.Host)
	req.Operation = orAny(filter.Operation)
	req.PermissionType = orAny(filter.Permission)
	resp, err := adminCall[*protocol.DescribeAclsResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return nil, err
	}
	var out []ACL
	for _, r := range resp.Resources {
		for _, a := range r.Acls {
			out = append(out, ACL{ResourceType: ACLResourceType(r.ResourceType), ResourceName: r.ResourceName,
				PatternType: ACLPatternType(r.PatternType), Principal: a.Principal, Host: a.Host,
				Operation: ACLOperation(a.Operation), Permission: ACLPermission(a.PermissionType)})
		}
	}
	return out, nil
}

// CreateACLs creates ACLs (any broker answers; KRaft brokers forward to the
// controller). The result has one error per ACL, in order, nil for success.
func (c *Cluster) CreateACLs(ctx context.Context, acls ...ACL) ([]error, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewCreateAclsRequest()
	for _, a := range acls {
		host := a.Host
		if host == "" {
			host = "*"
		}
		pt := a.PatternType
		if pt == 0 {
			pt = ACLPatternLiteral
		}
		req.Creations = append(req.Creations, protocol.CreateAclsRequestAclCreation{
			ResourceType: int8(a.ResourceType), ResourceName: a.ResourceName, ResourcePatternType: int8(pt),
			Principal: a.Principal, Host: host, Operation: int8(a.Operation), PermissionType: int8(a.Permission)})
	}
	resp, err := adminCall[*protocol.CreateAclsResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	if len(resp.Results) != len(acls) {
		return nil, errors.New("kafka: CreateAcls answer does not have one result per ACL")
	}
	out := make([]error, len(acls))
	for i, r := range resp.Results {
		out[i] = brokerError(r.ErrorCode, r.ErrorMessage)
	}
	return out, nil
}

// DeletedACLs is the outcome of DeleteACLs for one filter: the ACLs it
// deleted, or Err.
type DeletedACLs struct {
	Deleted []ACL
	Err     error
}

// DeleteACLs deletes the ACLs matching each filter (any broker answers).
// The result has one entry per filter, in order.
func (c *Cluster) DeleteACLs(ctx context.Context, filters ...ACLFilter) ([]DeletedACLs, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewDeleteAclsRequest()
	for _, f := range filters {
		pt := int8(f.PatternType)
		if pt == 0 {
			pt = int8(ACLPatternAny)
		}
		req.Filters = append(req.Filters, protocol.DeleteAclsRequestFilter{
			ResourceTypeFilter: orAny(f.ResourceType), ResourceNameFilter: orNil(f.ResourceName), PatternTypeFilter: pt,
			PrincipalFilter: orNil(f.Principal), HostFilter: orNil(f.Host), Operation: orAny(f.Operation), PermissionType: orAny(f.Permission)})
	}
	resp, err := adminCall[*protocol.DeleteAclsResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	if len(resp.FilterResults) != len(filters) {
		return nil, errors.New("kafka: DeleteAcls answer does not have one result per filter")
	}
	out := make([]DeletedACLs, len(filters))
	for i, r := range resp.FilterResults {
		out[i].Err = brokerError(r.ErrorCode, r.ErrorMessage)
		var errs []error
		for _, m := range r.MatchingAcls {
			if err := brokerError(m.ErrorCode, m.ErrorMessage); err != nil {
				errs = append(errs, err)
				continue
			}
			out[i].Deleted = append(out[i].Deleted, ACL{ResourceType: ACLResourceType(m.ResourceType), ResourceName: m.ResourceName,
				PatternType: ACLPatternType(m.PatternType), Principal: m.Principal, Host: m.Host,
				Operation: ACLOperation(m.Operation), Permission: ACLPermission(m.PermissionType)})
		}
		if out[i].Err == nil {
			out[i].Err = errors.Join(errs...)
		}
	}
	return out, nil
}
