package kafka_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/gregorkafka/gregor/kafka"
)

type Order struct {
	ID    int    `json:"id"`
	Total int    `json:"total"`
	Note  string `json:"note,omitempty"`
}

func ExampleJSONSerde() {
	serde := kafka.JSONSerde[Order]{}
	b, err := serde.Serialize("orders", Order{ID: 1, Total: 42})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))

	o, err := serde.Deserialize("orders", []byte(`{"id":2,"total":7}`))
	fmt.Println(o, err)

	_, err = serde.Deserialize("orders", []byte(`{"id":"three"}`))
	fmt.Println(err != nil)

	// A nil pointer is a null value (a tombstone), and back.
	tomb, _ := kafka.JSONSerde[*Order]{}.Serialize("orders", nil)
	back, _ := kafka.JSONSerde[*Order]{}.Deserialize("orders", tomb)
	fmt.Println(tomb == nil, back == nil)
	// Output:
	// {"id":1,"total":42}
	// {2 7 } <nil>
	// true
	// true true
}

func ExampleNewTypedProducer() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "orders")
	if err != nil {
		log.Fatal(err)
	}
	p, err := topic.Producer(kafka.ProducerConfig{Partitioner: kafka.HashPartitioner(nil)})
	if err != nil {
		log.Fatal(err)
	}
	// Keys as strings, values as JSON (nil serializers would pick the
	// same: DefaultSerde).
	orders := kafka.NewTypedProducer[string, Order](p, kafka.StringSerde{}, kafka.JSONSerde[Order]{})
	defer orders.Close()

	err = orders.Produce(ctx, "customer-1", Order{ID: 1, Total: 42})
	var serr *kafka.SerializationError
	if errors.As(err, &serr) {
		log.Fatalf("order not sent: %v", serr)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleNewTypedConsumer() {
	ctx := context.Background()
	client, err := kafka.NewClient(ctx, kafka.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic, err := client.Topic(ctx, "orders")
	if err != nil {
		log.Fatal(err)
	}
	bc, err := topic.BalancedConsumer("billing", kafka.BalancedConsumerConfig{Managed: true})
	if err != nil {
		log.Fatal(err)
	}
	orders := kafka.NewTypedConsumer[string, Order](bc, nil, nil) // string keys, JSON values
	defer orders.Stop(ctx)

	for m, err := range orders.Messages(ctx) {
		var poison *kafka.DeserializationError
		if errors.As(err, &poison) {
			// One bad record: report it and go on with the next one.
			log.Printf("skipping %s/%d@%d: %v", poison.Topic, poison.Partition, poison.Offset, poison.Err)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s ordered %d for %d\n", m.Key, m.Value.ID, m.Value.Total)
	}
}

// registry stands in for a schema registry client: it gives each schema
// of a subject an id, and the schema of an id.
type registry struct {
	mu      sync.Mutex
	ids     map[string]uint32
	schemas map[uint32]string
}

func (r *registry) register(subject, schema string) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := subject + "\x00" + schema
	if id, ok := r.ids[key]; ok {
		return id
	}
	id := uint32(len(r.schemas) + 1)
	r.ids[key], r.schemas[id] = id, schema
	return id
}

func (r *registry) schema(id uint32) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.schemas[id]
	return s, ok
}

// registrySerde frames values in the schema registry wire format that
// Confluent's serializers use: a magic byte 0, the schema id as 4
// big-endian bytes, then the payload. The payload here is JSON; an Avro or
// Protobuf serde encodes it with that library against the schema instead.
type registrySerde[T any] struct {
	reg    *registry
	schema string
}

func (s registrySerde[T]) Serialize(topic string, v T) ([]byte, error) {
	payload, err := kafka.JSONSerde[T]{}.Serialize(topic, v)
	if err != nil || payload == nil {
		return payload, err
	}
	id := s.reg.register(topic+"-value", s.schema) // the TopicNameStrategy subject
	out := binary.BigEndian.AppendUint32([]byte{0}, id)
	return append(out, payload...), nil
}

func (s registrySerde[T]) Deserialize(topic string, data []byte) (T, error) {
	var zero T
	if data == nil {
		return zero, nil
	}
	if len(data) < 5 || data[0] != 0 {
		return zero, errors.New("not in the schema registry wire format")
	}
	id := binary.BigEndian.Uint32(data[1:5])
	if _, ok := s.reg.schema(id); !ok {
		return zero, fmt.Errorf("unknown schema id %d", id)
	}
	return kafka.JSONSerde[T]{}.Deserialize(topic, data[5:])
}

// A Serde for a schema registry's formats is any type with Serialize and
// Deserialize: give it to NewTypedProducer and NewTypedConsumer, as
//
//	kafka.NewTypedProducer[string, Order](producer, nil, serde)
//	kafka.NewTypedConsumer[string, Order](consumer, nil, serde)
//
// A record that is not in the format reaches the consumer as a
// *DeserializationError for that record alone.
func Example_schemaRegistry() {
	reg := &registry{ids: map[string]uint32{}, schemas: map[uint32]string{}}
	reg.register("payments-value", `{"type":"record","name":"Payment"}`)
	var serde kafka.Serde[Order] = registrySerde[Order]{reg: reg, schema: `{"type":"record","name":"Order"}`}

	b, err := serde.Serialize("orders", Order{ID: 1, Total: 42})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("magic %d, schema id %d, payload %s\n", b[0], binary.BigEndian.Uint32(b[1:5]), b[5:])

	o, err := serde.Deserialize("orders", b)
	fmt.Println(o, err)

	_, err = serde.Deserialize("orders", []byte(`{"id":1}`))
	fmt.Println(err)
	_, err = serde.Deserialize("orders", []byte{0, 0, 0, 0, 9, '{', '}'})
	fmt.Println(err)
	// Output:
	// magic 0, schema id 2, payload {"id":1,"total":42}
	// {1 42 } <nil>
	// not in the schema registry wire format
	// unknown schema id 9
}
