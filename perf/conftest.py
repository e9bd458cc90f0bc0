"""Shared inputs and reporting for corn's benchmarks (run them with `python3 -m pytest perf`).

Every input is built once, at import, so a benchmark times only the call it names. Benchmarks of
the same work share a `benchmark.group`; in each group the one whose name starts with `corn` is the
reference, and the summary at the end of the run says how many times slower each other entry is.
"""

import pytest

# A browser's GET as it reaches a server (about 470 bytes, 10 fields).
TYPICAL_GET = (
    b"GET /articles/2024/corn-parser?ref=home&page=2 HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Referer: https://www.example.com/articles/2024\r\n"
    b"Connection: keep-alive\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"\r\n"
)

# An application's POST with a session and tracking cookies (about 2 KB, 16 fields).
_COOKIES = "; ".join(
    [f"sessionid={'a1b2c3d4' * 8}", f"csrftoken={'Zx9' * 21}", "theme=dark", "lang=en-GB"]
    + [f"_ga_{i}=GA1.1.{1000000 + i * 7919}.{1700000000 + i}" for i in range(20)]
    + [f"ab_test_{i}=variant-{i % 3}" for i in range(24)]
).encode()
COOKIE_POST = (
    b"POST /api/v2/orders/checkout?currency=EUR HTTP/1.1\r\n"
    b"Host: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    b"Version/17.5 Safari/605.1.15\r\n"
    b"Accept: application/json, text/plain, */*\r\n"
    b"Accept-Language: en-GB,en;q=0.9,fr;q=0.7\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: 0\r\n"
    b"Origin: https://shop.example.com\r\n"
    b"Referer: https://shop.example.com/cart?step=3\r\n"
    b"X-Requested-With: XMLHttpRequest\r\n"
    b"X-CSRFToken: " + b"Zx9" * 21 + b"\r\n"
    b"Cookie: " + _COOKIES + b"\r\n"
    b"Sec-Fetch-Site: same-origin\r\n"
    b"Sec-Fetch-Mode: cors\r\n"
    b"Connection: keep-alive\r\n"
    b"Priority: u=1, i\r\n"
    b"\r\n"
)


def _varied(request, count=64):
    """`count` copies of a request whose field values all differ from one copy to the next, so
    nothing learned from one request can be reused for the next."""
    head, _, _ = request.partition(b"\r\n\r\n")
    first, *fields = head.split(b"\r\n")
    copies = []
    for n in range(count):
        tagged = [
            name + b": " + value + b"%03d" % n if not name.lower().startswith((b"content-length", b"host"))
            else name + b": " + value
            for name, _, value in (field.partition(b": ") for field in fields)
        ]
        copies.append(b"\r\n".join([first, *tagged]) + b"\r\n\r\n")
    return copies


VARIED_GET = _varied(TYPICAL_GET)


@pytest.fixture(scope="session")
def typical_get():
    """TYPICAL_GET: a browser's GET, about 470 bytes and 10 fields."""
    return TYPICAL_GET


@pytest.fixture(scope="session")
def cookie_post():
    """COOKIE_POST: an application's POST with cookies, about 2 KB."""
    return COOKIE_POST


@pytest.fixture(scope="session")
def varied_get():
    """64 variants of TYPICAL_GET, no two with a field value in common."""
    return VARIED_GET


def _has_timings(bench):
    """A benchmark that failed has stats but no timings."""
    try:
        return bench.stats is not None and bench.stats.min is not None
    except ValueError:
        return False


def _label(bench):
    """Whose timing a benchmark is: its `parser` parameter (test_parse[typical-corn]), else its
    test's name without the prefix (test_corn_request_cycle)."""
    parser = (bench.params or {}).get("parser")
    return parser if parser is not None else bench.name.removeprefix("test_").split("[")[0]


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if _has_timings(bench):
            groups.setdefault(bench.group, []).append(bench)
    terminalreporter.section("corn compared (min times)")
    for group, benches in sorted(groups.items(), key=lambda item: str(item[0])):
        reference = next((b for b in benches if _label(b).startswith("corn")), None)
        if reference is None:
            continue
        base = reference.stats.min
        parts = [f"corn {base * 1e9:.0f} ns"]
        for bench in sorted(benches, key=lambda b: b.stats.min):
            if bench is not reference:
                least = bench.stats.min
                parts.append(f"{_label(bench)} {least * 1e9:.0f} ns (x{least / base:.1f})")
        terminalreporter.write_line(f"{group}: " + ", ".join(parts))
