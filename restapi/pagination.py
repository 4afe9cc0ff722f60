"""Cursor pagination for long lists (posts, submissions, events), over the apps' doors.

The apps hand out frozen dataclasses, not querysets, so the cursor is keyset-style: it holds the sort key
of the last row sent (a time and an id), and the door returns the rows after it. A page is as fast at
row 100,000 as at row 1, and a row added meanwhile is neither skipped nor repeated.

The body has `results` and `next` (the URL of the next page, or null); the `Link` header (RFC 8288) has
the same URL as rel="next", and rel="first". `page_size` is 1 to 100 (default 20).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

Key = tuple[datetime.datetime, int]


def encode_cursor(key: Key) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ident = json.loads(raw)
        moment = parse_datetime(when)
        if moment is None or not isinstance(ident, int) or isinstance(ident, bool):
            raise ValueError
        return moment, ident
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise exceptions.ValidationError(
            {"cursor": ["This cursor is not valid: use the `next` link as given."]}
        ) from None


class PageQuery(serializers.Serializer):
    """The query parameters every paginated list takes."""

    cursor = serializers.CharField(required=False, max_length=200, help_text="From the previous page's `next`.")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, help_text="1 to 100."
    )


class CursorPage:
    """Read `cursor` and `page_size`, ask the door for one row more than a page, answer with `next` and Link."""

    def __init__(self, request):
        query = PageQuery(data={k: v for k, v in request.query_params.items() if k in ("cursor", "page_size")})
        query.is_valid(raise_exception=True)
        self.request = request
        self.page_size: int = query.validated_data["page_size"]
        cursor = query.validated_data.get("cursor")
        self.after: Key | None = decode_cursor(cursor) if cursor else None

    def respond(self, rows: Sequence[Any], *, key: Callable[[Any], Key], serialize: Callable[[list], list]) -> Response:
        rows = list(rows)
        page = rows[: self.page_size]
        url = self.request.build_absolute_uri()
        next_url = None
        if len(rows) > self.page_size and page:
            next_url = replace_query_param(url, "cursor", encode_cursor(key(page[-1])))
        first_url = remove_query_param(url, "cursor")
        links = [f'<{first_url}>; rel="first"']
        if next_url:
            links.insert(0, f'<{next_url}>; rel="next"')
        return Response({"results": serialize(page), "next": next_url}, headers={"Link": ", ".join(links)})

    @property
    def limit(self) -> int:
        """How many rows to ask the door for: one more than a page tells whether there is a next."""
        return self.page_size + 1
