"""Projects, polls and what respondents answered.

An `Answer` row exists only when the respondent answered the question (a
non-empty cell, a ticked choice or an "other" text): the base of a question
("answered by 129 out of 141") is therefore its number of answers, and
"skipped" needs no marker.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
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


class Respondent(models.Model):
    # No index of its own: the unique constraint and respondent_poll_order lead with it.
    poll = models.ForeignKey(Poll, models.CASCADE, related_name="respondents", db_index=False)
    export_id = models.CharField(max_length=100, help_text="ResponseId or the export's row id.")
    position = models.PositiveIntegerField(help_text="Row order in the imported file.")
    attributes = models.JSONField(default=dict, blank=True)

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


class Answer(models.Model):
    # No index of its own: the composite indexes below lead with the question.
    question = models.ForeignKey(Question, models.CASCADE, related_name="answers", db_index=False)
    respondent = models.ForeignKey(Respondent, models.CASCADE, related_name="answers")
    value = models.FloatField(null=True, blank=True, help_text="The point chosen on a scale.")
    text = models.TextField(blank=True, help_text="A free-text answer.")
    other_text = models.TextField(blank=True, help_text='What was written in "Other, specify".')
    options = models.ManyToManyField(Option, through="Selection", related_name="answers")

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
            # Scale distributions group a question's answers by value. Only answers with
            # a value: the free-text and choice answers, most of an import, need no entry.
            models.Index(
                fields=["question", "value"],
                name="answer_question_value",
                condition=models.Q(value__isnull=False),
            ),
            # Coding queues walk a question's answers in import order.
            models.Index(fields=["question", "id"], name="answer_queue_order"),
        ]

    def __str__(self) -> str:
        return f"{self.respondent} → {self.question.export_id}"


class Selection(models.Model):
    """One chosen option of a choice answer (single choice has exactly one)."""

    # Indexed by the two composites below, one leading with each.
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="selections", db_index=False)
    option = models.ForeignKey(Option, models.CASCADE, related_name="selections", db_index=False)

    class Meta:
        constraints = [
            # Makes Count("selections") per option a count of distinct respondents.
            models.UniqueConstraint(fields=["answer", "option"], name="selection_once_per_answer")
        ]
        indexes = [models.Index(fields=["option", "answer"], name="selection_by_option")]


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
