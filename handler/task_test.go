package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gregorkafka/gregor/handler"
)

func TestTaskName(t *testing.T) {
	for _, c := range []struct {
		name   string
		kv     []string
		want   string
		labels []string
	}{
		{"kafka-fetch", nil, "kafka-fetch", []string{"task", "kafka-fetch"}},
		{"kafka-fetch", []string{"broker", "1"}, "kafka-fetch broker=1", []string{"task", "kafka-fetch", "broker", "1"}},
		{"kafka-fetch", []string{"broker", "1", "topic"}, "kafka-fetch broker=1", []string{"task", "kafka-fetch", "broker", "1"}},
		{"send", []string{"topic", "a b=c"}, "send topic=a_b_c", []string{"task", "send", "topic", "a_b_c"}},
		{"two words", nil, "two words", []string{"task", "two words"}},
	} {
		got := handler.TaskName(c.name, c.kv...)
		assert.Equal(t, c.want, got)
		assert.Equal(t, c.labels, handler.TaskLabels(got), got)
	}
}
