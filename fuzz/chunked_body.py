"""Fuzz target: the chunked body decoder, with the limits and trailer rules of any parser settings.

    python fuzz/chunked_body.py [libFuzzer flags] [corpus dirs]

Input: the settings (fuzz/knobs.py; the decoder's line limit is limit_request_field_size, its
trailer section's the head's limit), a byte choosing the split points and how much data is taken
at a time, then the body.
Checked: the same answer (body bytes, end, trailers, or error) whole, split with small takes, and
byte by byte; an accepted body frames exactly as the plainest reading of RFC 9112 7.1 frames it
(one framing), ends inside the input, and reads nothing past its end; trailers stay within the
field limits; a body cut short has a truncation error to raise.
"""

import sys

import atheris

with atheris.instrument_imports(include=["corn"]):
    from corn._chunked import ChunkedDecoder

    import feed
    import knobs


def test_one_input(data):
    head = knobs.SIZE + 1
    if len(data) <= head:
        return
    options = knobs.options(knobs.decode(data))
    if options is None:
        return
    seed = data[knobs.SIZE]
    body = data[head:]

    def decoder():
        return ChunkedDecoder(options.parser)

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
    assert len(trailers) <= options.parser.limit_request_fields, len(trailers)


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
