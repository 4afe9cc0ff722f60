"""Serving protected files: HTTP range requests (so video seeking works), nginx X-Accel-Redirect, or a
short-lived signed URL of the object store. Callers have asked the access policy first."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def _file_chunks(path: Path, start: int, length: int):
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def protected_file_response(request, path: Path, *, media_relative: str) -> HttpResponse:
    """Serve a file the caller has already authorised. Supports a single byte range."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if settings.MEDIA_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_X_ACCEL_PREFIX + media_relative
        return response

    size = os.path.getsize(path)
    header = request.headers.get("Range", "").strip()
    match = RANGE_RE.match(header) if header else None
    if header and not match:
        # Multiple ranges or another unit: serve the whole file, which RFC 9110 allows.
        match = None
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # suffix range: the last N bytes
            start = max(size - int(last), 0)
            end = size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        response = StreamingHttpResponse(_file_chunks(path, start, length), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def media_is_local() -> bool:
    """Whether media live on this machine's filesystem (MEDIA_STORAGE=local) rather than in an object store."""
    try:
        default_storage.path("")
    except NotImplementedError:
        return False
    return True


def protected_media_response(
    request, name: str, *, missing: str = "File missing.", download_as: str | None = None
) -> HttpResponse:
    """Serve the media file `name` to a visitor the access policy has let in.

    Local media: Django streams it, or nginx does (X-Accel-Redirect). An object store: a redirect to a URL
    signed for MEDIA_SIGNED_URL_SECONDS, so the file never passes through the application and a copied link
    stops working soon after; the redirect itself is never cached (it carries the signature)."""
    disposition = f'attachment; filename="{download_as}"' if download_as else None
    if not name:
        raise Http404(missing)
    if media_is_local():
        path = Path(default_storage.path(name))
        if not path.is_file():
            raise Http404(missing)
        response = protected_file_response(request, path, media_relative=name)
        if disposition:
            response["Content-Disposition"] = disposition
        return response
    if not default_storage.exists(name):
        raise Http404(missing)
    parameters = {"ResponseContentDisposition": disposition} if disposition else None
    url = default_storage.url(name, parameters=parameters, expire=settings.MEDIA_SIGNED_URL_SECONDS)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
