"""The request corpus through gunicorn 27.0.1's own Python parser, compared with corn's answer.

gunicorn is the compatibility oracle: for every case both must give the same requests (method,
target and its parts, version, fields, body, trailers, keep-alive, 100-continue, scheme, PROXY
information) or an error of the same class name. A difference fails the test unless the case is
listed in DIVERGENCES with the reason corn answers otherwise, and a listed case that no longer
differs fails too, so the table stays true.

gunicorn reads from an in-memory source one byte per read: its checks on a head still incomplete
(bare LF, the whole-head size, the chunk-size line bound) then run at every byte, as corn's do,
whatever the split.
"""

import pytest

gunicorn_config = pytest.importorskip("gunicorn.config")
gunicorn_parser = pytest.importorskip("gunicorn.http.parser")

from corn import http_errors  # noqa: E402
from parser_corpus import load_cases, run  # noqa: E402

CASES = load_cases()
UNTRUSTED_PEER = ("192.0.2.10", 40000)  # in neither allow list by default

CONNECTION_LIST = (
    "gunicorn reads only the first Connection field and only a value that is exactly close or "
    "keep-alive; corn reads every field as one list of options (RFC 9110 7.6.1), so close anywhere "
    "ends the connection and keep-alive anywhere keeps an HTTP/1.0 one."
)

LATER_HTTP1 = (
    "gunicorn serves HTTP/1.2 to 1.9 as the version sent (SERVER_PROTOCOL and status line "
    "HTTP/1.x); corn serves them as HTTP/1.1, the highest minor version it speaks (RFC 9110 2.5)."
)

PROXY_REQUIRED = (
    "gunicorn parses a connection that does not open with a PROXY header as plain HTTP and serves "
    "it as a direct client; corn, like nginx and HAProxy, closes it without a response, so nobody "
    "who can reach corn's port directly can bypass the proxy."
)

DIVERGENCES = {
    "invalid/px_auto_without_header": PROXY_REQUIRED,
    "invalid/px_auto_leading_crlf": PROXY_REQUIRED,
    "invalid/px_v1_without_header": PROXY_REQUIRED,
    "invalid/px_v1_prefix_only": PROXY_REQUIRED,
    "invalid/px_v1_when_v2": PROXY_REQUIRED,
    "invalid/px_v2_when_v1": PROXY_REQUIRED,
    "invalid/px_v2_without_header_not_allowed": PROXY_REQUIRED,
    "valid/hd_connection_list_close": CONNECTION_LIST,
    "valid/hd_connection_list_close_first": CONNECTION_LIST,
    "valid/hd_connection_list_ows_case": CONNECTION_LIST,
    "valid/hd_connection_second_field_close": CONNECTION_LIST,
    "valid/hd_connection_keep_alive_second_field_http10": CONNECTION_LIST,
    "valid/hd_connection_list_http10": CONNECTION_LIST,
    "valid/rl_version_12": LATER_HTTP1,
    "valid/rl_version_19_chunked": LATER_HTTP1,
    "invalid/cl_huge": (
        "gunicorn takes any number of digits, so the body only ends with the connection; corn refuses "
        "a Content-Length of more than 18 digits at once (it must fit in 64 bits)."
    ),
    "invalid/ch_size_overflow": (
        "gunicorn takes any number of hex digits and reads data until the connection ends; corn "
        "refuses a chunk size of more than 15 significant hex digits so the size can never overflow."
    ),
    "invalid/px_v1_port_plus": (
        "gunicorn reads PROXY v1 ports with int(), which also takes '+80' and '8_0'; corn wants "
        "decimal digits."
    ),
}

# Same class, different answer on the wire: gunicorn's status lines here are quirks (reference
# 3.10), which corn does not copy. Class name -> (corn's status and reason, what gunicorn sends).
STATUS_DIVERGENCES = {
    "UnsupportedTransferCoding": ((501, "Not Implemented"), "501 Bad Request: the reason was never updated"),
    "InvalidProxyHeader": ((400, "Bad Request"), "500 Internal Server Error: not in its client-error list"),
    "ConfigurationProblem": ((400, "Bad Request"), "500 Bad Request for a path outside SCRIPT_NAME"),
}


def gunicorn_setup(settings):
    cfg = gunicorn_config.Config()
    cfg.set("http_parser", "python")
    trusted = settings.get("peer_trusted", True)
    allowed = settings.get("proxy_allowed", True)
    for name, value in settings.items():
        if name not in ("peer_trusted", "proxy_allowed"):
            cfg.set(name, value)
    if trusted and allowed:
        return cfg, None  # like a unix socket peer: trusted for both
    if trusted:
        cfg.set("forwarded_allow_ips", "*")
    if allowed:
        cfg.set("proxy_allow_ips", "*")
    return cfg, UNTRUSTED_PEER


def gunicorn_outcome(case):
    cfg, peer = gunicorn_setup(case.settings)
    source = [case.data[i : i + 1] for i in range(len(case.data))]
    parser = gunicorn_parser.RequestParser(cfg, source, peer)
    requests = []
    try:
        for _ in range(20):
            try:
                req = next(parser)
            except StopIteration:
                break
            body = req.body.read()
            info = req.proxy_protocol_info
            requests.append({
                "method": req.method,
                "uri": req.uri,
                "path": req.path,
                "query": req.query,
                "fragment": req.fragment,
                "version": req.version,
                "headers": [tuple(h) for h in req.headers],
                "body": body,
                "trailers": [tuple(h) for h in req.trailers],
                "should_close": req.should_close(),
                "expect_continue": req._expected_100_continue,
                "url_scheme": req.scheme,
                "proxy_info": None if info is None else (
                    info["proxy_protocol"], info["client_addr"], info["client_port"],
                    info["proxy_addr"], info["proxy_port"]),
            })
    except Exception as exc:  # the oracle's answer is the class name
        return type(exc).__name__
    return requests


def corn_outcome(case):
    try:
        requests, _ = run(case.settings, [case.data])
    except (http_errors.HTTPParseError, http_errors.NoMoreData) as exc:
        return type(exc).__name__
    for number, request in enumerate(requests):
        if request["url_scheme"] is None:
            request["url_scheme"] = "http"  # gunicorn's default for a plain connection
        if number > 0:
            request["proxy_info"] = None  # gunicorn's parser keeps it on the first request only
    return requests


def differences(case):
    want, got = gunicorn_outcome(case), corn_outcome(case)
    if isinstance(want, str) or isinstance(got, str):
        return [] if want == got else [f"gunicorn {want!r}, corn {got!r}"]
    if len(want) != len(got):
        return [f"gunicorn parsed {len(want)} requests, corn {len(got)}"]
    found = []
    for number, (a, b) in enumerate(zip(want, got)):
        for key in a:
            if a[key] != b[key]:
                found.append(f"request {number} {key}: gunicorn {a[key]!r}, corn {b[key]!r}")
    return found


@pytest.mark.parametrize("case", CASES, ids=str)
def test_same_answer_as_gunicorn(case):
    found = differences(case)
    if case.name in DIVERGENCES:
        assert found, f"{case.name} is listed as a divergence but corn now answers as gunicorn does"
    else:
        assert not found, "; ".join(found)


def test_divergences_name_real_cases():
    names = {case.name for case in CASES}
    assert set(DIVERGENCES) <= names
    assert all(reason.strip() for reason in DIVERGENCES.values())


@pytest.mark.parametrize("name", sorted(STATUS_DIVERGENCES))
def test_quirky_statuses_are_fixed(name):
    """gunicorn answers these with an odd status line; corn with the right one."""
    (code, reason), _ = STATUS_DIVERGENCES[name]
    cls = getattr(http_errors, name)
    assert (cls.status_code, cls.reason) == (code, reason)
    assert http_errors.error_response(cls("x"), "Sun, 06 Nov 1994 08:49:37 GMT").startswith(f"HTTP/1.1 {code} {reason}\r\n".encode())
