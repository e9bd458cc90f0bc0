"""Typed surface of corn._chunked, the chunked request body decoder (RFC 9112 7.1).

Every method that refuses a body raises a `corn.http_errors.HTTPParseError` subclass.
"""

from corn._parser import ParserOptions

_Buffer = bytes | bytearray

class ChunkedDecoder:
    """Walks the framing of one chunked request body over the caller's buffer."""

    def __init__(self, options: ParserOptions) -> None:
        """The trailer section follows the options' header rules; a size line is bounded by
        limit_request_field_size, the trailer section by max_head."""
    @property
    def options(self) -> ParserOptions: ...
    @property
    def max_line(self) -> int: ...
    @property
    def max_trailers(self) -> int: ...
    @property
    def remaining(self) -> int:
        """Data bytes of the current chunk that start at the offset advance() returned."""
    @property
    def done(self) -> bool:
        """The last chunk and the trailer section have been consumed."""
    @property
    def trailers(self) -> list[tuple[str, str]]: ...
    def reset(self) -> None: ...
    def advance(self, buf: _Buffer, pos: int, end: int) -> int:
        """Consume framing from buf[pos:end]. Returns the offset of the next data byte when
        remaining > 0, the offset just past the message when done, else end (more bytes needed)."""
    def take(self, n: int) -> None:
        """Report n data bytes (at most remaining) as consumed."""
    def truncated(self) -> Exception:
        """The error to raise when the connection ends inside this body."""
