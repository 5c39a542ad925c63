"""A large Qualtrics-shaped export of 20 columns (metadata, scales, single and
multi choice, free text, an attribute). bench/import_speed.py times the import
of 100,000 rows; the tests read a few thousand.
"""

from __future__ import annotations

import csv
import io
import json
import random

NAMES = [
    "StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage",
    "Q1", "Q2", "Q3", "Q4", "Q5_1", "Q5_2", "Q5_3", "Q6", "Q7", "Role",
]  # fmt: skip
LABELS = [
    "Start Date", "End Date", "Response Type", "Progress", "Duration (in seconds)", "Finished",
    "Recorded Date", "Response ID", "Distribution Channel", "User Language",
    "How often do processes align with your judgement?",
    "How effective is the system? 1 = not effective at all 10 = very effective",
    "What are the biggest barriers?",
    "How well equipped do you feel? (Rate from 0-10)",
    "Which barriers apply? - Selected Choice - Time",
    "Which barriers apply? - Selected Choice - Money, staff and training",
    "Which barriers apply? - Selected Choice - Other",
    "Which services did you use?",
    "What would help most?",
    "Role",
]  # fmt: skip
IMPORT_IDS = [
    "startDate", "endDate", "status", "progress", "duration", "finished", "recordedDate",
    "_recordId", "distributionChannel", "userLanguage", "QID1", "QID2", "QID3_TEXT", "QID4",
    ("QID5", "1"), ("QID5", "2"), ("QID5", "3"), "QID6", "QID7_TEXT", "Role",
]  # fmt: skip
FREQUENCY = ["Never", "Occasionally", "Often", "Always", "Not sure"]
SERVICES = ["Early help", "Housing, benefits and debt advice", "Mental health services"]
WORDS = [
    "time",
    "money",
    "staff",
    "training",
    "caseloads",
    "families",
    "children",
    "support",
    "managers",
    "court",
]


def _import_id(item) -> str:
    if isinstance(item, tuple):
        return json.dumps({"ImportId": item[0], "choiceId": item[1]}, separators=(",", ":"))
    return json.dumps({"ImportId": item}, separators=(",", ":"))


def _row(i: int, rng: random.Random) -> list[str]:
    status = "Survey Preview" if i % 500 == 0 else "IP Address"
    services = rng.sample(SERVICES, rng.randint(0, 2))
    text = " ".join(rng.choices(WORDS, k=rng.randint(3, 30))).capitalize() + "."
    return [
        "2021-09-13 09:00:00", "2021-09-13 09:10:00", status, "100", "600", "True",
        "2021-09-13 09:10:00", f"R_{i:08d}", "anonymous", "EN",
        rng.choice(FREQUENCY), str(rng.randint(1, 10)), text if rng.random() < 0.8 else "",
        str(rng.randint(0, 10)),
        "Time" if rng.random() < 0.5 else "",
        "Money, staff and training" if rng.random() < 0.4 else "",
        "Other" if rng.random() < 0.1 else "",
        ",".join(services),
        text[::-1] if rng.random() < 0.3 else "",
        rng.choice(["Social worker", "Team manager", "Senior practitioner"]),
    ]  # fmt: skip


def make_export(rows: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NAMES)
    writer.writerow(LABELS)
    writer.writerow([_import_id(x) for x in IMPORT_IDS])
    writer.writerows(_row(i, rng) for i in range(1, rows + 1))
    return buffer.getvalue().encode("utf-8")
