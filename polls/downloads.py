"""Files the views hand over as downloads, named after what they hold."""

from __future__ import annotations

from django.http import HttpResponse

CSV = "text/csv; charset=utf-8"


def slug(text: str, fallback: str = "download") -> str:
    """A file name part: "Care Review poll 3" → "care-review-poll-3"."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()[:60] or fallback


def attachment(data: bytes | str, filename: str, content_type: str = CSV) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
