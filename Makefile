# gregor's build entry points. Every target fetches what it needs (Go modules, Kafka jars) by itself.

GO        ?= go
# The whole suite, unit and integration, must stay well inside CI's budget on two cores.
TEST_TIMEOUT ?= 25m
PKGS      := ./...
# Adapters are their own modules, so their dependencies never reach gregor's.
ADAPTERS  := adapters/prometheus adapters/otel

.PHONY: all test lint vet fmtcheck unit chaos demo broker bench fuzz generate clean-cache leftovers

all: test

## test: the whole suite — lint, then unit and integration tests (real Kafka clusters) with the race detector.
test: lint
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	cd bench && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	@for m in $(ADAPTERS); do (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done
	@$(MAKE) --no-print-directory leftovers

## unit: tests that need no broker (skips the integration packages' cluster tests).
unit:
	$(GO) test -race -count=1 -short $(PKGS)

## chaos: the fault tests at length. make test runs each once with one kill round; here the idempotent producer
## lives through CHAOS_ROUNDS broker kills and restarts, and every fault test runs CHAOS_COUNT times.
CHAOS_ROUNDS ?= 5
CHAOS_COUNT  ?= 3
CHAOS_TESTS  := TestIdempotentProducerBrokerKills|TestProducerIntegrationBrokerKilled|TestSimpleConsumerBrokerKilled|TestTransactionalCopySurvivesKill|TestManagedConsumerCoordinatorDies|TestCooperativeMemberKilledDuringRebalance
chaos:
	GREGOR_CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(GO) test -race -count=$(CHAOS_COUNT) -timeout 180m -run '^($(CHAOS_TESTS))$$' ./kafka/
	@$(MAKE) --no-print-directory leftovers

lint: fmtcheck vet

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	@for m in $(ADAPTERS); do (cd $$m && $(GO) vet ./...) || exit 1; done

## leftovers: fails if a test left a Kafka or ZooKeeper JVM running.
leftovers:
	@if pgrep -f 'gregor[.]testcluster=test-' >/dev/null; then \
		echo "test clusters left running:"; pgrep -af 'gregor[.]testcluster=test-'; exit 1; fi

## demo: start a local broker, show what gregor sees and does with it, stop the broker.
demo:
	$(GO) run ./cmd/gregor-demo

## broker: start a development broker and keep it running until Ctrl-C (prints its address). SECURITY=ssl adds
## SSL and mutual-TLS listeners and writes the CA and a client certificate to TLS_DIR (default .cache/dev-tls).
## SECURITY=sasl adds SASL_PLAINTEXT and SASL_SSL listeners (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) and prints the
## user, the listeners and the client settings; the SASL_SSL listener's CA goes to TLS_DIR.
SECURITY ?= plaintext
TLS_DIR  ?= .cache/dev-tls
broker:
	$(GO) run ./internal/testcluster/cmd/testcluster -mode kraft -brokers 1 -security $(SECURITY) -tls-dir $(TLS_DIR)

## bench: gregor against franz-go, sarama, kafka-go, confluent-kafka-go, pykafka and Kafka's own perf tools on
## harness clusters; writes docs/benchmarks.md and .svg. BENCH_QUICK=1 for a short smoke run. (The in-memory
## microbenchmarks: go test -run '^$$' -bench . ./protocol/... ./kafka/... and, in bench/, go test -bench . .)
bench:
	cd bench && $(GO) run ./cmd/benchrun

## fuzz: run every fuzz target briefly (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## generate: regenerate protocol/ (every API's types, the error table) from the pinned Kafka release's
## kafka-clients jars, resolved into GREGOR_CACHE_DIR or .cache like the test harness's brokers.
generate:
	$(GO) generate ./protocol/...

## clean-cache: forget the resolved Kafka jars (the next run resolves them again).
clean-cache:
	rm -rf .cache
