package protocol

//go:generate go run ../internal/errorsgen -o errors_table.go ../../shared/kafka-protocol/error-codes.tsv
