"""htmx plumbing and small helpers shared by every app's views."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def partial_for(request: HtmxHttpRequest, template: str, name: str) -> str:
    """The whole page, or only its named partial for an htmx swap.

    Boosted and history-restore requests carry HX-Request too but want the page.
    """
    return f"{template}#{name}" if wants_partial(request) else template


def wants_partial(request: HtmxHttpRequest) -> bool:
    htmx = request.htmx
    return bool(htmx and not htmx.boosted and not htmx.history_restore_request)


def query_without_page(query) -> str:
    """A list's query string without its page number, for the pager's links."""
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()
