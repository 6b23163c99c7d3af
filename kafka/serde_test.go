package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
)

type typedOrder struct {
	ID    int    `json:"id"`
	Item  string `json:"item"`
	Total int    `json:"total"`
}

func TestBuiltinSerdesRoundTrip(t *testing.T) {
	b, err := BytesSerde{}.Serialize("t", []byte("raw"))
	require.NoError(t, err)
	assert.Equal(t, []byte("raw"), b)
	nilBytes, err := BytesSerde{}.Serialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, nilBytes, "nil bytes stay a null field")
	back, err := BytesSerde{}.Deserialize("t", b)
	require.NoError(t, err)
	assert.Equal(t, []byte("raw"), back)

	s, err := StringSerde{}.Serialize("t", "héllo")
	require.NoError(t, err)
	assert.Equal(t, []byte("héllo"), s)
	empty, err := StringSerde{}.Serialize("t", "")
	require.NoError(t, err)
	assert.NotNil(t, empty, `"" is an empty field, not a null one, as in the Java client`)
	assert.Empty(t, empty)
	str, err := StringSerde{}.Deserialize("t", []byte("héllo"))
	require.NoError(t, err)
	assert.Equal(t, "héllo", str)
	str, err = StringSerde{}.Deserialize("t", nil)
	require.NoError(t, err)
	assert.Equal(t, "", str)

	js := JSONSerde[typedOrder]{}
	j, err := js.Serialize("t", typedOrder{ID: 1, Item: "tea", Total: 3})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":1,"item":"tea","total":3}`, string(j))
	o, err := js.Deserialize("t", j)
	require.NoError(t, err)
	assert.Equal(t, typedOrder{ID: 1, Item: "tea", Total: 3}, o)
}

func TestJSONSerdeNullAndErrors(t *testing.T) {
	ptr := JSONSerde[*typedOrder]{}
	b, err := ptr.Serialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, b, "a nil pointer is a null field (a tombstone), not the bytes null")
	o, err := ptr.Deserialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, o, "a tombstone reads as a nil pointer")
	o, err = ptr.Deserialize("t", []byte(`{"id":7}`))
	require.NoError(t, err)
	assert.Equal(t, &typedOrder{ID: 7}, o)

	m, err := JSONSerde[map[string]int]{}.Serialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, m)
	sl, err := JSONSerde[[]int]{}.Serialize("t", []int{})
	require.NoError(t, err)
	assert.Equal(t, "[]", string(sl), "an empty slice is not nil")
	anyNil, err := JSONSerde[any]{}.Serialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, anyNil)

	val := JSONSerde[typedOrder]{}
	zero, err := val.Deserialize("t", nil)
	require.NoError(t, err)
	assert.Equal(t, typedOrder{}, zero, "a tombstone reads as the zero value")

	var syntax *json.SyntaxError
	_, err = val.Deserialize("t", []byte(`{"id":`))
	require.ErrorAs(t, err, &syntax)
	_, err = val.Deserialize("t", []byte{})
	require.Error(t, err, "an empty value is not a null one")
	_, err = val.Deserialize("t", []byte(`{"id":1} x`))
	require.Error(t, err, "trailing data")
	_, err = val.Deserialize("t", []byte(`{"id":"one"}`))
	var typeErr *json.UnmarshalTypeError
	require.ErrorAs(t, err, &typeErr)

	_, err = JSONSerde[chan int]{}.Serialize("t", make(chan int))
	require.Error(t, err)
}

func TestDefaultSerde(t *testing.T) {
	assert.IsType(t, StringSerde{}, DefaultSerde[string]())
	assert.IsType(t, BytesSerde{}, DefaultSerde[[]byte]())
	assert.IsType(t, JSONSerde[typedOrder]{}, DefaultSerde[typedOrder]())
	assert.IsType(t, JSONSerde[int]{}, DefaultSerde[int]())
	type raw []byte // a named type is not []byte: JSON, as for any other
	assert.IsType(t, JSONSerde[raw]{}, DefaultSerde[raw]())
}

func TestSerdeFuncs(t *testing.T) {
	upper := SerializerFunc[string](func(topic, v string) ([]byte, error) { return []byte(topic + ":" + v), nil })
	b, err := upper.Serialize("orders", "x")
	require.NoError(t, err)
	assert.Equal(t, "orders:x", string(b))
	atoi := DeserializerFunc[int](func(_ string, data []byte) (int, error) { return strconv.Atoi(string(data)) })
	n, err := atoi.Deserialize("orders", []byte("42"))
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	_, err = atoi.Deserialize("orders", []byte("x"))
	require.Error(t, err)
}

func TestSerdeErrorsNameTheRecord(t *testing.T) {
	cause := errors.New("bad")
	msg := &Message{Topic: "orders", Partition: 2, Offset: 17}
	var err error = &DeserializationError{Topic: "orders", Partition: 2, Offset: 17, Message: msg, Err: cause}
	assert.EqualError(t, err, "kafka: deserializing the value of record orders/2@17: bad")
	assert.ErrorIs(t, err, cause)
	var de *DeserializationError
	require.ErrorAs(t, errors.Join(errors.New("other"), err), &de)
	assert.Equal(t, int64(17), de.Offset)
	assert.Same(t, msg, de.Message)

	err = &DeserializationError{Topic: "orders", Partition: 0, Offset: 3, Key: true, Err: cause}
	assert.EqualError(t, err, "kafka: deserializing the key of record orders/0@3: bad")

	err = &SerializationError{Topic: "orders", Key: true, Err: cause}
	assert.EqualError(t, err, `kafka: serializing the key of a message to "orders": bad`)
	assert.ErrorIs(t, err, cause)
}

// sliceConsumer is a Consumer over a fixed list of outcomes, recording
// what was consumed, for typed consumer unit tests; the real consumers are
// exercised in typed_integration_test.go.
type sliceConsumer struct {
	outcomes []sliceOutcome
	held     map[int32]int64
	stopped  bool
}

type sliceOutcome struct {
	msg *Message
	err error
}

func (c *sliceConsumer) Consume(ctx context.Context) (*Message, error) {
	if c.stopped {
		return nil, ErrConsumerStopped
	}
	if len(c.outcomes) == 0 {
		return nil, &ConsumerTimeoutError{}
	}
	o := c.outcomes[0]
	c.outcomes = c.outcomes[1:]
	if o.msg != nil {
		c.held[o.msg.Partition] = o.msg.Offset
	}
	return o.msg, o.err
}

func (c *sliceConsumer) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	return messages(ctx, c.Consume)
}
func (c *sliceConsumer) CommitOffsets(context.Context) error { return nil }
func (c *sliceConsumer) HeldOffsets() map[int32]int64        { return c.held }
func (c *sliceConsumer) Stop(context.Context) error          { c.stopped = true; return nil }

// poisonedLog is a partition's records 0..5, where offset 2's value is
// not JSON and offset 4's key is not a number.
func poisonedLog() *sliceConsumer {
	rec := func(off int64, key, value string) sliceOutcome {
		return sliceOutcome{msg: &Message{Topic: "orders", Partition: 1, Offset: off, Key: []byte(key), Value: []byte(value)}}
	}
	return &sliceConsumer{held: map[int32]int64{}, outcomes: []sliceOutcome{
		rec(0, "10", `{"id":0}`),
		rec(1, "11", `{"id":1}`),
		rec(2, "12", `not json`),
		rec(3, "13", `{"id":3}`),
		rec(4, "x", `{"id":4}`),
		{err: &PartitionError{Topic: "orders", Partition: 0, Err: errors.New("corrupt batch")}},
		rec(5, "15", `{"id":5}`),
	}}
}

func atoiSerde() Deserializer[int] {
	return DeserializerFunc[int](func(_ string, b []byte) (int, error) { return strconv.Atoi(string(b)) })
}

func TestTypedConsumerReportsPoisonAndGoesOn(t *testing.T) {
	ctx := context.Background()
	sc := poisonedLog()
	c := NewTypedConsumer[int, typedOrder](sc, atoiSerde(), nil)
	var got []int64
	var poison []*DeserializationError
	var partErrs int
	for {
		m, err := c.Consume(ctx)
		if errors.Is(err, ErrConsumerTimeout) {
			break
		}
		var de *DeserializationError
		var pe *PartitionError
		switch {
		case errors.As(err, &de):
			require.Nil(t, m)
			poison = append(poison, de)
		case errors.As(err, &pe):
			partErrs++
		default:
			require.NoError(t, err)
			assert.Equal(t, int(m.Offset), m.Value.ID)
			assert.Equal(t, 10+int(m.Offset), m.Key)
			assert.Equal(t, "orders", m.Topic)
			assert.Equal(t, int32(1), m.Partition)
			got = append(got, m.Offset)
		}
	}
	assert.Equal(t, []int64{0, 1, 3, 5}, got)
	assert.Equal(t, 1, partErrs, "other errors pass through")
	require.Len(t, poison, 2)
	assert.Equal(t, int64(2), poison[0].Offset)
	assert.False(t, poison[0].Key)
	assert.Equal(t, "not json", string(poison[0].Message.Value))
	var syntax *json.SyntaxError
	assert.ErrorAs(t, poison[0], &syntax, "the deserializer's error is wrapped")
	assert.Equal(t, int64(4), poison[1].Offset)
	assert.True(t, poison[1].Key)
	assert.Equal(t, "orders", poison[1].Topic)
	assert.Equal(t, int32(1), poison[1].Partition)
	assert.Equal(t, map[int32]int64{1: 5}, c.HeldOffsets())

	require.NoError(t, c.Stop(ctx))
	_, err := c.Consume(ctx)
	assert.ErrorIs(t, err, ErrConsumerStopped)
}

func TestTypedConsumerMessagesGoesOnAfterPoison(t *testing.T) {
	ctx := context.Background()
	c := NewTypedConsumer[int, typedOrder](poisonedLog(), atoiSerde(), JSONSerde[typedOrder]{})
	var got, poisoned []int64
	var errs int
	for m, err := range c.Messages(ctx) {
		var de *DeserializationError
		switch {
		case errors.As(err, &de):
			poisoned = append(poisoned, de.Offset)
		case err != nil:
			errs++
		default:
			got = append(got, m.Offset)
		}
	}
	assert.Equal(t, []int64{0, 1, 3, 5}, got, "the iteration ends quietly at the consumer timeout")
	assert.Equal(t, []int64{2, 4}, poisoned)
	assert.Equal(t, 1, errs)

	// Breaking out of the loop stops the iteration at once.
	c = NewTypedConsumer[int, typedOrder](poisonedLog(), atoiSerde(), nil)
	n := 0
	for range c.Messages(ctx) {
		n++
		break
	}
	assert.Equal(t, 1, n)

	// An error other than a partition's or a record's ends it.
	sc := &sliceConsumer{held: map[int32]int64{}, outcomes: []sliceOutcome{
		{err: &GroupError{Group: "g", Err: errors.New("fenced")}},
		{msg: &Message{Topic: "orders", Value: []byte(`{}`)}},
	}}
	var last error
	n = 0
	for _, err := range NewTypedConsumer[[]byte, typedOrder](sc, nil, nil).Messages(ctx) {
		n++
		last = err
	}
	assert.Equal(t, 1, n)
	var ge *GroupError
	assert.ErrorAs(t, last, &ge)
}

// TestTypedProducerSerializes produces typed messages to the fake cluster:
// keys and values arrive serialized, the key is serialized before the
// partitioner hashes it, and a serializer's error sends nothing.
func TestTypedProducerSerializes(t *testing.T) {
	h := goroutine.New()
	t.Cleanup(func() { h.Close() })
	fc, topic := pfSetup(t, h, 1, 4)
	ctx := testCtx(t)

	sp, err := topic.SyncProducer(ProducerConfig{Partitioner: HashPartitioner(nil)})
	require.NoError(t, err)
	tp := NewTypedSyncProducer[string, typedOrder](sp, nil, nil)
	t.Cleanup(func() { _ = tp.Close() })
	assert.Same(t, topic, tp.Topic())
	assert.Same(t, sp, tp.SyncProducer())

	part, off, err := tp.Produce(ctx, "customer-1", typedOrder{ID: 1, Item: "tea"})
	require.NoError(t, err)
	want, err := HashPartitioner(nil).Partition(&Message{Key: []byte("customer-1")}, 4)
	require.NoError(t, err)
	assert.Equal(t, want, part, "the partitioner hashed the serialized key")
	rec := fc.log(int(part))[off]
	assert.Equal(t, "customer-1", string(rec.Key))
	assert.JSONEq(t, `{"id":1,"item":"tea","total":0}`, string(rec.Value))

	hdr := []Header{{Key: "source", Value: []byte("test")}}
	part, off, err = tp.ProduceMessage(ctx, TypedMessage[string, typedOrder]{Key: "customer-2", Value: typedOrder{ID: 2}, Headers: hdr})
	require.NoError(t, err)
	assert.Equal(t, hdr[0].Value, fc.log(int(part))[off].Headers[0].Value)

	failing := SerializerFunc[typedOrder](func(string, typedOrder) ([]byte, error) { return nil, errors.New("no schema") })
	bad := NewTypedSyncProducer[string, typedOrder](sp, nil, failing)
	before := len(fc.produced())
	part, off, err = bad.Produce(ctx, "customer-3", typedOrder{})
	var se *SerializationError
	require.ErrorAs(t, err, &se)
	assert.False(t, se.Key)
	assert.Equal(t, topic.Name(), se.Topic)
	assert.Equal(t, int32(-1), part)
	assert.Equal(t, int64(-1), off)
	assert.Equal(t, before, len(fc.produced()), "nothing was sent")

	// The asynchronous producer: reports carry the serialized bytes.
	p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true})
	ap := NewTypedProducer[[]byte, *typedOrder](p, nil, nil)
	assert.Same(t, p, ap.Producer())
	reports := collectReports(t, p)
	require.NoError(t, ap.Produce(ctx, nil, &typedOrder{ID: 5}))
	require.NoError(t, ap.Produce(ctx, nil, nil)) // a tombstone
	keyFails := NewTypedProducer[int, *typedOrder](p, SerializerFunc[int](func(string, int) ([]byte, error) {
		return nil, errors.New("odd key")
	}), nil)
	err = keyFails.Produce(ctx, 1, &typedOrder{})
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Key)
	require.NoError(t, ap.Flush(ctx))
	require.NoError(t, ap.Close())
	got := reports()
	require.Len(t, got, 2, "the refused message is not reported")
	values := map[string]bool{}
	for _, r := range got {
		require.NoError(t, r.Err)
		assert.Nil(t, r.Message.Key)
		values[string(r.Message.Value)] = r.Message.Value == nil
	}
	assert.Equal(t, map[string]bool{`{"id":5,"item":"","total":0}`: false, "": true}, values)
}

// FuzzSerdes feeds arbitrary record bytes to the built-in deserializers:
// they never panic, and whatever JSONSerde accepts it writes back in a form
// it reads as the same value.
func FuzzSerdes(f *testing.F) {
	for _, s := range []string{`{"id":1,"item":"tea","total":3}`, `null`, `[1,2]`, `"x"`, `{"id":`, "", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := StringSerde{}.Deserialize("t", data)
		require.NoError(t, err)
		back, err := StringSerde{}.Serialize("t", s)
		require.NoError(t, err)
		require.Equal(t, string(data), string(back))

		o, err := JSONSerde[*typedOrder]{}.Deserialize("t", data)
		if err == nil {
			b, err := JSONSerde[*typedOrder]{}.Serialize("t", o)
			require.NoError(t, err)
			again, err := JSONSerde[*typedOrder]{}.Deserialize("t", b)
			require.NoError(t, err)
			require.Equal(t, o, again)
		}
		v, err := JSONSerde[any]{}.Deserialize("t", data)
		if err == nil {
			_, err := JSONSerde[any]{}.Serialize("t", v)
			require.NoError(t, err)
		}
	})
}
