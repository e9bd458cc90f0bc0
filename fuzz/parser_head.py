"""Fuzz target: the request parser's head (request line and fields) under every limit and leniency.

    python fuzz/parser_head.py [libFuzzer flags] [corpus dirs]

Input: the settings (fuzz/knobs.py), one byte choosing the split points, then the bytes of the
connection. Checked for every input (fuzz/feed.py, check_head): the same answer whole, split and
byte by byte; an accepted head reads nothing past its end, stays within the limits, and has
exactly one framing; any refusal is an HTTPParseError; a reused parser answers the same.
"""

import sys

import atheris

with atheris.instrument_imports(include=["corn"]):
    import feed
    import knobs


def test_one_input(data):
    if len(data) <= knobs.SIZE + 1:
        return
    settings = knobs.decode(data)
    seed = data[knobs.SIZE]
    payload = data[knobs.SIZE + 1 :]
    factory = knobs.first_request_factory(settings)
    if factory is not None:
        feed.check_head(factory, payload, seed)


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
