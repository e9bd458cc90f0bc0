"""Write the seed corpus of every fuzz target from the request corpus (tests/requests).

    python fuzz/make_seeds.py DIR

makes DIR/<target>/ for each target, one file per case: the case's settings as fuzz/knobs.py
encodes them, the target's few control bytes, then the case's bytes (for chunked_body, the body
that follows the head of every chunked case). Cases whose settings the knobs cannot express are
seeded with the defaults instead.
"""

import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import knobs  # noqa: E402
import parser_corpus  # noqa: E402

TARGETS = ("parser_head", "chunked_body", "proxy_header", "request_cycle")
SPLIT = b"\x03"  # split every second byte
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def settings_bytes(case):
    try:
        return knobs.encode(case.settings)
    except (ValueError, KeyError):
        return knobs.encode({})


def chunked_body(case):
    """The bytes after the head of a chunked case, or None."""
    factory = knobs.first_request_factory(case.settings)
    if factory is None:
        return None
    parser = factory()
    try:
        end = parser.parse_head(case.data, 0, len(case.data))
    except Exception:
        return None
    if end < 0 or parser.body_kind != 2:
        return None
    return case.data[end:]


def seeds():
    """(target, bytes) for every case."""
    for case in parser_corpus.load_cases():
        head = settings_bytes(case)
        yield "parser_head", head + SPLIT + case.data
        yield "request_cycle", head + b"\0\0\0" + case.data
        if case.data.startswith((b"PROXY", V2_SIGNATURE)) or case.settings.get("proxy_protocol"):
            yield "proxy_header", head + SPLIT + case.data
        body = chunked_body(case)
        if body is not None:
            yield "chunked_body", head + SPLIT + body


def main(out):
    counts = dict.fromkeys(TARGETS, 0)
    for target in TARGETS:
        os.makedirs(os.path.join(out, target), exist_ok=True)
    for target, data in seeds():
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(out, target, name), "wb") as f:
            f.write(data)
        counts[target] += 1
    for target, n in counts.items():
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
