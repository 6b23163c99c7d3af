package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const errorCodesTSV = "../../shared/kafka-protocol/error-codes.tsv"

func TestErrorTableMatchesTSV(t *testing.T) {
	f, err := os.Open(errorCodesTSV)
	if err != nil {
		t.Skipf("error table source not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		code, err := strconv.Atoi(fields[0])
		if err != nil {
			continue // header
		}
		retriable, err := strconv.ParseBool(fields[2])
		require.NoError(t, err)
		got := ErrorForCode(int16(code))
		if code == 0 {
			assert.Nil(t, got)
			continue
		}
		var ke *Error
		require.True(t, errors.As(got, &ke), "code %d", code)
		assert.Equal(t, fields[1], ke.Name, "code %d", code)
		assert.Equal(t, int16(code), ke.Code)
		assert.Equal(t, retriable, ke.Retriable, "code %d %s", code, fields[1])
		assert.Same(t, ke, ErrorForCode(int16(code)), "code %d must map to one sentinel", code)
		n++
	}
	require.NoError(t, sc.Err())
	assert.Greater(t, n, 100)
}

func TestErrorSentinels(t *testing.T) {
	assert.Equal(t, "kafka: NOT_LEADER_OR_FOLLOWER (6)", ErrNotLeaderOrFollower.Error())
	assert.Same(t, ErrOffsetOutOfRange, ErrorForCode(1))
	assert.Same(t, ErrUnknownServerError, ErrorForCode(-1))
	assert.Same(t, ErrInvalidRegularExpression, ErrorForCode(128))
	assert.True(t, ErrNotLeaderOrFollower.Retriable)
	assert.False(t, ErrOffsetOutOfRange.Retriable)
}

func TestErrorIsThroughWrapping(t *testing.T) {
	wrapped := fmt.Errorf("produce to t-0: %w", ErrNotLeaderOrFollower)
	twice := fmt.Errorf("batch: %w", wrapped)
	assert.ErrorIs(t, twice, ErrNotLeaderOrFollower)
	assert.NotErrorIs(t, twice, ErrOffsetOutOfRange)
	assert.True(t, IsRetriable(twice))
	assert.False(t, IsRetriable(fmt.Errorf("x: %w", ErrTopicAuthorizationFailed)))
	assert.False(t, IsRetriable(errors.New("plain")))
	assert.False(t, IsRetriable(nil))

	var ke *Error
	require.ErrorAs(t, twice, &ke)
	assert.Equal(t, int16(6), ke.Code)
}

func TestErrorForUnknownCode(t *testing.T) {
	for _, code := range []int16{errorMaxCode + 1, 5000, -2, -32768, 32767} {
		err := ErrorForCode(code)
		require.Error(t, err)
		var ke *Error
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, code, ke.Code)
		assert.Equal(t, "UNKNOWN_CODE_"+strconv.Itoa(int(code)), ke.Name)
		assert.False(t, ke.Retriable)
		assert.ErrorIs(t, fmt.Errorf("w: %w", err), ErrorForCode(code), "same unknown code compares equal")
		assert.NotErrorIs(t, err, ErrUnknownServerError)
	}
}

func TestErrorForCodeDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		for code := int16(-1); code <= errorMaxCode; code++ {
			if code != 99 {
				_ = ErrorForCode(code)
			}
		}
	})
	assert.Zero(t, allocs)
}
