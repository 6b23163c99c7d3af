"""A pykafka 2.8 group member or keyed producer, driven by gregor's tests.

    member.py consume --bootstrap H:P --zookeeper H:P --topic T --group G [--managed]
        Runs a BalancedConsumer (ZooKeeper) or ManagedBalancedConsumer and
        prints one JSON line per event: {"owns": [partition, ...]} when its
        partitions change, {"p": partition, "o": offset, "k": key, "v": value}
        per message. Stops, leaving the group, when stdin closes.

    member.py produce --bootstrap H:P --topic T KEY...
        Produces one message per key, value "py-KEY", placed by pykafka's
        hashing_partitioner, and prints {"k": key, "p": partition} for each.
"""
import argparse
import json
import sys
import threading

from pykafka import KafkaClient
from pykafka.common import OffsetType
from pykafka.partitioners import hashing_partitioner


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def consume(args, topic):
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    common = dict(
        auto_commit_enable=False,
        auto_offset_reset=OffsetType.EARLIEST,
        consumer_timeout_ms=100,
        rebalance_backoff_ms=300,
        fetch_wait_max_ms=50,
    )
    if args.managed:
        consumer = topic.get_balanced_consumer(args.group.encode(), managed=True,
                                               heartbeat_interval_ms=300, **common)
    else:
        consumer = topic.get_balanced_consumer(args.group.encode(), managed=False,
                                               zookeeper_connect=args.zookeeper, **common)
    owned = None
    while not stop.is_set():
        now = sorted(int(p) for p in consumer.partitions)
        if now != owned:
            owned = now
            emit({"owns": owned})
        msg = consumer.consume(block=False)
        if msg is None:
            stop.wait(0.05)
            continue
        emit({"p": msg.partition_id, "o": msg.offset,
              "k": (msg.partition_key or b"").decode(), "v": msg.value.decode()})
    consumer.stop()
    emit({"stopped": True})


def produce(args, topic):
    with topic.get_sync_producer(partitioner=hashing_partitioner) as producer:
        for key in args.keys:
            report = producer.produce(("py-" + key).encode(), partition_key=key.encode())
            emit({"k": key, "p": report.partition_id})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["consume", "produce"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--zookeeper")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group")
    ap.add_argument("--managed", action="store_true")
    ap.add_argument("keys", nargs="*")
    args = ap.parse_intermixed_args()
    client = KafkaClient(hosts=args.bootstrap, broker_version="1.0.0")
    topic = client.topics[args.topic.encode()]
    if args.mode == "consume":
        consume(args, topic)
    else:
        produce(args, topic)


if __name__ == "__main__":
    main()
