"""pykafka contender for gregor's benchmarks.

Takes benchclient's flags (the subset pykafka can run) and prints one JSON result line. pykafka runs in pure
Python mode (use_rdkafka=False): its librdkafka extension is an optional C build not installed here.
"""

import argparse
import json
import queue
import sys
import threading
import time


def shim():
    """pykafka 2.8.0 imports and runs on Python 3.11 as it is for the paths used here (its optional librdkafka
    extension is not built, and use_rdkafka=False never asks for it), so no shim is needed."""
    import pykafka  # noqa: F401


def seconds(v):
    """Durations come as Go writes them for benchclient ("1.5s") or as plain seconds."""
    return float(v[:-1]) if v.endswith("s") else float(v)


def load_payload(path, size):
    with open(path, "rb") as f:
        values = [line.rstrip(b"\n") for line in f]
    for v in values:
        if len(v) != size:
            raise ValueError("payload value of %d bytes, want %d" % (len(v), size))
    return values


def parse_ends(s):
    ends = {}
    for kv in filter(None, s.split(",")):
        p, e = kv.split(":")
        ends[int(p)] = int(e)
    return ends


def percentile(sorted_vals, q):
    if not sorted_vals:
        return 0.0
    rank = int(q / 100.0 * len(sorted_vals) + 0.999999) - 1
    return sorted_vals[min(max(rank, 0), len(sorted_vals) - 1)]


_clients = []


def client(args):
    from pykafka import KafkaClient

    # pykafka's topics hold their cluster through a weak reference: the client must outlive them.
    c = KafkaClient(hosts=args.bootstrap, broker_version=args.broker_version)
    _clients.append(c)
    return c


def compression(args):
    from pykafka.common import CompressionType

    return CompressionType.LZ4 if args.compression == "lz4" else CompressionType.NONE


def acks(args):
    return -1 if args.acks == "all" else 1


def produce(args):
    values = load_payload(args.payload, args.size)
    topic = client(args).topics[args.topic]
    res = {"messages": 0, "bytes": 0}
    errors = []
    with topic.get_producer(
        use_rdkafka=False,
        delivery_reports=True,
        linger_ms=0,
        min_queued_messages=1,
        max_queued_messages=args.buffer_msgs,
        required_acks=acks(args),
        compression=compression(args),
        sync=False,
    ) as p:
        start = time.time()
        pending = 0
        for i in range(args.n):
            p.produce(values[i % len(values)])
            pending += 1
            # Delivery reports queue up in memory until read: read them as we go.
            while pending > 0:
                try:
                    msg, exc = p.get_delivery_report(block=False)
                except Exception:
                    break
                pending -= 1
                if exc is not None:
                    errors.append(exc)
                else:
                    res["messages"] += 1
                    res["bytes"] += len(msg.value)
        while pending > 0:
            try:
                msg, exc = p.get_delivery_report(block=True, timeout=args.timeout)
            except queue.Empty:
                raise TimeoutError("%d messages without a delivery report after %gs" % (pending, args.timeout))
            pending -= 1
            if exc is not None:
                errors.append(exc)
            else:
                res["messages"] += 1
                res["bytes"] += len(msg.value)
        res["seconds"] = time.time() - start
    if errors:
        res["error"] = repr(errors[0])
    return res


def latency(args):
    values = load_payload(args.payload, args.size)
    topic = client(args).topics[args.topic]
    res = {"messages": 0, "bytes": 0}
    lat = []
    errors = []
    with topic.get_producer(
        use_rdkafka=False,
        delivery_reports=True,
        linger_ms=0,
        min_queued_messages=1,
        max_queued_messages=args.buffer_msgs,
        required_acks=acks(args),
        compression=compression(args),
    ) as p:
        start = time.monotonic()
        every = 1.0 / max(args.rate, 1)
        i = 0
        sent = 0
        sent_at = {}

        def drain(block):
            nonlocal sent
            while sent > 0 and time.monotonic() - start < args.timeout:
                try:
                    msg, exc = p.get_delivery_report(block=block, timeout=args.timeout)
                except Exception:
                    return
                sent -= 1
                at = sent_at.pop(id(msg), None)
                if at is not None and at >= start + args.warmup:
                    lat.append(time.monotonic() - at)
                if exc is not None:
                    errors.append(exc)
                else:
                    res["messages"] += 1
                    res["bytes"] += len(msg.value)

        while time.monotonic() - start < args.warmup + args.duration:
            due = start + i * every
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            now = time.monotonic()
            # produce returns the queued Message, and its delivery report carries the same object.
            msg = p.produce(values[i % len(values)])
            sent_at[id(msg)] = now
            i += 1
            sent += 1
            drain(False)
        drain(True)
        res["seconds"] = time.monotonic() - start
    lat.sort()
    res["p50_ms"] = percentile(lat, 50) * 1000
    res["p99_ms"] = percentile(lat, 99) * 1000
    res["p999_ms"] = percentile(lat, 99.9) * 1000
    if errors:
        res["error"] = repr(errors[0])
    return res


def consume(args):
    from pykafka.common import OffsetType

    ends = parse_ends(args.ends)
    start = time.time()
    topic = client(args).topics[args.topic]
    c = topic.get_simple_consumer(
        auto_offset_reset=OffsetType.EARLIEST,
        reset_offset_on_start=True,
        fetch_message_max_bytes=1 << 20,
        consumer_timeout_ms=args.timeout * 1000,
    )
    nxt = {p: 0 for p in ends}
    remaining = sum(1 for p, e in ends.items() if e > 0)
    res = {"messages": 0, "bytes": 0}
    try:
        while remaining > 0:
            m = c.consume()
            if m is None:
                raise TimeoutError("no message within the timeout")
            res["messages"] += 1
            res["bytes"] += len(m.value)
            p = m.partition_id
            if m.offset + 1 > nxt[p]:
                if nxt[p] < ends[p] <= m.offset + 1:
                    remaining -= 1
                nxt[p] = m.offset + 1
    finally:
        c.stop()
    res["seconds"] = time.time() - start
    return res


def group(args):
    from pykafka.common import OffsetType

    ends = parse_ends(args.ends)
    start = time.time()
    nxt = {p: 0 for p in ends}
    state = {"remaining": sum(1 for e in ends.values() if e > 0), "assigned": 0.0}
    lock = threading.Lock()
    done = threading.Event()
    consumers = []
    for _ in range(args.members):
        topic = client(args).topics[args.topic]
        consumers.append(
            topic.get_balanced_consumer(
                consumer_group=args.group.encode(),
                managed=True,
                use_rdkafka=False,
                auto_offset_reset=OffsetType.EARLIEST,
                auto_commit_enable=False,
                consumer_timeout_ms=200,
                fetch_message_max_bytes=1 << 20,
            )
        )

    def owned():
        seen = set()
        for c in consumers:
            parts = set(p.id for p in (c.partitions or {}).values()) if c.partitions else set()
            if not parts or seen & parts:
                return False
            seen |= parts
        return len(seen) == len(ends)

    def run(c):
        while not done.is_set():
            m = c.consume(block=True)
            if m is None:
                continue
            with lock:
                p = m.partition_id
                if m.offset + 1 > nxt[p]:
                    if nxt[p] < ends[p] <= m.offset + 1:
                        state["remaining"] -= 1
                        if state["remaining"] == 0:
                            done.set()
                    nxt[p] = m.offset + 1

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in consumers]
    for t in threads:
        t.start()
    deadline = start + args.timeout
    while not done.is_set() and time.time() < deadline:
        if not state["assigned"] and owned():
            state["assigned"] = time.time() - start
        time.sleep(0.005)
    res = {"seconds": time.time() - start, "assign_seconds": state["assigned"]}
    total = sum(ends.values())
    res["messages"] = total
    res["bytes"] = total * args.size
    if not done.is_set():
        res["error"] = "timed out"
    for c in consumers:
        c.stop()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-workload", default="produce")
    ap.add_argument("-bootstrap", default="127.0.0.1:9092")
    ap.add_argument("-topic", default="bench")
    ap.add_argument("-partitions", type=int, default=6)
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("-size", type=int, default=100)
    ap.add_argument("-payload", default="")
    ap.add_argument("-compression", default="none")
    ap.add_argument("-acks", default="1")
    ap.add_argument("-delivery", default="")  # pykafka has no idempotence: the runner never asks for it
    ap.add_argument("-rate", type=int, default=1000)
    ap.add_argument("-duration", type=seconds, default=5.0)
    ap.add_argument("-warmup", type=seconds, default=0.0)
    ap.add_argument("-members", type=int, default=3)
    ap.add_argument("-group", default="bench-group")
    ap.add_argument("-clients", type=int, default=1)
    ap.add_argument("-ends", default="")
    ap.add_argument("-buffer-msgs", dest="buffer_msgs", type=int, default=100000)
    ap.add_argument("-buffer-bytes", dest="buffer_bytes", type=int, default=64 << 20)
    ap.add_argument("-timeout", type=seconds, default=300)
    ap.add_argument("-broker-version", dest="broker_version", default="1.0.0")
    args = ap.parse_args()
    shim()
    fn = {"produce": produce, "latency": latency, "consume": consume, "group": group}.get(args.workload)
    if fn is None:
        print(json.dumps({"error": "workload %s not supported by pykafka" % args.workload}))
        return 1
    try:
        res = fn(args)
    except Exception as e:  # the runner records the failure and its reason
        res = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(res))
    return 1 if res.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
