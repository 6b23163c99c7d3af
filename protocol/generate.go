package protocol

// The message types (api_*.gen.go, consumer_protocol_*.gen.go) are generated
// from the JSON message schemas in the pinned Kafka release's kafka-clients
// jar (every API the release defines), and the error table from that release's
// Errors.java. "make generate" runs both; the jars are resolved into
// GREGOR_CACHE_DIR (or .cache) by the same resolver the test harness uses.
//go:generate go run ../internal/protogen -kafka 4.3.1 -floor 3.9.2 -out .
//go:generate go run ../internal/errorsgen -kafka 4.3.1 -o errors_table.go
