"""Writes hashing_partitioner.json: where pykafka's hashing_partitioner puts
keys, for TestSHA1PartitionerMatchesPykafka.

Run it with the python of the virtualenv the pykafka interop tests make
(pykafka 2.8.0 from PyPI, under the harness's cache directory):

    $GREGOR_CACHE_DIR/pykafka-2.8.0/bin/python hashing_partitioner.py > hashing_partitioner.json
"""
import json
import sys
from collections import namedtuple

import pykafka
from pykafka.partitioners import hashing_partitioner


class Partition(namedtuple("Partition", "id")):
    """Orders by id, as pykafka's Partition does."""


def keys():
    yield b""
    yield b"\x00"
    yield b"\xff\xfe\x00\x01"
    for i in range(200):
        yield ("customer-%d" % i).encode()
    yield "ключ-ü-😀".encode("utf-8")
    yield bytes(range(256))


def main():
    counts = [1, 2, 3, 5, 7, 12, 16, 31, 100, 1000]
    out = {"pykafka": pykafka.__version__, "vectors": []}
    for key in keys():
        places = {}
        for n in counts:
            # Handed over out of order: the partitioner sorts them itself.
            partitions = [Partition(i) for i in reversed(range(n))]
            places[str(n)] = hashing_partitioner(partitions, key).id
        out["vectors"].append({"key_hex": key.hex(), "partitions": places})
    # One vector a line, so a diff shows which key moved.
    lines = [json.dumps(v, sort_keys=True) for v in out["vectors"]]
    sys.stdout.write('{"pykafka": %s, "vectors": [\n%s\n]}\n'
                     % (json.dumps(out["pykafka"]), ",\n".join(lines)))


if __name__ == "__main__":
    main()
