"""Changing the codebook: edit, move, archive, merge (and undo it), split.

Each change is one transaction and one Event with what it changed, so leads
read the history per theme and a merge can be reversed exactly. Codings move
in bulk UPDATEs; where an answer already carries the target theme (from the
same coder) the duplicate is deleted, so each coder applies a theme once.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from coding.models import Coding, Event, Quote, Theme, ThemePath

EDITABLE = ("name", "description", "inclusion", "exclusion", "aliases", "colour", "shortcut")


class CodebookError(ValueError):
    """A change the codebook cannot take (a cycle, an undo that later work depends on)."""


def _log(user, action, theme, before=None, after=None) -> Event:
    return Event.objects.create(
        project=theme.project,
        user=user,
        action=action,
        theme=theme,
        before=before or {},
        after=after or {},
    )


@transaction.atomic
def edit_theme(theme: Theme, user, **fields) -> bool:
    changed = {k: v for k, v in fields.items() if k in EDITABLE and getattr(theme, k) != v}
    if not changed:
        return False
    before = {k: getattr(theme, k) for k in changed}
    for key, value in changed.items():
        setattr(theme, key, value)
    theme.save(update_fields=list(changed))
    _log(user, Event.Action.EDIT_THEME, theme, before, changed)
    return True


def subtree(theme: Theme) -> list[int]:
    return list(ThemePath.objects.filter(ancestor=theme).values_list("descendant", flat=True))


def _relink(theme: Theme, parent: Theme | None) -> None:
    """Rewrite the closure rows that cross the edge above `theme`'s subtree."""
    below = dict(ThemePath.objects.filter(ancestor=theme).values_list("descendant", "depth"))
    ThemePath.objects.filter(descendant__in=below).exclude(ancestor__in=below).delete()
    if parent is None:
        return
    above = ThemePath.objects.filter(descendant=parent).values_list("ancestor", "depth")
    ThemePath.objects.bulk_create(
        ThemePath(ancestor_id=a, descendant_id=d, depth=da + dd + 1)
        for a, da in above
        for d, dd in below.items()
    )


@transaction.atomic
def move_theme(theme: Theme, parent: Theme | None, user, position: int | None = None) -> bool:
    """Re-parent (and optionally reorder) a theme with its whole subtree."""
    if parent is not None and (
        parent.pk in subtree(theme) or parent.project_id != theme.project_id
    ):
        raise CodebookError(f"“{theme.name}” cannot go under “{parent.name}”: that is inside it.")
    position = theme.position if position is None else position
    if theme.parent_id == (parent.pk if parent else None) and theme.position == position:
        return False
    before = {"parent": theme.parent_id, "position": theme.position}
    theme.parent, theme.position = parent, position
    theme.save(update_fields=["parent", "position"])
    _relink(theme, parent)
    _log(
        user,
        Event.Action.MOVE_THEME,
        theme,
        before,
        {"parent": theme.parent_id, "position": position},
    )
    return True


@transaction.atomic
def set_archived(theme: Theme, user, archived: bool = True) -> bool:
    """Archived themes leave the coding screens; their codings stay in history and reports."""
    if theme.archived == archived:
        return False
    theme.archived = archived
    theme.save(update_fields=["archived"])
    action = Event.Action.ARCHIVE_THEME if archived else Event.Action.RESTORE_THEME
    _log(user, action, theme, {"archived": not archived}, {"archived": archived})
    return True


def _move_codings(codings, target: Theme) -> dict:
    """Move codings to `target`; drop those whose answer the same coder already coded so."""
    twin = Coding.objects.filter(answer=OuterRef("answer"), coder=OuterRef("coder"), theme=target)
    duplicates = codings.filter(Exists(twin))
    dropped = [
        [answer, coder, created.isoformat(), theme]
        for answer, coder, created, theme in duplicates.values_list(
            "answer", "coder", "created_at", "theme"
        )
    ]
    duplicates.delete()
    moved = list(codings.values_list("pk", "theme"))
    Coding.objects.filter(pk__in=[pk for pk, _ in moved]).update(theme=target)
    return {"moved": moved, "dropped": dropped}


def _move_quotes(quotes, source: Theme, target: Theme) -> dict:
    """Quotes attached to `source` become attached to `target` (once)."""
    links = Quote.themes.through.objects.filter(quote__in=quotes, theme=source)
    had_target = set(
        Quote.themes.through.objects.filter(quote__in=quotes, theme=target).values_list(
            "quote", flat=True
        )
    )
    quote_ids = list(links.values_list("quote", flat=True))
    links.filter(quote__in=had_target).delete()
    links.update(theme=target)
    return {"quotes": quote_ids, "quotes_had_target": sorted(had_target & set(quote_ids))}


@transaction.atomic
def merge(source: Theme, target: Theme, user) -> Event:
    """Merge `source` into `target`: its codings, quotes and sub-themes move; it is archived."""
    if source.pk == target.pk or source.project_id != target.project_id:
        raise CodebookError("A theme can only be merged into another theme of its project.")
    if target.pk in subtree(source):  # its sub-themes would end up under themselves
        raise CodebookError(f"“{target.name}” is inside “{source.name}”; move it out first.")
    # Lock the source before moving anything: a coder applying it meanwhile
    # (services.apply_theme locks it too) waits, then follows merged_into to the
    # target, instead of adding a coding this merge has already passed over.
    list(Theme.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
    state = _move_codings(Coding.objects.filter(theme=source), target)
    state |= _move_quotes(Quote.objects.filter(themes=source), source, target)
    children = list(source.children.all())
    for child in children:
        child.parent = target
        child.save(update_fields=["parent"])
        _relink(child, target)
    state["children"] = [c.pk for c in children]
    source.archived, source.merged_into = True, target
    source.save(update_fields=["archived", "merged_into"])
    return Event.objects.create(
        project=source.project,
        user=user,
        action=Event.Action.MERGE,
        theme=target,
        before={"source": source.pk, "source_name": source.name, **state},
        after={"target": target.pk, "target_name": target.name},
    )


def _later_dependents(event: Event, theme_ids: list[int]):
    return Event.objects.filter(
        project=event.project, pk__gt=event.pk, undone_at=None, theme__in=theme_ids
    )


@transaction.atomic
def undo_merge(event: Event, user) -> None:
    """Reverse a merge exactly, while nothing done since touches either theme."""
    if event.action != Event.Action.MERGE or event.undone_at:
        raise CodebookError("This is not a merge that can be undone.")
    source = Theme.objects.get(pk=event.before["source"])
    target = Theme.objects.get(pk=event.after["target"])
    if _later_dependents(event, [source.pk, target.pk]).exists():
        raise CodebookError(
            f"Later changes use “{target.name}” or “{source.name}”; undo those first."
        )
    _restore(event.before, source, target)
    for child in Theme.objects.filter(pk__in=event.before["children"]):
        child.parent = source
        child.save(update_fields=["parent"])
        _relink(child, source)
    source.archived, source.merged_into = False, None
    source.save(update_fields=["archived", "merged_into"])
    event.undone_at = timezone.now()
    event.save(update_fields=["undone_at"])
    _log(user, Event.Action.UNMERGE, source, {"merged_into": target.pk}, {"merged_into": None})


def _restore(state: dict, source: Theme, target: Theme) -> None:
    """Put moved codings and quote links back on `source`, and re-create dropped codings."""
    moved = [pk for pk, theme in state["moved"] if theme == source.pk]
    Coding.objects.filter(pk__in=moved).update(theme=source)
    # Re-created codings get a new created_at (auto_now_add); the Event keeps the old one.
    Coding.objects.bulk_create(
        [
            Coding(answer_id=a, coder_id=c, theme=source)
            for a, c, _created, theme in state["dropped"]
            if theme == source.pk
        ],
        ignore_conflicts=True,
    )
    links = Quote.themes.through.objects
    only_moved = set(state["quotes"]) - set(state["quotes_had_target"])
    links.filter(quote__in=only_moved, theme=target).update(theme=source)
    links.bulk_create(
        [links.model(quote_id=q, theme=source) for q in state["quotes_had_target"]],
        ignore_conflicts=True,
    )


@transaction.atomic
def split(source: Theme, answers, target: Theme, user) -> Event:
    """Move `source`'s codings (every coder's) and quotes on these answers to `target`."""
    if source.pk == target.pk or source.project_id != target.project_id:
        raise CodebookError("Split into another theme of the same project.")
    state = _move_codings(Coding.objects.filter(theme=source, answer__in=answers), target)
    state |= _move_quotes(Quote.objects.filter(themes=source, answer__in=answers), source, target)
    return Event.objects.create(
        project=source.project,
        user=user,
        action=Event.Action.SPLIT,
        theme=source,
        before={"source": source.pk, **state},
        after={"target": target.pk, "target_name": target.name},
    )
