"""Ids in URL paths. An id may hold any printable character, `/` included, so its URLs carry it
percent-encoded (`path_segment`). Starlette routes on the decoded path, where an encoded `/`
looks like any other: the routes take the rest of the path, and their ids are read here from
the raw path, one segment per id."""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes

from starlette.requests import Request


def path_segment(value: str) -> str:
    """`value` as one URL path segment: every reserved character percent-encoded."""
    return quote(value, safe="")


def path_ids(request: Request, after: int) -> list[str]:
    """The decoded segments of the request's raw path that follow its first `after` ones."""
    raw: bytes | None = request.scope.get("raw_path")
    if raw is None:
        return request.url.path.split("/")[1 + after :]
    raw = raw.split(b"?", 1)[0]
    root = quote(request.scope.get("root_path", "")).encode()
    if root and raw.startswith(root):
        raw = raw[len(root) :]
    segments = raw.split(b"/")[1 + after :]
    return [unquote_to_bytes(s).decode("utf-8", errors="replace") for s in segments]
