"""Shared by the report tests: the small poll's Q4 coded by bob over a theme tree.

Barriers
├── Time
└── Caseloads
    └── Caseload size
Other
Never used
"""

from __future__ import annotations

import pytest

from coding import services
from coding.models import Theme


@pytest.fixture
def codebook(project, alice) -> dict[str, Theme]:
    barriers = services.create_theme(project, "Barriers", alice)
    caseloads = services.create_theme(project, "Caseloads", alice, parent=barriers)
    return {
        "Barriers": barriers,
        "Time": services.create_theme(project, "Time", alice, parent=barriers),
        "Caseloads": caseloads,
        "Caseload size": services.create_theme(project, "Caseload size", alice, parent=caseloads),
        "Other": services.create_theme(project, "Other", alice),
        "Never used": services.create_theme(project, "Never used", alice),
    }


@pytest.fixture
def q4(poll):
    return {a.respondent.export_id: a for a in poll.questions.get(export_id="Q4").answers.all()}


@pytest.fixture
def coded(q4, codebook, bob):
    """bob: R_1 Barriers + Time; R_2 Time + Caseloads + Caseload size; R_3 Caseloads + Other."""
    for response, names in {
        "R_1": ["Barriers", "Time"],
        "R_2": ["Time", "Caseloads", "Caseload size"],
        "R_3": ["Caseloads", "Other"],
    }.items():
        for name in names:
            services.apply_theme(q4[response], codebook[name], bob)
