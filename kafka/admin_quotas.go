package kafka

import (
	"context"
	"errors"
	"sort"

	"github.com/gregorkafka/gregor/protocol"
)

// QuotaEntity names what a client quota applies to: entity type ("user",
// "client-id" or "ip") to name, where a nil name is the type's default
// entity.
type QuotaEntity map[string]*string

// QuotaFilter selects quota entities in DescribeClientQuotas by one entity
// type.
type QuotaFilter struct {
	EntityType string
	// Match is the name to match; nil with Default false matches any name.
	Match   *string
	Default bool // match the type's default entity
}

// ClientQuotas is one entity's quotas: config key (e.g.
// "producer_byte_rate") to value.
type ClientQuotas struct {
	Entity QuotaEntity
	Values map[string]float64
}

// DescribeClientQuotas lists the quotas of the entities matching every
// filter (any broker answers); with strict, only entities with no types
// beyond the filters'.
func (c *Cluster) DescribeClientQuotas(ctx context.Context, filters []QuotaFilter, strict bool) ([]ClientQuotas, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewDescribeClientQuotasRequest()
	req.Strict = strict
	req.Components = []protocol.DescribeClientQuotasRequestComponentData{}
	for _, f := range filters {
		cd := protocol.DescribeClientQuotasRequestComponentData{EntityType: f.EntityType}
		switch {
		case f.Match != nil:
			cd.MatchType, cd.Match = 0, f.Match
		case f.Default:
			cd.MatchType = 1
		default:
			cd.MatchType = 2
		}
		req.Components = append(req.Components, cd)
	}
	resp, err := adminCall[*protocol.DescribeClientQuotasResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	if err := brokerError(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return nil, err
	}
	out := make([]ClientQuotas, 0, len(resp.Entries))
	for _, e := range resp.Entries {
		q := ClientQuotas{Entity: QuotaEntity{}, Values: map[string]float64{}}
		for _, ed := range e.Entity {
			q.Entity[ed.EntityType] = ed.EntityName
		}
		for _, v := range e.Values {
			q.Values[v.Key] = v.Value
		}
		out = append(out, q)
	}
	return out, nil
}

// QuotaAlteration changes an entity's quotas: Set values, Remove keys.
type QuotaAlteration struct {
	Entity QuotaEntity
	Set    map[string]float64
	Remove []string
}

// AlterClientQuotas applies alterations (any broker answers; KRaft brokers
// forward to the controller). The result has one error per alteration, in
// order, nil for success.
func (c *Cluster) AlterClientQuotas(ctx context.Context, alters []QuotaAlteration, validateOnly bool) ([]error, error) {
	b, err := c.anyBroker(ctx)
	if err != nil {
		return nil, err
	}
	req := protocol.NewAlterClientQuotasRequest()
	req.ValidateOnly = validateOnly
	for _, a := range alters {
		e := protocol.AlterClientQuotasRequestEntryData{Entity: quotaEntityData(a.Entity)}
		for _, k := range sortedKeys(a.Set) {
			e.Ops = append(e.Ops, protocol.AlterClientQuotasRequestOpData{Key: k, Value: a.Set[k]})
		}
		for _, k := range a.Remove {
			e.Ops = append(e.Ops, protocol.AlterClientQuotasRequestOpData{Key: k, Remove: true})
		}
		req.Entries = append(req.Entries, e)
	}
	resp, err := adminCall[*protocol.AlterClientQuotasResponse](ctx, b, req)
	if err != nil {
		return nil, err
	}
	out := make([]error, len(alters))
	for i := range out {
		out[i] = errors.New("kafka: missing from the broker's answer")
	}
	for _, r := range resp.Entries {
		got := QuotaEntity{}
		for _, ed := range r.Entity {
			got[ed.EntityType] = ed.EntityName
		}
		for i, a := range alters {
			if sameEntity(a.Entity, got) {
				out[i] = brokerError(r.ErrorCode, r.ErrorMessage)
			}
		}
	}
	return out, nil
}

func quotaEntityData(e QuotaEntity) []protocol.AlterClientQuotasRequestEntityData {
	types := make([]string, 0, len(e))
	for t := range e {
		types = append(types, t)
	}
	sort.Strings(types)
	out := make([]protocol.AlterClientQuotasRequestEntityData, len(types))
	for i, t := range types {
		out[i] = protocol.AlterClientQuotasRequestEntityData{EntityType: t, EntityName: e[t]}
	}
	return out
}

func sameEntity(a, b QuotaEntity) bool {
	if len(a) != len(b) {
		return false
	}
	for t, n := range a {
		m, ok := b[t]
		if !ok || (n == nil) != (m == nil) || n != nil && *n != *m {
			return false
		}
	}
	return true
}
