"""The codebook (themes), codings, coders' marks on answers, quotes and the action log.

A coding is one coder's decision that one answer carries one theme; codings of
different coders are kept apart, so agreement can be measured later. Every
change goes through coding.services, which records it as an Event: the undo
button replays events backwards, and leads read them as history.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models.functions import Lower

from polls.models import Answer, Project, Question
from polls.sql import execute, fetch_all, fetch_one

# Distinguishable on white, and readable with dark text (chips print black on them).
PALETTE = [
    "#8ecae6", "#ffb703", "#b5e48c", "#f4a261", "#cdb4db", "#90e0ef", "#ffafcc",
    "#e9c46a", "#a8dadc", "#d4a373", "#bde0fe", "#f28482", "#c7f9cc", "#ffd6a5",
]  # fmt: skip
# Keys the workbench keeps for itself (next, previous, undo, search…); themes get the rest.
RESERVED_KEYS = set("jknpu/0?dgmxqs")
SHORTCUT_KEYS = "123456789abcefhilortvwyz"


class ThemeButton(NamedTuple):
    """What the workbench shows of a theme, without building 300 model instances a request."""

    pk: int
    name: str
    colour: str
    shortcut: str
    description: str


class Chip(NamedTuple):
    """A theme applied, as a chip shows it."""

    pk: int
    name: str
    colour: str


class ThemeQuerySet(models.QuerySet):
    def active(self) -> ThemeQuerySet:
        return self.filter(archived=False)

    def offered_for(self, question: Question) -> ThemeQuerySet:
        """Active themes offered when coding this question: scoped to it, or unscoped."""
        scoped = models.Q(questions=question) | models.Q(questions=None)
        return self.active().filter(scoped).distinct()

    def buttons_for(self, question: Question) -> list[ThemeButton]:
        """offered_for(question) as the workbench's buttons, in codebook order.

        Written out (polls.sql): every answer shown reads them.
        """
        rows = fetch_all(
            "SELECT t.id, t.name, t.colour, t.shortcut, t.description FROM coding_theme t"
            " WHERE t.project_id = %s AND NOT t.archived AND (NOT EXISTS"
            " (SELECT 1 FROM coding_theme_questions s WHERE s.theme_id = t.id) OR EXISTS"
            " (SELECT 1 FROM coding_theme_questions s WHERE s.theme_id = t.id"
            " AND s.question_id = %s)) ORDER BY t.position, t.name, t.id",
            [question.poll.project_id, question.pk],
        )
        return [ThemeButton(*row) for row in rows]

    def lock_current(self, pk: int, project_id: int) -> int:
        """The id of the project's theme as it is now, locked: a merged theme stands
        for the one it went into (Theme.DoesNotExist if the project has no such theme).

        A coder whose page still offers a theme that a lead has just merged away
        codes with its target, so no coding lands on the archived source after
        the merge moved the others: the row lock orders this against a running
        merge. Written out (polls.sql): it starts every theme applied or removed.
        """
        sql = "SELECT merged_into_id FROM coding_theme WHERE id = %s AND project_id = %s"
        if connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        seen = set()
        while (row := fetch_one(sql, [pk, project_id])) is not None:
            seen.add(pk)
            if row[0] is None or row[0] in seen:
                return pk
            pk = row[0]
        raise Theme.DoesNotExist


class Theme(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, models.CASCADE, related_name="themes")
    parent = models.ForeignKey(
        "self", models.RESTRICT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    inclusion = models.TextField(blank=True, help_text="When to apply it.")
    exclusion = models.TextField(blank=True, help_text="When not to, though it looks close.")
    aliases = models.TextField(blank=True, help_text="Other words for it, one per line.")
    questions = models.ManyToManyField(
        Question,
        blank=True,
        related_name="themes",
        help_text="Where the theme is offered for coding; none means every question.",
    )
    merged_into = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged",
        help_text="Set when merged: the theme is archived and kept so the merge can be undone.",
    )
    colour = models.CharField(max_length=7, default=PALETTE[0])
    shortcut = models.CharField(max_length=1, blank=True)
    position = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            # "Lack of resources" and "lack of resources" are one theme.
            models.UniqueConstraint(Lower("name"), "project", name="theme_name_unique_in_project"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.splitlines() if a.strip()]


class ThemePath(models.Model):
    """Theme `ancestor` is `depth` levels above `descendant` (itself at depth 0).

    A closure table: a parent's count of distinct respondents, over itself and
    all its descendants, is then one GROUP BY in the database (coding.reports).
    Kept by coding.services whenever a theme is created or moved.
    """

    ancestor = models.ForeignKey(Theme, models.CASCADE, related_name="descendant_paths")
    descendant = models.ForeignKey(Theme, models.CASCADE, related_name="ancestor_paths")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ancestor", "descendant"], name="theme_path_once")
        ]


class CodingQuerySet(models.QuerySet):
    def by(self, coder) -> CodingQuerySet:
        return self.filter(coder=coder)

    def for_question(self, question: Question) -> CodingQuerySet:
        return self.filter(answer__question=question)

    # The statements of a theme applied or removed, written out (polls.sql).

    def add(self, answer_id: int, theme_id: int, coder_id: int, now) -> tuple[bool, str | None]:
        """Insert one coding unless the coder has it already: (whether it was inserted,
        the status of the coder's mark on the answer before, None if there was none)."""
        row = fetch_one(
            "INSERT INTO coding_coding (answer_id, theme_id, coder_id, created_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING"
            " (SELECT status FROM coding_mark WHERE answer_id = %s AND coder_id = %s)",
            [
                answer_id,
                theme_id,
                coder_id,
                connection.ops.adapt_datetimefield_value(now),
                answer_id,
                coder_id,
            ],
        )
        return (True, row[0]) if row else (False, None)

    def discard(self, answer_id: int, theme_id: int, coder_id: int) -> tuple[bool, str | None]:
        """Delete one coding (nothing refers to codings): (whether there was one, the
        status of the coder's mark on the answer, None if there is none)."""
        row = fetch_one(
            "DELETE FROM coding_coding WHERE answer_id = %s AND theme_id = %s AND coder_id = %s"
            " RETURNING (SELECT status FROM coding_mark WHERE answer_id = %s AND coder_id = %s)",
            [answer_id, theme_id, coder_id, answer_id, coder_id],
        )
        return (True, row[0]) if row else (False, None)

    def others_on(self, answer_id: int, coder_id: int) -> list[tuple[str, str | None, str]]:
        """(coder, theme, colour) for the other coders' codings of the answer; (coder,
        None, "") for each who marked it "no theme applies"."""
        users = get_user_model()
        table = users._meta.db_table
        name = users._meta.get_field(users.USERNAME_FIELD).column
        return fetch_all(
            f"SELECT u.{name}, t.name, t.colour FROM coding_coding c"
            f" JOIN {table} u ON u.id = c.coder_id JOIN coding_theme t ON t.id = c.theme_id"
            " WHERE c.answer_id = %s AND c.coder_id <> %s"
            f" UNION ALL SELECT u.{name}, NULL, '' FROM coding_mark m"
            f" JOIN {table} u ON u.id = m.coder_id"
            " WHERE m.answer_id = %s AND m.coder_id <> %s AND m.status = %s",
            [answer_id, coder_id, answer_id, coder_id, Mark.Status.NO_THEME],
        )

    def after_change(self, answer_id: int, coder_id: int, theme_id: int) -> Coded:
        """What a theme applied or removed leaves: the coder's chips on the answer, that
        theme's button (None if it was merged into another meanwhile) and the mark.

        One statement: the theme and the applied ones, each with whether it is
        applied, and the mark alongside.
        """
        mine = "SELECT theme_id FROM coding_coding WHERE answer_id = %s AND coder_id = %s"
        mark = "SELECT {} FROM coding_mark WHERE answer_id = %s AND coder_id = %s"
        rows = fetch_all(
            "SELECT t.id, t.name, t.colour, t.shortcut, t.description, t.merged_into_id,"
            f" t.id IN ({mine}), ({mark.format('status')}), ({mark.format('flag')})"
            f" FROM coding_theme t WHERE t.id = %s OR t.id IN ({mine})"
            " ORDER BY t.position, t.name",
            [answer_id, coder_id] * 3 + [theme_id, answer_id, coder_id],
        )
        chips = [Chip(pk, name, colour) for pk, name, colour, *_, on, _, _ in rows if on]
        changed = next((r for r in rows if r[0] == theme_id and r[5] is None), None)
        status, flag = (rows[0][7], rows[0][8]) if rows else (None, None)
        return Coded(
            chips,
            changed and ThemeButton(*changed[:5]),
            MarkState(status, flag, "") if status is not None else None,
        )

    def chips(self, answer_id: int, coder_id: int) -> list[tuple[int, str, str]]:
        """(theme, name, colour) of the themes this coder applied to the answer, in
        codebook order."""
        return fetch_all(
            "SELECT t.id, t.name, t.colour FROM coding_coding c"
            " JOIN coding_theme t ON t.id = c.theme_id"
            " WHERE c.answer_id = %s AND c.coder_id = %s ORDER BY t.position, t.name",
            [answer_id, coder_id],
        )


class Coding(models.Model):
    # Each foreign key leads one of the composite indexes below, so none needs its own:
    # every index costs each of half a million inserts.
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="codings", db_index=False)
    theme = models.ForeignKey(Theme, models.CASCADE, related_name="codings", db_index=False)
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="codings", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CodingQuerySet.as_manager()

    class Meta:
        constraints = [
            # Double clicks, retries and two open tabs end here: a coder applies a
            # theme to an answer once.
            models.UniqueConstraint(
                fields=["answer", "theme", "coder"], name="coding_once_per_coder"
            ),
        ]
        indexes = [
            # Theme frequencies: distinct respondents per theme.
            models.Index(fields=["theme", "answer"], name="coding_by_theme"),
            # A coder's chips on the answers of a queue page.
            models.Index(fields=["coder", "answer"], name="coding_by_coder"),
        ]


class MarkState(NamedTuple):
    status: str
    flag: str
    memo: str


class Coded(NamedTuple):
    """Coding.objects.after_change: the coding form's part that a theme changed."""

    chips: list[Chip]
    button: ThemeButton | None
    mark: MarkState | None


class MarkQuerySet(models.QuerySet):
    # The statements of a theme applied or removed, written out (polls.sql).

    def state_of(self, answer_id: int, coder_id: int) -> MarkState | None:
        """The coder's mark on the answer; None if there is none."""
        sql = "SELECT status, flag, memo FROM coding_mark WHERE answer_id = %s AND coder_id = %s"
        row = fetch_one(sql, [answer_id, coder_id])
        return row and MarkState(*row)

    def set_status(self, answer_id: int, coder_id: int, status: str, now) -> None:
        execute(
            "UPDATE coding_mark SET status = %s, updated_at = %s"
            " WHERE answer_id = %s AND coder_id = %s",
            [status, connection.ops.adapt_datetimefield_value(now), answer_id, coder_id],
        )

    def uncode_if_bare(self, answer_id: int, coder_id: int, now) -> bool:
        """Back to "not coded" if the coder has no theme left on the answer; whether it was."""
        changed = execute(
            "UPDATE coding_mark SET status = %s, updated_at = %s"
            " WHERE answer_id = %s AND coder_id = %s AND status <> %s AND NOT EXISTS"
            " (SELECT 1 FROM coding_coding WHERE answer_id = %s AND coder_id = %s)",
            [
                Mark.Status.UNCODED,
                connection.ops.adapt_datetimefield_value(now),
                answer_id,
                coder_id,
                Mark.Status.UNCODED,
                answer_id,
                coder_id,
            ],
        )
        return changed > 0


class Mark(models.Model):
    """Where one coder stands on one answer: coded, nothing applies, or not yet.

    "Not coded" (no mark, or status "") differs from "coded, no theme applies";
    agreement statistics need that difference.
    """

    class Status(models.TextChoices):
        UNCODED = "", "Not coded"
        CODED = "coded", "Coded"
        NO_THEME = "no_theme", "Coded, no theme applies"

    class Flag(models.TextChoices):
        NONE = "", "No flag"
        UNCLEAR = "unclear", "Unclear"
        DISCUSS = "discuss", "Discuss with the lead"

    # Indexed by the unique constraint (answer first) and mark_by_coder_status.
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="marks", db_index=False)
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="marks", db_index=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    flag = models.CharField(max_length=10, choices=Flag.choices, blank=True)
    memo = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MarkQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "coder"], name="mark_once_per_coder")
        ]
        indexes = [models.Index(fields=["coder", "status"], name="mark_by_coder_status")]

    @property
    def is_coded(self) -> bool:
        return self.status != self.Status.UNCODED


class Quote(models.Model):
    """A span of an answer kept as evidence for themes.

    start and end are offsets in Unicode code points into the answer's text (the
    text field for free text, other_text for "other" texts), as REFI-QDA counts.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="quotes")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="quotes")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    themes = models.ManyToManyField(Theme, related_name="quotes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answer", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="quote_not_empty"
            ),
            models.UniqueConstraint(
                fields=["answer", "coder", "start", "end"], name="quote_once_per_span"
            ),
        ]


class Event(models.Model):
    """One change to codings or the codebook: who, when, what before and after."""

    class Action(models.TextChoices):
        APPLY = "apply", "Applied a theme"
        REMOVE = "remove", "Removed a theme"
        MARK = "mark", "Changed an answer's status"
        FLAG = "flag", "Flagged an answer"
        MEMO = "memo", "Wrote a memo"
        QUOTE = "quote", "Saved a quote"
        UNQUOTE = "unquote", "Deleted a quote"
        CREATE_THEME = "create_theme", "Created a theme"
        EDIT_THEME = "edit_theme", "Edited a theme"
        MOVE_THEME = "move_theme", "Moved a theme"
        ARCHIVE_THEME = "archive_theme", "Archived a theme"
        RESTORE_THEME = "restore_theme", "Restored a theme"
        MERGE = "merge", "Merged themes"
        UNMERGE = "unmerge", "Undid a merge"
        SPLIT = "split", "Split a theme"
        IMPORT_CODEBOOK = "import_codebook", "Imported a codebook"
        IMPORT_CODINGS = "import_codings", "Imported codings"
        MEMBER = "member", "Changed a membership"
        ASSIGN = "assign", "Assigned answers"
        UNASSIGN = "unassign", "Withdrew a round"
        REVEAL = "reveal", "Revealed a blind round"
        SETTLE = "settle", "Settled a disagreement"
        UNSETTLE = "unsettle", "Reopened a disagreement"

    project = models.ForeignKey(Project, models.CASCADE, related_name="events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    answer = models.ForeignKey(Answer, models.CASCADE, null=True, blank=True, related_name="+")
    question = models.ForeignKey(Question, models.CASCADE, null=True, blank=True, related_name="+")
    theme = models.ForeignKey(Theme, models.SET_NULL, null=True, blank=True, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    batch = models.UUIDField(
        null=True, blank=True, help_text="Events made by one action on many answers share it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The undo stack: a user's latest events on one question.
            models.Index(fields=["user", "question", "-id"], name="event_undo_stack"),
            # History pages: a theme's or an answer's events, newest first.
            models.Index(fields=["theme", "-id"], name="event_by_theme"),
            models.Index(fields=["answer", "-id"], name="event_by_answer"),
        ]


class RoundQuerySet(models.QuerySet):
    def hidden(self) -> RoundQuerySet:
        """Blind rounds not yet revealed: their coders see only their own codings."""
        return self.filter(blind=True, revealed_at=None)

    def hides(self, question_id: int) -> bool:
        """Does a blind round not yet revealed hide the question's codings? Written out
        (polls.sql): every answer a coder is shown asks."""
        sql = (
            "SELECT 1 FROM coding_round WHERE question_id = %s AND blind = %s"
            " AND revealed_at IS NULL LIMIT 1"
        )
        return fetch_one(sql, [question_id, True]) is not None


class Round(models.Model):
    """One dealing of a question's answers among coders, with an overlap sample.

    Every answer not dealt in an earlier round goes to one coder; the overlap
    sample goes to two or more coders, who code it independently: agreement is
    measured on it. While a blind round is not revealed, its coders see only their own
    codings of the question.
    """

    question = models.ForeignKey(Question, models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    coders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="rounds")
    overlap_percent = models.PositiveSmallIntegerField()
    overlap_coders = models.PositiveSmallIntegerField(
        default=2, help_text="How many coders code each answer of the overlap sample."
    )
    seed = models.PositiveIntegerField()
    blind = models.BooleanField(default=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["question", "number"]
        constraints = [
            models.UniqueConstraint(fields=["question", "number"], name="round_number_once")
        ]

    def __str__(self) -> str:
        return f"Round {self.number} of {self.question.export_id}"

    @property
    def is_hidden(self) -> bool:
        """Coders cannot see each other's codings of the question yet."""
        return self.blind and self.revealed_at is None


class AssignmentQuerySet(models.QuerySet):
    def dealt_any(self, question_id: int, coder_id: int) -> bool:
        """Has any round dealt answers of the question to the coder? Written out
        (polls.sql): every answer a coder is shown asks."""
        sql = (
            "SELECT 1 FROM coding_assignment a JOIN coding_round r ON r.id = a.round_id"
            " WHERE r.question_id = %s AND a.coder_id = %s LIMIT 1"
        )
        return fetch_one(sql, [question_id, coder_id]) is not None


class Assignment(models.Model):
    """An answer dealt to a coder in a round; overlap answers are dealt to several."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="assignments")
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    overlap = models.BooleanField(default=False)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "coder"], name="assignment_once_per_coder")
        ]
        indexes = [models.Index(fields=["coder", "answer"], name="assignment_by_coder")]


class Adjudication(models.Model):
    """The lead's settled coding of an answer the coders disagreed on: the consensus.

    Coders' own codings are left as they were, so agreement figures stay those
    measured before adjudication.
    """

    class Method(models.TextChoices):
        CODER = "coder", "Took one coder's themes"
        UNION = "union", "Took the union"
        EDIT = "edit", "Edited"

    answer = models.OneToOneField(Answer, models.CASCADE, related_name="adjudication")
    themes = models.ManyToManyField(Theme, related_name="adjudications", blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    taken_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    settled_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Settled answer {self.answer_id}"


class QuestionVersion(models.Model):
    """How often anything a question's theme counts rest on has changed.

    Written only by database triggers (migration 0005), in the transaction that
    changes a coding, a mark, a settlement or the theme hierarchy, so that no
    code path can forget it. No foreign key: the triggers write here while
    Django is deleting the question's answers.
    """

    question_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)


class ThemeTally(models.Model):
    """A question's theme counts (coding.tallies), good while `version` is the question's."""

    CONSENSUS = 0  # source: the consensus; otherwise the coder's user id

    question_id = models.BigIntegerField()
    source = models.BigIntegerField()
    version = models.BigIntegerField()
    counts = models.JSONField()  # [[theme id, respondents], …]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question_id", "source"], name="tally_once_per_source")
        ]
