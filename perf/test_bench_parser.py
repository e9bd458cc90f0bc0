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

pytestmark = pytest.mark.benchmark(min_time=0.0005, warmup=True)

CORN = RequestParser()

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


def typical_group(data):
    return f"typical GET ({len(data)} B, 10 fields)"


def test_corn_typical(benchmark, typical_get):
    benchmark.group = typical_group(typical_get)
    result = benchmark(corn_parse, typical_get)
    assert result[0] == "GET" and len(result[6]) == 10


def test_httptools_typical(benchmark, typical_get):
    benchmark.group = typical_group(typical_get)
    result = benchmark(httptools_parse, typical_get)
    assert result[0] == b"GET" and len(result[3]) == 10


def test_gunicorn_typical(benchmark, typical_get):
    benchmark.group = typical_group(typical_get)
    result = benchmark(gunicorn_parse, typical_get)
    assert result[0] == "GET" and len(result[5]) == 10


def cookie_group(data):
    return f"POST with cookies ({len(data)} B, 16 fields)"


def test_corn_cookies(benchmark, cookie_post):
    benchmark.group = cookie_group(cookie_post)
    result = benchmark(corn_parse, cookie_post)
    assert result[0] == "POST" and len(result[6]) == 16


def test_httptools_cookies(benchmark, cookie_post):
    benchmark.group = cookie_group(cookie_post)
    result = benchmark(httptools_parse, cookie_post)
    assert result[0] == b"POST" and len(result[3]) == 16


def test_gunicorn_cookies(benchmark, cookie_post):
    benchmark.group = cookie_group(cookie_post)
    result = benchmark(gunicorn_parse, cookie_post)
    assert result[0] == "POST" and len(result[5]) == 16


VARIED_GROUP = "typical GET, every field value fresh"


def test_corn_varied(benchmark, varied_get):
    benchmark.group = VARIED_GROUP
    nxt = itertools.cycle(varied_get).__next__
    result = benchmark(lambda: corn_parse(nxt()))
    assert len(result[6]) == 10


def test_httptools_varied(benchmark, varied_get):
    benchmark.group = VARIED_GROUP
    nxt = itertools.cycle(varied_get).__next__
    result = benchmark(lambda: httptools_parse(nxt()))
    assert len(result[3]) == 10
