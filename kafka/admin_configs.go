package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gregorkafka/gregor/protocol"
)

// ConfigResourceType is the kind of thing a configuration belongs to.
type ConfigResourceType int8

// Config resource types, with the protocol's values.
const (
	ConfigTopic         ConfigResourceType = 2
	ConfigBroker        ConfigResourceType = 4
	ConfigBrokerLogger  ConfigResourceType = 8
	ConfigClientMetrics ConfigResourceType = 16
	ConfigGroup         ConfigResourceType = 32
)

func (t ConfigResourceType) String() string {
	switch t {
	case ConfigTopic:
		return "topic"
	case ConfigBroker:
		return "broker"
	case ConfigBrokerLogger:
		return "broker-logger"
	case ConfigClientMetrics:
		return "client-metrics"
	case ConfigGroup:
		return "group"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// ConfigResource names a topic, a broker (by its id; "" for the cluster-wide
// dynamic defaults) or another configurable resource.
type ConfigResource struct {
	Type ConfigResourceType
	Name string
}

func (r ConfigResource) String() string { return r.Type.String() + " " + strconv.Quote(r.Name) }

// ConfigSource says where a config's value comes from.
type ConfigSource int8

// Config sources, with the protocol's values.
const (
	ConfigSourceUnknown              ConfigSource = 0
	ConfigSourceDynamicTopic         ConfigSource = 1
	ConfigSourceDynamicBroker        ConfigSource = 2
	ConfigSourceDynamicDefaultBroker ConfigSource = 3
	ConfigSourceStaticBroker         ConfigSource = 4
	ConfigSourceDefault              ConfigSource = 5
	ConfigSourceDynamicBrokerLogger  ConfigSource = 6
	ConfigSourceClientMetrics        ConfigSource = 7
	ConfigSourceDynamicGroup         ConfigSource = 8
)

var configSourceNames = map[ConfigSource]string{
	ConfigSourceUnknown: "UNKNOWN", ConfigSourceDynamicTopic: "DYNAMIC_TOPIC_CONFIG",
	ConfigSourceDynamicBroker: "DYNAMIC_BROKER_CONFIG", ConfigSourceDynamicDefaultBroker: "DYNAMIC_DEFAULT_BROKER_CONFIG",
	ConfigSourceStaticBroker: "STATIC_BROKER_CONFIG", ConfigSourceDefault: "DEFAULT_CONFIG",
	ConfigSourceDynamicBrokerLogger: "DYNAMIC_BROKER_LOGGER_CONFIG", ConfigSourceClientMetrics: "CLIENT_METRICS_CONFIG",
	ConfigSourceDynamicGroup: "DYNAMIC_GROUP_CONFIG",
}

func (s ConfigSource) String() string {
	if n, ok := configSourceNames[s]; ok {
		return n
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// ConfigEntry is one config of a resource as DescribeConfigs reports it.
type ConfigEntry struct {
	Name string
	// Value is nil for a sensitive config or one without a value.
	Value     *string
	Source    ConfigSource
	ReadOnly  bool
	Sensitive bool
	// IsDefault is true when the value is the default (Source says which).
	IsDefault bool
}

// ResourceConfigs is the outcome of DescribeConfigs for one resource: its
// configs sorted as the broker sent them, or Err.
type ResourceConfigs struct {
	Resource ConfigResource
	Entries  []ConfigEntry
	Err      error
}

// DescribeConfigs describes the configs of resources (all of each
// resource's configs). A broker's (and a broker logger's) configs are asked
// of that broker, which alone knows its static settings; the others go to
// any broker. The results follow the order of resources; a resource the
// broker refused has Err set (a *Error, e.g. UNKNOWN_TOPIC_OR_PARTITION).
// The error is for the call as a whole: a broker that could not be reached
// fails the resources sent to it through their Err instead.
func (c *Cluster) DescribeConfigs(ctx context.Context, resources ...ConfigResource) ([]ResourceConfigs, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]ResourceConfigs, len(resources))
	groups := map[*Broker][]int{} // destination -> indexes into resources
	for i, r := range resources {
		out[i].Resource = r
		b, err := c.configBroker(ctx, r)
		if err != nil {
			out[i].Err = err
			continue
		}
		groups[b] = append(groups[b], i)
	}
	for b, idx := range groups {
		req := protocol.NewDescribeConfigsRequest()
		for _, i := range idx {
			req.Resources = append(req.Resources, protocol.DescribeConfigsRequestResource{
				ResourceType: int8(resources[i].Type), ResourceName: resources[i].Name})
		}
		resp, err := adminCall[*protocol.DescribeConfigsResponse](ctx, b, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			for _, i := range idx {
				out[i].Err = err
			}
			continue
		}
		for _, i := range idx {
			out[i].Err = errors.New("kafka: missing from the broker's answer")
			for j := range resp.Results {
				rr := &resp.Results[j]
				if ConfigResourceType(rr.ResourceType) != resources[i].Type || rr.ResourceName != resources[i].Name {
					continue
				}
				out[i].Err = brokerError(rr.ErrorCode, rr.ErrorMessage)
				out[i].Entries = configEntries(rr.Configs)
			}
		}
	}
	return out, nil
}

func configEntries(cs []protocol.DescribeConfigsResponseConfig) []ConfigEntry {
	out := make([]ConfigEntry, len(cs))
	for i, c := range cs {
		out[i] = ConfigEntry{Name: c.Name, Value: c.Value, Source: ConfigSource(c.ConfigSource),
			ReadOnly: c.ReadOnly, Sensitive: c.IsSensitive,
			IsDefault: c.IsDefault || ConfigSource(c.ConfigSource) == ConfigSourceDefault}
	}
	return out
}

// configBroker is where requests about r's configs go.
func (c *Cluster) configBroker(ctx context.Context, r ConfigResource) (*Broker, error) {
	if (r.Type == ConfigBroker || r.Type == ConfigBrokerLogger) && r.Name != "" {
		id, err := strconv.ParseInt(r.Name, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("kafka: %v: a broker is named by its numeric id: %w", r, protocol.ErrInvalidRequest)
		}
		return c.brokerByID(ctx, int32(id))
	}
	return c.anyBroker(ctx)
}

// ConfigOp is what IncrementalAlterConfigs does with one config.
type ConfigOp int8

// Config operations, with the protocol's values.
const (
	ConfigSet      ConfigOp = 0 // set Value
	ConfigDelete   ConfigOp = 1 // revert to the default
	ConfigAppend   ConfigOp = 2 // add Value to a list config
	ConfigSubtract ConfigOp = 3 // remove Value from a list config
)

// ConfigAlteration changes one config of a resource.
type ConfigAlteration struct {
	Name  string
	Op    ConfigOp
	Value string // ignored by ConfigDelete
}

// IncrementalAlterConfigs changes configs of resources, leaving the configs
// it does not name alone. It routes like DescribeConfigs and returns each
// resource's outcome (nil for success); with validateOnly the broker only
// checks the changes.
func (c *Cluster) IncrementalAlterConfigs(ctx context.Context, alters map[ConfigResource][]ConfigAlteration, validateOnly bool) (map[ConfigResource]error, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	out := make(map[ConfigResource]error, len(alters))
	groups := map[*Broker][]ConfigResource{}
	for r := range alters {
		b, err := c.configBroker(ctx, r)
		if err != nil {
			out[r] = err
			continue
		}
		groups[b] = append(groups[b], r)
	}
	for b, rs := range groups {
		req := protocol.NewIncrementalAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		for _, r := range rs {
			res := protocol.IncrementalAlterConfigsRequestAlterConfigsResource{ResourceType: int8(r.Type), ResourceName: r.Name}
			for _, a := range alters[r] {
				ac := protocol.IncrementalAlterConfigsRequestAlterableConfig{Name: a.Name, ConfigOperation: int8(a.Op)}
				if a.Op != ConfigDelete {
					ac.Value = strPtr(a.Value)
				}
				res.Configs = append(res.Configs, ac)
			}
			req.Resources = append(req.Resources, res)
		}
		resp, err := adminCall[*protocol.IncrementalAlterConfigsResponse](ctx, b, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			for _, r := range rs {
				out[r] = err
			}
			continue
		}
		for _, r := range rs {
			out[r] = errors.New("kafka: missing from the broker's answer")
		}
		for i := range resp.Responses {
			rr := &resp.Responses[i]
			r := ConfigResource{Type: ConfigResourceType(rr.ResourceType), Name: rr.ResourceName}
			if _, ok := out[r]; ok {
				out[r] = brokerError(rr.ErrorCode, rr.ErrorMessage)
			}
		}
	}
	return out, nil
}
