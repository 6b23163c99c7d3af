package main

// dataTypes are schemas of type "data": versioned structures embedded in other
// messages' bytes fields rather than sent as requests.
var dataTypes = []dataType{
	{schema: "ConsumerProtocolSubscription", file: "consumer_protocol_subscription.gen.go"},
	{schema: "ConsumerProtocolAssignment", file: "consumer_protocol_assignment.gen.go"},
}

type dataType struct{ schema, file string }

// structRenames gives nested structs a shorter Go name than the default rule
// (message name + schema struct name with the API name and the
// Request/Response suffix dropped) would. Key: "<Message>.<SchemaStruct>",
// value: the suffix after the message's Go name.
var structRenames = map[string]string{
	"ApiVersionsResponse.ApiVersion":                          "APIKey",
	"ProduceRequest.TopicProduceData":                         "Topic",
	"ProduceRequest.PartitionProduceData":                     "Partition",
	"ProduceResponse.TopicProduceResponse":                    "Topic",
	"ProduceResponse.PartitionProduceResponse":                "Partition",
	"FetchResponse.FetchableTopicResponse":                    "Topic",
	"FetchResponse.PartitionData":                             "Partition",
	"CreateTopicsRequest.CreatableTopic":                      "Topic",
	"CreateTopicsRequest.CreatableReplicaAssignment":          "ReplicaAssignment",
	"CreateTopicsRequest.CreatableTopicConfig":                "Config",
	"CreateTopicsResponse.CreatableTopicResult":               "Topic",
	"CreateTopicsResponse.CreatableTopicConfigs":              "Config",
	"DeleteTopicsRequest.DeleteTopicState":                    "Topic",
	"DeleteTopicsResponse.DeletableTopicResult":               "Topic",
	"DescribeGroupsResponse.DescribedGroup":                   "Group",
	"DescribeGroupsResponse.DescribedGroupMember":             "Member",
	"ConsumerGroupDescribeResponse.DescribedGroup":            "Group",
	"ListGroupsResponse.ListedGroup":                          "Group",
	"DeleteGroupsResponse.DeletableGroupResult":               "Group",
	"OffsetForLeaderEpochRequest.OffsetForLeaderTopic":        "Topic",
	"OffsetForLeaderEpochRequest.OffsetForLeaderPartition":    "Partition",
	"OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult": "Topic",
	"OffsetForLeaderEpochResponse.EpochEndOffset":             "Partition",
	"DescribeConfigsResponse.DescribeConfigsResult":           "Resource",
	"DescribeConfigsResponse.DescribeConfigsResourceResult":   "Config",
	"CreatePartitionsResponse.CreatePartitionsTopicResult":    "Topic",
	"DeleteRecordsResponse.DeleteRecordsTopicResult":          "Topic",
	"DeleteRecordsResponse.DeleteRecordsPartitionResult":      "Partition",
}
