package sasl

import (
	"context"
	"testing"
)

func TestPlainMessage(t *testing.T) {
	p := &Plain{Username: "alice", Password: "s3cret", AuthzID: "alice"}
	if p.Name() != "PLAIN" {
		t.Fatal(p.Name())
	}
	ex, msg, err := p.Start(context.Background(), "b:9092")
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != "alice\x00alice\x00s3cret" {
		t.Fatalf("message %q", msg)
	}
	if next, done, err := ex.Next(context.Background(), nil); next != nil || !done || err != nil {
		t.Fatalf("Next = %q, %v, %v", next, done, err)
	}
	for _, bad := range []*Plain{{}, {Username: "a\x00b", Password: "p"}, {Username: "a", Password: "p\x00"}} {
		if _, _, err := bad.Start(context.Background(), ""); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}
