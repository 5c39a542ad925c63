from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from coding.demo_coding import code_poll
from polls import demo
from polls.imports import import_file
from polls.loading import PollFields
from polls.models import Membership, Project

CARE_REVIEW = "Care Review polling"
ENGAGEMENT = "Workforce engagement summary"
# Demo accounts: (username, role). They share one password, printed by the command.
ACCOUNTS = [("lead", "lead"), ("coder", "coder"), ("coder2", "coder"), ("viewer", "viewer")]
PASSWORD = "verbatim-demo"


class Command(BaseCommand):
    help = "Load the demo: the seed polls and session notes, and a login for each role."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = self._accounts()
        care = self._project(
            CARE_REVIEW,
            "Polls of social workers for the Independent Review of Children's Social Care, 2021.",
            users,
        )
        for slug in demo.POLLS:
            self._seed_poll(care, demo.load_seed(slug), users)
        notes = self._project(
            ENGAGEMENT,
            "Notes from the review's engagement sessions with "
            "the workforce, to code into areas, themes and sub-themes.",
            users,
        )
        self._engagement(notes, users["lead"])
        self.stdout.write("Demo ready. Log in at http://127.0.0.1:8000/ as one of:")
        for username, role in ACCOUNTS:
            self.stdout.write(f"  {username:<8} ({role})  password: {PASSWORD}")

    def _accounts(self) -> dict:
        users = {}
        for username, _ in ACCOUNTS:
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.set_password(PASSWORD)
            user.save()
            users[username] = user
        return users

    def _project(self, name: str, description: str, users) -> Project:
        project, _ = Project.objects.get_or_create(name=name, defaults={"description": description})
        for username, role in ACCOUNTS:
            Membership.objects.get_or_create(
                project=project, user=users[username], defaults={"role": role}
            )
        return project

    def _seed_poll(self, project: Project, seed: demo.Seed, users: dict) -> None:
        meta = seed.meta
        if project.polls.filter(title=meta["title"]).exists():
            return
        fields = PollFields(
            title=meta["title"],
            opened=date.fromisoformat(meta["opened"]) if meta.get("opened") else None,
            closed=date.fromisoformat(meta["closed"]) if meta.get("closed") else None,
            invited=meta.get("invited"),
            population=meta.get("population", ""),
        )
        result = import_file(
            project,
            demo.qualtrics_export(seed),
            f"{seed.slug}_qualtrics.csv",
            fields,
            schema=demo.schema(seed),
            user=users["lead"],
        )
        code_poll(
            result.poll, demo.SEEDS / seed.slug, users["lead"], users["coder"], users["coder2"]
        )
        self.stdout.write(f"  {meta['title']}: {result.respondents} respondents, coded")

    def _engagement(self, project: Project, user) -> None:
        title = "Engagement session notes (2021)"
        if project.polls.filter(title=title).exists():
            return
        result = import_file(
            project,
            demo.engagement_export(),
            "engagement_notes.csv",
            PollFields(
                title=title,
                opened=date(2021, 6, 1),
                closed=date(2021, 9, 30),
                population="Professionals",
            ),
            format="csv",
            user=user,
        )
        self.stdout.write(f"  {title}: {result.respondents} notes")
