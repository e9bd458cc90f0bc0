"""Typed surface of corn._parser, the compiled HTTP/1.1 request parser.

Every method that refuses a request raises a `corn.http_errors.HTTPParseError` subclass.
"""

from enum import IntEnum
from typing import Literal

class BodyKind(IntEnum):
    """What follows the head: the value of RequestParser.body_kind."""

    BODY_NONE = 0
    BODY_LENGTH = 1
    BODY_CHUNKED = 2

class HeaderMap(IntEnum):
    """How a field name holding '_' is treated: the value of RequestParser.header_map."""

    HEADER_MAP_DROP = 0
    HEADER_MAP_REFUSE = 1
    HEADER_MAP_DANGEROUS = 2

_Buffer = bytes | bytearray

class Limits(IntEnum):
    """gunicorn's bounds on the request limits."""

    MAX_REQUEST_LINE = 8190
    MAX_HEADERS = 32768

class ParserOptions:
    """The parser's settings, validated: made by corn.options.request_options from a Config."""

    def __init__(
        self,
        *,
        limit_request_line: int,
        limit_request_fields: int,
        limit_request_field_size: int,
        permit_unconventional_http_method: bool,
        permit_unconventional_http_version: bool,
        casefold_http_method: bool,
        strip_header_spaces: bool,
        permit_obsolete_folding: bool,
        header_map: int,
        forwarder_headers: frozenset[str] | None,
        secure_scheme_headers: dict[str, str],
    ) -> None:
        """ValueError for a limit out of range; nothing else is checked or normalised here."""
    @property
    def limit_request_line(self) -> int:
        """0 = unlimited, at most MAX_REQUEST_LINE."""
    @property
    def limit_request_fields(self) -> int: ...
    @property
    def limit_request_field_size(self) -> int: ...
    @property
    def max_head(self) -> int:
        """The longest field section: fields * (field_size + 2) + 4."""
    @property
    def permit_unconventional_http_method(self) -> bool: ...
    @property
    def permit_unconventional_http_version(self) -> bool: ...
    @property
    def casefold_http_method(self) -> bool: ...
    @property
    def strip_header_spaces(self) -> bool: ...
    @property
    def permit_obsolete_folding(self) -> bool: ...
    @property
    def header_map(self) -> int:
        """A HeaderMap."""
    @property
    def forwarder_headers(self) -> frozenset[str] | None:
        """None: every name ('*')."""
    @property
    def secure_scheme_headers(self) -> dict[str, str]: ...

class RequestParser:
    """Parses request heads with gunicorn 27's rules; one instance serves request after request."""

    def __init__(self, options: ParserOptions) -> None: ...
    @property
    def options(self) -> ParserOptions: ...

    # per connection: set by the caller
    peer_trusted: bool
    """The peer may set secure_scheme_headers and forwarder_headers (forwarded_allow_ips)."""

    # per request: the result, valid once parse_head returned an offset
    @property
    def method(self) -> str | None: ...
    @property
    def uri(self) -> str | None:
        """The raw request-target."""
    @property
    def path(self) -> str | None:
        """The raw path, not percent-decoded."""
    @property
    def query(self) -> str | None: ...
    @property
    def fragment(self) -> str | None: ...
    @property
    def version_major(self) -> int: ...
    @property
    def version_minor(self) -> int:
        """HTTP/1.2 to HTTP/1.9 are served as, and reported as, HTTP/1.1 (RFC 9110 2.5)."""
    @property
    def headers(self) -> list[tuple[str, str]]:
        """(UPPER-CASED name, latin-1 value) in arrival order, after the header policy."""
    @property
    def body_kind(self) -> Literal[0, 1, 2]: ...
    @property
    def content_length(self) -> int: ...
    @property
    def should_close(self) -> bool:
        """The request asks for the connection to close after its response: close in any
        Connection field, HTTP/1.0 without keep-alive in one, CONNECT, or a compressing coding."""
    @property
    def expect_continue(self) -> bool:
        """Expect: 100-continue on HTTP/1.1."""
    @property
    def url_scheme(self) -> Literal["https", "http"] | None:
        """Set when a trusted peer sent one of secure_scheme_headers."""

    def reset(self) -> None:
        """Forget the previous request; the options and per-connection fields stay."""
    def parse_head(self, buf: _Buffer, start: int, end: int) -> int:
        """Scan buf[start:end], the bytes of the request received so far. Returns the offset just
        past the head's final CRLF once it is complete, else -1. Between calls the caller may
        append bytes and move the request to another start."""
