"""Typed surface of corn._response: the response of one request, as the application sees it."""

from collections.abc import Callable
from typing import Any

class Response:
    """start_response and write(); the object itself is wsgi.early_hints."""

    status: str | None
    headers: list[tuple[str, str]] | None
    sent: int
    """Body bytes sent."""
    @property
    def status_code(self) -> int: ...
    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]: ...
    def write(self, data: bytes) -> None: ...
    def __call__(self, headers: list[tuple[str, str]]) -> None:
        """wsgi.early_hints: a 103 response before the real one (HTTP/1.1 only)."""
