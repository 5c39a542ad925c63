"""An upload imported as a draft, which the confirmation publishes.

Reading a 100,000-row export takes about a second and writing it two more. The
upload reads it anyway, for the preview, so it writes it too: the poll goes into
a project of its own that nobody is a member of, where no page, report, export
or agreement figure can see it (they all go through membership). Confirming the
preview as it stands then only moves the poll into its project, one UPDATE.

A correction, applied on the preview page or sent with the confirmation, writes
again only the draft's questions it changes. Not drafted: a file that adds
responses to a poll of the same title (the confirmation appends them, as the
import_poll command does) and a preview that found a problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from polls.importers.types import Answers, QuestionSpec, RawSurvey
from polls.loading import PollFields, load_poll, reload_questions
from polls.models import PendingImport, Poll, Project


def make(
    pending: PendingImport,
    survey: RawSurvey,
    specs: list[QuestionSpec],
    answers: Iterable[Answers],
    fields: PollFields,
) -> bool:
    """Import the survey as the upload's draft, or bring its draft up to date with
    these specs; False if it is not to be drafted (and `answers` untouched).

    All of it or nothing (a savepoint); `answers`, one per spec, may be made as
    they are asked for.
    """
    poll = _draft(pending).first() if pending.pk else None
    if poll is None and not _can_draft(pending, fields):
        return False
    with transaction.atomic():
        if poll is None:
            area = Project.objects.create(
                name=f"Draft of upload {pending.code}",
                description=f"{pending.filename}, for {pending.project.name}, until confirmed.",
                draft_of=pending,
            )
            load_poll(area, survey, specs, answers, fields, pending.created_by)
        else:
            reload_questions(poll, specs, answers)
    return True


def _draft(pending: PendingImport):
    """The upload's draft poll, as a queryset (empty without one)."""
    return Poll.objects.filter(project__draft_of=pending)


def _can_draft(pending: PendingImport, fields: PollFields) -> bool:
    """A new poll, from an upload already saved (its draft's project refers to it)."""
    return pending.pk is not None and not pending.project.polls.filter(title=fields.title).exists()


def discard_draft(pending: PendingImport) -> None:
    """Delete the upload's draft, keeping the upload."""
    _draft(pending).delete_at_once()
    Project.objects.filter(draft_of=pending).delete()


def discard(uploads) -> None:
    """Delete these uploads (a queryset) with their drafts."""
    Poll.objects.filter(project__draft_of__in=uploads).delete_at_once()
    uploads.delete()  # and, by their draft_of, the projects that held the drafts


def publish(pending: PendingImport, user) -> Poll | None:
    """Move the draft into the upload's project and forget the upload; None if there
    is no draft, or if a poll of that title appeared in the project meanwhile."""
    poll = _draft(pending).first()
    if poll is None:
        return None
    try:
        with transaction.atomic():
            Poll.objects.filter(pk=poll.pk).update(project=pending.project, created_by=user)
            pending.delete()  # and, by draft_of, the project that held the draft
    except IntegrityError:  # the title is taken now: the confirmation adds to that poll
        return None
    poll.refresh_from_db()
    return poll
