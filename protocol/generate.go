package protocol

// The message types (api_*.gen.go, consumer_protocol_*.gen.go) are generated
// from Kafka's JSON message schemas; the list of APIs is in
// internal/protogen/apis.go.
//go:generate go run ../internal/protogen -schemas ../../shared/kafka-protocol/message -out .
