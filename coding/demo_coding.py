"""Demo codings: the seed answers coded with their reference themes, and one blind round.

Each `fixtures/seeds/<poll>/<QID>.csv` lists answer texts with the themes that
reproduce the published percentages, and `<QID>.themes.csv` the codebook. The
demo coder's codings go in through import_codings, as a spreadsheet would, and
two short answers per theme are saved as quotes for the report.

One question (DOUBLE_CODED) is dealt in a blind round instead: each coder codes
what was dealt to them with the reference themes, except that the second coder
departs from them on part of the overlap sample, so the agreement page has
something to show. The lead settles half of those disagreements by taking the
first coder's themes and leaves the rest open.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from coding import adjudication, assignments, services
from coding.adjudication import disagreements
from coding.codings_import import import_codings
from coding.models import Theme
from polls.models import Poll, Question

DOUBLE_CODED = ("Social worker poll (February 2021)", "Q4")
DEPARTURES = 0.3  # share of overlap answers the second coder codes differently
QUOTABLE = (20, 300)  # characters


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _codebook(question: Question, path: Path, lead) -> None:
    project = question.poll.project
    for row in _read(path):
        theme = Theme.objects.filter(project=project, name__iexact=row["name"]).first()
        if theme is None:
            parent = None
            if row.get("parent"):
                parent = Theme.objects.get(project=project, name__iexact=row["parent"])
            theme = services.create_theme(
                project, row["name"], lead, row["description"], parent=parent
            )
        theme.questions.add(question)


def _reference(question: Question, path: Path) -> dict[str, list[str]]:
    """Response id → reference themes, matching the fixture's texts to the answers."""
    field = "other_text" if path.stem.endswith("_other") else "text"
    by_text = dict(question.answers.values_list(field, "respondent__export_id"))
    return {by_text[row["text"]]: _names(row["themes"]) for row in _read(path)}


def _names(cell: str) -> list[str]:
    return [name.strip() for name in cell.split(";") if name.strip()]


def _long_csv(codings: dict[str, list[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["response_id", "theme"])
    for response, names in codings.items():
        for name in names or [""]:  # an empty theme: coded, no theme applies
            writer.writerow([response, name])
    return text.getvalue().encode()


def code_poll(poll: Poll, folder: Path, lead, coder, second_coder) -> None:
    for themes_file in sorted(folder.glob("*.themes.csv")):
        qid = themes_file.name.removesuffix(".themes.csv")
        question = poll.questions.get(export_id=qid.removesuffix("_other"))
        _codebook(question, themes_file, lead)
        reference = _reference(question, folder / f"{qid}.csv")
        if (poll.title, qid) == DOUBLE_CODED:
            _blind_round(question, reference, lead, coder, second_coder)
        else:
            import_codings(question, _long_csv(reference), f"{qid}.csv", coder.get_username())
            _quotes(question, reference, coder)


def _quotes(question: Question, reference: dict[str, list[str]], coder) -> None:
    """Two quotable answers per theme (20–300 characters), quoted whole, as a coder would."""
    themes = {t.name: t for t in question.themes.all()}
    answers = question.answers.select_related("respondent").order_by("pk")
    taken: dict[str, int] = {}
    for answer in answers:
        text = services.answer_text(answer)
        if not QUOTABLE[0] <= len(text) <= QUOTABLE[1]:
            continue
        for name in reference.get(answer.respondent.export_id, []):
            if taken.get(name, 0) < 2 and name in themes:
                services.save_quote(answer, coder, 0, len(text), [themes[name]])
                taken[name] = taken.get(name, 0) + 1
                break


def _blind_round(question, reference, lead, first, second) -> None:
    waiting = assignments.undealt(question).count()
    percent = assignments.default_overlap_percent(waiting)
    round_ = assignments.create_round(question, [first, second], percent, 2021, True, lead)
    rng = random.Random(2021)
    theme_names = list(question.themes.values_list("name", flat=True))
    for coder in (first, second):
        dealt = round_.assignments.filter(coder=coder).select_related("answer__respondent")
        mine = {}
        for assignment in dealt.order_by("answer_id"):
            response = assignment.answer.respondent.export_id
            names = list(reference[response])
            if coder == second and assignment.overlap and rng.random() < DEPARTURES:
                names = _depart(rng, names, theme_names)
            mine[response] = names
        import_codings(question, _long_csv(mine), "round-1.csv", coder.get_username())
    overlap = round_.assignments.filter(overlap=True).values("answer")
    for i, found in enumerate(disagreements(question, [first, second], overlap)):
        if i % 2 == 0:
            themes = Theme.objects.filter(pk__in=found.sets[first.pk])
            adjudication.settle(
                question.answers.get(pk=found.answer_id),
                lead,
                "coder",
                themes,
                "The first coder followed the codebook's inclusion criteria.",
                taken_from=first,
            )


def _depart(rng: random.Random, names: list[str], choices: list[str]) -> list[str]:
    """Drop a theme, or add one the reference does not have."""
    if names and rng.random() < 0.5:
        names.remove(rng.choice(names))
        return names
    extra = [c for c in choices if c not in names]
    return names + [rng.choice(extra)] if extra else names
