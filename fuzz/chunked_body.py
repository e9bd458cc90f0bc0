"""Fuzz target: the chunked body decoder, with the trailer rules of any parser settings.

    python fuzz/chunked_body.py [libFuzzer flags] [corpus dirs]

Input: the settings (fuzz/knobs.py), a byte for the decoder's line limit, a byte for its trailer
limit, a byte choosing the split points and how much data is taken at a time, then the body.
Checked: the same answer (body bytes, end, trailers, or error) whole, split with small takes, and
byte by byte; an accepted body frames exactly as the plainest reading of RFC 9112 7.1 frames it
(one framing), ends inside the input, and reads nothing past its end; trailers stay within the
field limits; a body cut short has a truncation error to raise.
"""

import sys

import atheris

with atheris.instrument_imports(include=["corn"]):
    from corn._parser import ChunkedDecoder

    import feed
    import knobs

MAX_LINE = (8190, 0, 1, 2, 3, 8, 16, 64)
MAX_TRAILERS = (819204, 0, 1, 2, 8, 32, 256, 4096)


def test_one_input(data):
    head = knobs.SIZE + 3
    if len(data) <= head:
        return
    settings = knobs.decode(data)
    max_line = MAX_LINE[data[knobs.SIZE] % len(MAX_LINE)]
    max_trailers = MAX_TRAILERS[data[knobs.SIZE + 1] % len(MAX_TRAILERS)]
    seed = data[knobs.SIZE + 2]
    body = data[head:]
    use_parser = bool(seed & 0x80)

    def decoder():
        parser = knobs.make_parser(settings) if use_parser else None
        return ChunkedDecoder(max_line, max_trailers, parser)

    whole = feed.decode_body(decoder(), body, [len(body)], len(body) + 1)
    split = feed.decode_body(decoder(), body, feed.ends_of(body, seed), 1 + seed % 5)
    assert whole == split, (whole, split)
    if len(body) <= feed.BYTEWISE_MAX:
        bytewise = feed.decode_body(decoder(), body, range(1, len(body) + 1), 1)
        assert whole == bytewise, (whole, bytewise)
    if whole[0] != "done":
        return
    offset, decoded, trailers = whole[1], whole[2], whole[3]
    assert feed.decode_body(decoder(), body[:offset], [offset], offset + 1) == whole
    assert feed.reference_chunked(body) == (decoded, offset), (feed.reference_chunked(body), whole)
    fields = knobs.make_parser(settings) if use_parser else None
    max_fields = fields.limit_request_fields if fields else 100
    assert len(trailers) <= max_fields, len(trailers)


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
