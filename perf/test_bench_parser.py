"""corn's request parser against httptools and gunicorn's parser, same inputs, same run.

Each entry does what a server needs from a head and no more: parse it whole and read the request
line and the fields back through the Python-visible API.

- corn: `reset()`, `parse_head()`, then the fields (method, target and its split, version, the
  list of (NAME, value) str pairs, framing, keep-alive).
- httptools: `feed_data()` into a keep-alive HttpRequestParser whose on_url/on_header callbacks
  collect the raw bytes into a list, then method, version and keep-alive.
- gunicorn: `next()` on gunicorn.http.parser.RequestParser over an in-memory source, then the
  same fields.

corn reuses the (NAME, value) tuple of a known field whose value repeats the previous request's,
as the fields of a keep-alive client mostly do; the "varied" group gives every request fresh
values so that nothing can be reused.

Each round lasts at least 0.5 ms (pytest-benchmark's default is 5 us, a handful of sub-microsecond
calls, where the timer's own cost would be most of what is measured).
"""

import itertools

import httptools
import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser as GunicornParser

from corn._parser import RequestParser
from corn.options import options_for

pytestmark = pytest.mark.benchmark(min_time=0.0005, warmup=True)

CORN = RequestParser(options_for().parser)

GUNICORN_CONFIG = Config()
GUNICORN_CONFIG.set("http_parser", "python")


class Collector:
    """httptools callbacks that keep what corn's fields hold, as bytes."""

    __slots__ = ("url", "headers")

    def __init__(self):
        self.url = None
        self.headers = []

    def on_url(self, url):
        self.url = url

    def on_header(self, name, value):
        self.headers.append((name, value))


COLLECTOR = Collector()
HTTPTOOLS = httptools.HttpRequestParser(COLLECTOR)


def corn_parse(data):
    parser = CORN
    parser.reset()
    parser.parse_head(data, 0, len(data))
    return (parser.method, parser.uri, parser.path, parser.query, parser.version_major,
            parser.version_minor, parser.headers, parser.body_kind, parser.content_length,
            parser.should_close)


def httptools_parse(data):
    COLLECTOR.headers = []
    HTTPTOOLS.feed_data(data)
    return (HTTPTOOLS.get_method(), COLLECTOR.url, HTTPTOOLS.get_http_version(), COLLECTOR.headers,
            HTTPTOOLS.should_keep_alive())


def gunicorn_parse(data):
    req = next(GunicornParser(GUNICORN_CONFIG, [data], None))
    return req.method, req.uri, req.path, req.query, req.version, req.headers, req.should_close()


# parser -> (parse one head, (method as str, number of fields) from what it returned)
PARSERS = {
    "corn": (corn_parse, lambda result: (result[0], len(result[6]))),
    "httptools": (httptools_parse, lambda result: (result[0].decode(), len(result[3]))),
    "gunicorn": (gunicorn_parse, lambda result: (result[0], len(result[5]))),
}

# case -> (the fixture of its input, its method, its number of fields, its group's name)
CASES = {
    "typical": ("typical_get", "GET", 10, "typical GET ({size} B, 10 fields)"),
    "cookies": ("cookie_post", "POST", 16, "POST with cookies ({size} B, 16 fields)"),
    "varied": ("varied_get", "GET", 10, "typical GET, every field value fresh"),  # a list of heads
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", CASES)
def test_parse(benchmark, request, case, parser):
    fixture, method, fields, group = CASES[case]
    data = request.getfixturevalue(fixture)
    parse, summary = PARSERS[parser]
    if isinstance(data, list):
        nxt = itertools.cycle(data).__next__
        benchmark.group = group
        result = benchmark(lambda: parse(nxt()))
    else:
        benchmark.group = group.format(size=len(data))
        result = benchmark(parse, data)
    assert summary(result) == (method, fields)
