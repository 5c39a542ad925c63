"""Paging without COUNT(*): a page asks for one row more than it shows.

Counting 100,000 filtered answers costs more than reading the 50 shown, and
nobody needs "page 37 of 2,000" to read on; the last page still knows the
total, since it is everything before it plus what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Window:
    number: int
    rows: list
    has_next: bool
    size: int

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    @property
    def first_id(self) -> int | None:
        return self.rows[0].pk if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].pk if self.rows else None

    @property
    def total(self) -> int | None:
        """Known on the last page only."""
        return None if self.has_next else self.end


def window(queryset, number: str | None, size: int, after=None, before=None) -> Window:
    """The page numbered `number`; or, for a queryset in id order, the page after
    or before a given id (what the pager's links carry): an index seek where
    OFFSET would read and drop every earlier row, however deep the page."""
    page = int(number) if number and number.isdigit() and int(number) > 0 else 1
    if after is not None:
        rows = list(queryset.filter(pk__gt=after)[: size + 1])
        return Window(page, rows[:size], len(rows) > size, size)
    if before is not None:
        rows = list(queryset.filter(pk__lt=before).order_by("-pk")[:size])
        return Window(page, rows[::-1], True, size)
    offset = (page - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    if not rows and page > 1:  # past the end (a stale link): the first page
        return window(queryset, "1", size)
    return Window(page, rows[:size], len(rows) > size, size)


def seek(query) -> dict:
    """window()'s `after` or `before` from a page's query string."""
    for key in ("after", "before"):
        if query.get(key, "").isdigit():
            return {key: int(query[key])}
    return {}
