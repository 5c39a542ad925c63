"""Every change to codings, marks and quotes, each logged as an Event.

The functions state the wanted result ("apply", "remove"), never "toggle", so
a double click, a retried request or a second tab changes nothing twice; the
unique constraints hold the line when two requests race. A call that changes
nothing logs nothing, which keeps the undo stack to real actions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from coding.models import (
    PALETTE,
    RESERVED_KEYS,
    SHORTCUT_KEYS,
    Coding,
    Event,
    Mark,
    Quote,
    Theme,
    ThemePath,
)
from polls.models import Answer, Project
from polls.sql import insert_once, insert_one


def _log(
    user,
    action,
    answer=None,
    theme=None,
    before=None,
    after=None,
    batch=None,
    project=None,
    question=None,
):
    return Event.objects.create(
        project=project or answer.question.poll.project,
        user=user,
        action=action,
        answer=answer,
        question=answer.question if answer else question,
        theme=theme,
        before=before or {},
        after=after or {},
        batch=batch,
    )


def _mark(answer: Answer, coder) -> Mark:
    mark, _ = Mark.objects.get_or_create(answer=answer, coder=coder)
    return mark


def _themes_of(answer: Answer, coder) -> list[int]:
    return sorted(Coding.objects.filter(answer=answer, coder=coder).values_list("theme", flat=True))


# Applying and removing a theme are what coders do most, so their statements are
# written out (polls.sql) and they need only ids: the answer's pk and question_id,
# the theme's pk and project_id (an unread Theme(pk=..., project_id=...) will do).


@transaction.atomic
def apply_theme(answer, theme, coder, batch=None) -> bool:
    theme_id = Theme.objects.lock_current(theme.pk, theme.project_id)
    now = timezone.now()
    # Already applied (a double click, or another tab a moment ago): nothing to do.
    added, before = Coding.objects.add(answer.pk, theme_id, coder.pk, now)
    if not added:
        return False
    coded = Mark.Status.CODED
    if before is None:
        if _new_mark(answer, coder, coded, now):
            before = Mark.Status.UNCODED
        else:  # another request made the mark meanwhile
            before = _status(answer, coder)
    if before != coded:
        Mark.objects.set_status(answer.pk, coder.pk, coded, now)
    _log_coding(coder, Event.Action.APPLY, answer, theme, theme_id, (before, coded), batch, now)
    return True


@transaction.atomic
def remove_theme(answer, theme, coder, batch=None) -> bool:
    theme_id = Theme.objects.lock_current(theme.pk, theme.project_id)
    removed, before = Coding.objects.discard(answer.pk, theme_id, coder.pk)
    if not removed:
        return False
    now = timezone.now()
    if before is None:  # codings without a mark: imported ones, say
        _new_mark(answer, coder, Mark.Status.UNCODED, now)
        before = Mark.Status.UNCODED
    uncoded = Mark.objects.uncode_if_bare(answer.pk, coder.pk, now)
    after = Mark.Status.UNCODED if uncoded else before
    _log_coding(coder, Event.Action.REMOVE, answer, theme, theme_id, (before, after), batch, now)
    return True


def _new_mark(answer, coder, status: str, now) -> bool:
    """Insert the coder's mark on the answer; False if another request made it meanwhile."""
    fields = {"answer": answer.pk, "coder": coder.pk, "flag": "", "memo": "", "updated_at": now}
    return insert_once(Mark, status=status, **fields)


def _status(answer, coder) -> str | None:
    state = Mark.objects.state_of(answer.pk, coder.pk)
    return state and state[0]


def _log_coding(coder, action, answer, theme, theme_id: int, statuses, batch, now) -> None:
    """_log for a theme applied or removed, as one plain INSERT."""
    before, after = statuses
    insert_one(
        Event,
        project=theme.project_id,
        user=coder.pk,
        action=action,
        answer=answer.pk,
        question=answer.question_id,
        theme=theme_id,
        before={"status": before},
        after={"status": after},
        batch=batch,
        created_at=now,
    )


@transaction.atomic
def mark_no_theme(answer: Answer, coder, no_theme: bool = True) -> bool:
    """Coded, and no theme applies (its codings by this coder go), or back to not coded."""
    mark = _mark(answer, coder)
    wanted = Mark.Status.NO_THEME if no_theme else Mark.Status.UNCODED
    if mark.status == wanted:
        return False
    before = {"status": mark.status, "themes": _themes_of(answer, coder)}
    if no_theme:
        Coding.objects.filter(answer=answer, coder=coder).delete()
    mark.status = wanted
    mark.save(update_fields=["status", "updated_at"])
    _log(coder, Event.Action.MARK, answer, None, before, {"status": wanted})
    return True


@transaction.atomic
def set_flag(answer: Answer, coder, flag: str) -> bool:
    mark = _mark(answer, coder)
    if mark.flag == flag:
        return False
    before, mark.flag = mark.flag, flag
    mark.save(update_fields=["flag", "updated_at"])
    _log(coder, Event.Action.FLAG, answer, None, {"flag": before}, {"flag": flag})
    return True


@transaction.atomic
def set_memo(answer: Answer, coder, memo: str) -> bool:
    mark = _mark(answer, coder)
    memo = memo.strip()
    if mark.memo == memo:
        return False
    before, mark.memo = mark.memo, memo
    mark.save(update_fields=["memo", "updated_at"])
    _log(coder, Event.Action.MEMO, answer, None, {"memo": before}, {"memo": memo})
    return True


def answer_text(answer: Answer) -> str:
    """The text a coder reads: the free-text answer, else the "other" text."""
    return answer.text or answer.other_text


@transaction.atomic
def save_quote(answer: Answer, coder, start: int, end: int, themes: Iterable[Theme]) -> Quote:
    text = answer_text(answer)
    if not 0 <= start < end <= len(text):
        raise ValueError("the selection is not inside the answer")
    quote, created = Quote.objects.get_or_create(
        answer=answer, coder=coder, start=start, end=end, defaults={"text": text[start:end]}
    )
    themes = list(themes)
    quote.themes.set(themes)
    if created:
        _log(
            coder,
            Event.Action.QUOTE,
            answer,
            themes[0] if themes else None,
            {},
            {"quote": str(quote.code)},
        )
    return quote


@transaction.atomic
def delete_quote(quote: Quote, coder) -> None:
    state = {
        "start": quote.start,
        "end": quote.end,
        "text": quote.text,
        "themes": list(quote.themes.values_list("pk", flat=True)),
    }
    _log(coder, Event.Action.UNQUOTE, quote.answer, None, state, {})
    quote.delete()


def _free_shortcut(project: Project) -> str:
    taken = set(project.themes.values_list("shortcut", flat=True))
    return next((k for k in SHORTCUT_KEYS if k not in taken and k not in RESERVED_KEYS), "")


@transaction.atomic
def create_theme(
    project: Project, name: str, user, description: str = "", parent=None, question=None
) -> Theme:
    """A new theme; `question` is where it was created, so undo there removes it."""
    count = project.themes.count()
    theme = Theme.objects.create(
        project=project,
        name=name.strip(),
        description=description,
        parent=parent,
        colour=PALETTE[count % len(PALETTE)],
        shortcut=_free_shortcut(project),
        position=count + 1,
        created_by=user,
    )
    _add_paths(theme)
    _log(
        user,
        Event.Action.CREATE_THEME,
        theme=theme,
        after={"name": theme.name},
        project=project,
        question=question,
    )
    return theme


def _add_paths(theme: Theme) -> None:
    above = (
        ThemePath.objects.filter(descendant=theme.parent).values_list("ancestor", "depth")
        if theme.parent_id
        else []
    )
    ThemePath.objects.bulk_create(
        [ThemePath(ancestor=theme, descendant=theme, depth=0)]
        + [ThemePath(ancestor_id=a, descendant=theme, depth=d + 1) for a, d in above]
    )


@transaction.atomic
def apply_to_many(answers: Iterable[Answer], theme: Theme, coder) -> int:
    """One action over many answers: undone together."""
    batch = uuid.uuid4()
    return sum(apply_theme(answer, theme, coder, batch=batch) for answer in answers)


@transaction.atomic
def remove_from_many(answers: Iterable[Answer], theme: Theme, coder) -> int:
    batch = uuid.uuid4()
    return sum(remove_theme(answer, theme, coder, batch=batch) for answer in answers)


# Undo ----------------------------------------------------------------------


@transaction.atomic
def undo_last(user, question) -> list[Event]:
    """Reverse the user's latest action on this question (a whole batch at once)."""
    latest = (
        Event.objects.select_for_update()
        .filter(user=user, question=question, undone_at=None)
        .order_by("-id")
        .first()
    )
    if latest is None:
        return []
    events = [latest]
    if latest.batch:
        events = list(Event.objects.filter(batch=latest.batch, undone_at=None).order_by("-id"))
    for event in events:
        _reverse(event)
    Event.objects.filter(pk__in=[e.pk for e in events]).update(undone_at=timezone.now())
    return events


def _reverse(event: Event) -> None:
    if event.action == Event.Action.CREATE_THEME:
        _uncreate(event.theme)
        return
    answer, user = event.answer, event.user
    mark = _mark(answer, user)
    if event.action == Event.Action.APPLY:
        Coding.objects.filter(answer=answer, theme=event.theme, coder=user).delete()
        mark.status = event.before.get("status", "")
    elif event.action == Event.Action.REMOVE and event.theme is not None:
        Coding.objects.get_or_create(answer=answer, theme=event.theme, coder=user)
        mark.status = event.before.get("status", Mark.Status.CODED)
    elif event.action == Event.Action.MARK:
        Coding.objects.bulk_create(
            [Coding(answer=answer, theme_id=t, coder=user) for t in event.before.get("themes", [])],
            ignore_conflicts=True,
        )
        mark.status = event.before.get("status", "")
    elif event.action == Event.Action.FLAG:
        mark.flag = event.before.get("flag", "")
    elif event.action == Event.Action.MEMO:
        mark.memo = event.before.get("memo", "")
    elif event.action == Event.Action.QUOTE:
        Quote.objects.filter(code=event.after.get("quote")).delete()
    elif event.action == Event.Action.UNQUOTE:
        quote = Quote.objects.create(
            answer=answer,
            coder=user,
            start=event.before["start"],
            end=event.before["end"],
            text=event.before["text"],
        )
        quote.themes.set(Theme.objects.filter(pk__in=event.before.get("themes", [])))
    mark.save()


def _uncreate(theme: Theme | None) -> None:
    """Undoing a new theme deletes it, unless others have used it meanwhile."""
    if theme is None:
        return
    if theme.codings.exists() or theme.quotes.exists() or theme.children.exists():
        theme.archived = True
        theme.save(update_fields=["archived"])
    else:
        theme.delete()
