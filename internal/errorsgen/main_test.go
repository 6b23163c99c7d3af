package main

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

const syntheticErrors = `package org.apache.kafka.common.protocol;

import org.apache.kafka.common.errors.FlakyException;
import org.apache.kafka.common.errors.BadException;

public enum Errors {
    UNKNOWN_SERVER_ERROR(-1, "The server experienced an unexpected error.",
            UnknownServerException::new),
    NONE(0, null, message -> null),
    FLAKY_THING(7, "First half, " +
            "second \"half\".", FlakyException::new),
    BAD_THING(12, "Bad.", BadException::new);

    private static final Logger log = LoggerFactory.getLogger(Errors.class);
}
`

func TestParseErrors(t *testing.T) {
	codes, err := parseErrors(map[string]string{
		errorsJava: syntheticErrors,
		"org/apache/kafka/common/errors/FlakyException.java": "package org.apache.kafka.common.errors;\npublic class FlakyException extends MidException {}",
		"org/apache/kafka/common/errors/MidException.java":   "package org.apache.kafka.common.errors;\npublic abstract class MidException extends RetriableException {}",
		"org/apache/kafka/common/errors/BadException.java":   "package org.apache.kafka.common.errors;\npublic class BadException extends ApiException {}",
	})
	require.NoError(t, err)
	require.Equal(t, []errorCode{
		{code: -1, name: "UNKNOWN_SERVER_ERROR", message: "The server experienced an unexpected error.", exception: "UnknownServerException"},
		{code: 0, name: "NONE"},
		{code: 7, name: "FLAKY_THING", message: `First half, second "half".`, exception: "FlakyException", retriable: true},
		{code: 12, name: "BAD_THING", message: "Bad.", exception: "BadException"},
	}, codes)

	_, err = parseErrors(map[string]string{errorsJava: "public enum Errors { NONE(0, null, m -> null), ODD(x); }"})
	require.ErrorContains(t, err, "cannot parse enum constant")
}

// TestTableUpToDate regenerates the table from the pinned release's sources
// jar and compares it with the committed file.
func TestTableUpToDate(t *testing.T) {
	src, err := run(testcluster.KRaftVersion, "")
	if errors.Is(err, testcluster.ErrMissingTool) {
		t.Skip("cannot fetch the kafka-clients sources jar to compare against:", err)
	}
	require.NoError(t, err)
	got, err := os.ReadFile("../../protocol/errors_table.go")
	require.NoError(t, err)
	require.True(t, string(got) == string(src), "protocol/errors_table.go is stale: run make generate")
}
