package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gregorkafka/gregor/kafka"
)

const clientID = "gregor-kafka-tools"

// env is what an action works with: the global options, the streams and
// a client connected on first use, so that argument errors are found
// before any connection is made.
type env struct {
	g      *globals
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger

	client *kafka.Client
}

func newEnv(g *globals, stdin io.Reader, stdout, stderr io.Writer) *env {
	level := slog.LevelError
	if g.verbose {
		level = slog.LevelDebug
	}
	return &env{
		g: g, stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
}

// connect returns the client, bootstrapping it on the first call: from
// --brokers, or from ZooKeeper's broker registry when only --zookeeper
// was given.
func (e *env) connect(ctx context.Context) (*kafka.Client, error) {
	if e.client != nil {
		return e.client, nil
	}
	cfg := kafka.Config{
		ClientID: clientID,
		Logger:   e.log,
		// Operators inspect internal topics too (desc_topic
		// __consumer_offsets); print_topics hides them unless asked.
		IncludeInternalTopics: true,
	}
	if e.g.zookeeper != "" && !e.g.brokersSet {
		cfg.ZooKeeperHosts = e.g.zookeeper
	} else {
		cfg.Hosts = e.g.brokerList()
		if len(cfg.Hosts) == 0 {
			return nil, usagef("bad --brokers %q: no address", e.g.brokers)
		}
	}
	cfg.DialTimeout = e.dialTimeout()
	tc, err := e.g.tls.config()
	if err != nil {
		return nil, err
	}
	cfg.TLS = tc
	if cfg.SASL, err = e.g.sasl.mechanismValue(); err != nil {
		return nil, err
	}
	if e.g.verbose {
		cfg.Hooks = []kafka.Hook{&requestLog{w: e.stderr}}
	}
	cl, err := kafka.NewClient(ctx, cfg)
	if err != nil {
		var ce *kafka.ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("connecting: %w", err)
	}
	e.client = cl
	return cl, nil
}

// dialTimeout is the limit connect gives each broker connection.
func (e *env) dialTimeout() time.Duration {
	if t := e.g.timeout; t > 0 {
		return min(t, e.g.dialTimeout)
	}
	return e.g.dialTimeout
}

func (e *env) close() {
	if e.client != nil {
		_ = e.client.Close()
	}
}

// topic looks a topic up, turning "no such topic" into a plain message.
func (e *env) topic(ctx context.Context, name string) (*kafka.Topic, error) {
	cl, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	t, err := cl.Topic(ctx, name)
	if errors.Is(err, kafka.ErrUnknownTopic) {
		return nil, unknownTopic(name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}
