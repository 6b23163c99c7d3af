package zookeeper

import (
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestZooKeeperLayout(t *testing.T) {
	p := NewPaths("/kafka", "grp", "orders", "host:id")
	assert.Equal(t, "/kafka/consumers/grp/ids", p.IDs)
	assert.Equal(t, "/kafka/consumers/grp/ids/host:id", p.Self)
	assert.Equal(t, "/kafka/consumers/grp/owners/orders", p.Owners)
	assert.Equal(t, "/kafka/brokers/ids", p.BrokerIDs)
	assert.Equal(t, "/kafka/brokers/topics/orders", p.Topic)
	assert.Equal(t, "/consumers/grp/ids", NewPaths("", "grp", "orders", "x").IDs)

	assert.Equal(t, "2-7", OwnerSlug(2, 7))
	assert.Equal(t, "-1-3", OwnerSlug(-1, 3))
	for name, want := range map[string]int32{"2-7": 7, "-1-3": 3, "10-12": 12} {
		got, ok := ParseOwnerSlug(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	for _, name := range []string{"7", "-7", "a-1", "1-b", "1-", "1--2", ""} {
		_, ok := ParseOwnerSlug(name)
		assert.False(t, ok, name)
	}

	id := NewConsumerID()
	assert.Regexp(t, regexp.MustCompile(`^.+:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), id)
	assert.NotEqual(t, id, NewConsumerID())
}

func TestOwnedError(t *testing.T) {
	err := error(&OwnedError{Topic: "t", Partition: 3, Owner: "h:1"})
	assert.True(t, errors.Is(err, errOwned))
	assert.Contains(t, err.Error(), "t/3")
	assert.Contains(t, err.Error(), "h:1")
}
