"""Projects, polls and what respondents answered.

A row exists only for what a respondent answered (a written answer, a point
on a scale, a ticked option), so "skipped" needs no marker: the base of a
question ("answered by 129 out of 141") is the number of respondents with a
row for it (polls.summaries).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from polls.sql import fetch_one


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> ProjectQuerySet:
        return self.filter(memberships__user=user)


class Project(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    draft_of = models.OneToOneField(
        "PendingImport",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="draft_project",
        help_text="Set for the project, with no members, that holds an upload imported as a "
        "draft until it is confirmed (polls.import_drafts).",
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user) -> str | None:
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None


class Membership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        CODER = "coder", "Coder"
        VIEWER = "viewer", "Viewer"

    project = models.ForeignKey(Project, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CODER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_once_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


class PollQuerySet(models.QuerySet):
    def for_user(self, user) -> PollQuerySet:
        return self.filter(project__memberships__user=user)

    def delete_at_once(self) -> None:
        """Delete these polls, which nobody has coded (import drafts), a table at a time.

        Django's collector would read each of 100,000 respondents and their answers
        before deleting them; here each table goes in one statement. The database
        refuses it for an answer something refers to (a coding, a quote).
        """
        questions = Question.objects.filter(poll__in=self).values("pk")
        Rating.objects.filter(question__in=questions).delete()  # one DELETE each
        Selection.objects.filter(question__in=questions).delete()
        Answer.objects.filter(question__in=questions).delete_at_once()
        _delete_where(Respondent, "poll_id", self.values("pk"))
        self.delete()


def _delete_where(model, column: str, values: models.QuerySet) -> None:
    """DELETE the rows of `model` whose `column` is among `values` (a subquery)."""
    sql, params = values.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({sql})", params)


class Poll(models.Model):
    class Platform(models.TextChoices):
        QUALTRICS = "qualtrics", "Qualtrics"
        SURVEYMONKEY = "surveymonkey", "SurveyMonkey"
        MICROSOFT_FORMS = "microsoft_forms", "Microsoft Forms"
        GOOGLE_FORMS = "google_forms", "Google Forms"
        SPREADSHEET = "spreadsheet", "CSV or XLSX table"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, models.CASCADE, related_name="polls")
    title = models.CharField(max_length=200)
    opened = models.DateField(null=True, blank=True)
    closed = models.DateField(null=True, blank=True)
    invited = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many people the poll was sent to."
    )
    population = models.CharField(
        max_length=100, blank=True, help_text='Label for captions, e.g. "Social Workers".'
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    source_file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PollQuerySet.as_manager()

    class Meta:
        ordering = ["opened", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "title"], name="poll_title_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        SCALE = "scale", "Scale"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTI_CHOICE = "multi_choice", "Multi choice"
        FREE_TEXT = "free_text", "Free text"

    poll = models.ForeignKey(Poll, models.CASCADE, related_name="questions")
    export_id = models.CharField(max_length=100, help_text="Column id in the export, e.g. Q4.")
    position = models.PositiveIntegerField()
    text = models.TextField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)
    scale_min_label = models.CharField(max_length=200, blank=True)
    scale_max_label = models.CharField(max_length=200, blank=True)
    max_choices = models.PositiveIntegerField(null=True, blank=True)
    subsample = models.CharField(
        max_length=500, blank=True, help_text="Who was asked, when not everyone was."
    )
    bands = models.CharField(
        max_length=200,
        blank=True,
        help_text='Scale bands the report adds up, e.g. "0-4, 5, 6-10".',
    )
    compare_with = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The same question in an earlier poll; otherwise matched by its text.",
    )

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "export_id"], name="question_id_unique_in_poll"
            ),
            models.UniqueConstraint(fields=["poll", "position"], name="question_position_in_poll"),
        ]

    def __str__(self) -> str:
        return f"{self.export_id}: {self.text[:60]}"

    @property
    def is_choice(self) -> bool:
        return self.kind in (self.Kind.SINGLE_CHOICE, self.Kind.MULTI_CHOICE)

    @property
    def has_text(self) -> bool:
        """Whether the question carries text to code (free text or "other" texts)."""
        return self.kind == self.Kind.FREE_TEXT or any(o.is_other for o in self.options.all())


class Option(models.Model):
    question = models.ForeignKey(Question, models.CASCADE, related_name="options")
    position = models.PositiveIntegerField()
    text = models.CharField(max_length=1000)
    code = models.CharField(
        max_length=50, blank=True, help_text="The export's numeric recode for this choice."
    )
    is_other = models.BooleanField(default=False, help_text='"Other, please specify".')

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "position"], name="option_position_in_question"
            ),
            models.UniqueConstraint(fields=["question", "text"], name="option_text_in_question"),
        ]

    def __str__(self) -> str:
        return self.text


class RespondentQuerySet(models.QuerySet):
    def with_answer_to(self, question: Question) -> RespondentQuerySet:
        """Each respondent with `written`: what they wrote to the question, or ""."""
        answers = Answer.objects.filter(question=question, respondent=OuterRef("pk"))
        shown = Concat("text", "other_text", output_field=models.TextField())
        text = answers.annotate(shown=shown).values("shown")[:1]
        return self.annotate(
            written=Coalesce(Subquery(text), Value(""), output_field=models.TextField())
        )


class Respondent(models.Model):
    # No index of its own: the unique constraint and respondent_poll_order lead with it.
    # Not a database foreign key either: see _imported_key below.
    poll = models.ForeignKey(
        Poll, models.CASCADE, related_name="respondents", db_index=False, db_constraint=False
    )
    export_id = models.CharField(max_length=100, help_text="ResponseId or the export's row id.")
    position = models.PositiveIntegerField(help_text="Row order in the imported file.")
    attributes = models.JSONField(default=dict, blank=True)

    objects = RespondentQuerySet.as_manager()

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            # Also the index behind "refuse a file whose response ids already exist".
            models.UniqueConstraint(
                fields=["poll", "export_id"], name="respondent_id_unique_in_poll"
            ),
        ]
        indexes = [models.Index(fields=["poll", "position"], name="respondent_poll_order")]

    def __str__(self) -> str:
        return self.export_id


class AnswerQuerySet(models.QuerySet):
    def for_question(self, question: Question) -> AnswerQuerySet:
        return self.filter(question=question)

    def with_text(self) -> AnswerQuerySet:
        """Answers that carry text to read and code (free text or an "other" text)."""
        return self.exclude(text="", other_text="")

    def unticked(self) -> AnswerQuerySet:
        """ "Other" texts written with no option ticked (on a question with no "Other"
        option): they count in a choice question's base with its selections."""
        ticked = Selection.objects.filter(
            question=OuterRef("question"), respondent=OuterRef("respondent")
        )
        return self.exclude(Exists(ticked))

    def delete_at_once(self) -> None:
        """Delete these answers, which nothing refers to (a draft's), in one statement
        rather than after reading each, as Django's collector would."""
        _delete_where(Answer, "id", self.values("pk"))

    def ref_for_member(self, pk: int, user_id: int) -> tuple[int, int, int, str] | None:
        """(answer, question, project, the user's role there), if the user is a member.

        What every theme applied or removed starts with, written out: the ORM's
        joined read costs ten times what the database takes to answer it.
        """
        return fetch_one(
            "SELECT a.id, a.question_id, p.project_id, m.role FROM polls_answer a"
            " JOIN polls_question q ON q.id = a.question_id"
            " JOIN polls_poll p ON p.id = q.poll_id"
            " JOIN polls_membership m ON m.project_id = p.project_id AND m.user_id = %s"
            " WHERE a.id = %s",
            [user_id, pk],
        )


# What respondents answered is stored by kind: what they wrote (Answer, the
# unit that is read and coded), the point they chose on a scale (Rating) and the
# options they ticked (Selection). A poll of 100,000 respondents brings a million
# of these rows at once, and only the written answers need a key of their own.
#
# Their references to the question and the respondent (and a respondent's to its
# poll) are not database foreign keys (db_constraint=False): the import writes
# them in the transaction that creates those polls, questions and respondents,
# and is their only writer, while PostgreSQL would check each reference at
# COMMIT, 2.5-3 µs apiece: seven seconds of a 100,000-row import. Deleting a
# poll, a question or a respondent still deletes its rows (Django's on_delete,
# as with every foreign key here).
def _imported_key(to, related_name: str) -> models.ForeignKey:
    # No index of its own either: each table's key or composite index leads with
    # the question, and nothing looks rows up by respondent alone.
    return models.ForeignKey(
        to, models.CASCADE, related_name=related_name, db_index=False, db_constraint=False
    )


class Answer(models.Model):
    """What a respondent wrote: a free-text answer, or the text they gave for
    "Other, please specify" on a choice question."""

    question = _imported_key(Question, "answers")
    respondent = _imported_key(Respondent, "answers")
    text = models.TextField(blank=True, help_text="A free-text answer.")
    other_text = models.TextField(blank=True, help_text='What was written in "Other, specify".')

    objects = AnswerQuerySet.as_manager()

    class Meta:
        constraints = [
            # One answer per respondent and question; its index (question first) also
            # serves the per-question coding queues of tens of thousands of answers.
            models.UniqueConstraint(
                fields=["question", "respondent"], name="answer_once_per_respondent"
            ),
        ]
        indexes = [
            # Coding queues walk a question's answers in import order.
            models.Index(fields=["question", "id"], name="answer_queue_order"),
        ]

    def __str__(self) -> str:
        return f"{self.respondent} → {self.question.export_id}"


class Rating(models.Model):
    """The point a respondent chose on a scale question."""

    pk = models.CompositePrimaryKey("question", "respondent")
    question = _imported_key(Question, "ratings")
    respondent = _imported_key(Respondent, "ratings")
    value = models.FloatField()

    def __str__(self) -> str:
        return f"{self.respondent_id} → {self.question_id}: {self.value:g}"


class Selection(models.Model):
    """An option a respondent chose (a single-choice question has one per respondent)."""

    # Question first: a question's selections are one range of the key, per
    # respondent (a crosstab's join) and, within it, per option.
    pk = models.CompositePrimaryKey("question", "respondent", "option")
    question = _imported_key(Question, "selections")
    respondent = _imported_key(Respondent, "selections")
    option = _imported_key(Option, "selections")

    def __str__(self) -> str:
        return f"{self.respondent_id} → {self.option_id}"


class PendingImportQuerySet(models.QuerySet):
    def stale(self) -> PendingImportQuerySet:
        """Uploads nobody confirmed within a day: they hold whole files, so they go."""
        return self.filter(created_at__lt=timezone.now() - timedelta(days=1))


class PendingImportManager(models.Manager.from_queryset(PendingImportQuerySet)):
    def get_queryset(self) -> PendingImportQuerySet:
        # The file is read only to confirm (or to redo the preview): not with every page.
        return super().get_queryset().defer("data")


class PendingImport(models.Model):
    """An uploaded export waiting for the researcher to confirm the preview.

    The file is kept in the database, not on disk, so that app servers sharing
    one database can serve the preview and the confirmation alike; gzip-compressed
    (`compressed`) when uploaded through the import page. `preview` keeps what the
    preview page shows, worked out when the file was read, so that showing the
    page again does not read the file again.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, models.CASCADE, related_name="pending_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    data = models.BinaryField()
    compressed = models.BooleanField(default=False, help_text="data is gzip-compressed.")
    options = models.JSONField(default=dict, help_text="Poll fields and import options.")
    preview = models.JSONField(
        null=True, blank=True, help_text="The preview page's content, for options['schema']."
    )

    objects = PendingImportManager()
