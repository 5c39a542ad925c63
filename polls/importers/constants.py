"""The string values of polls.models choices, so that importers need no Django.

tests/importers/test_constants.py checks that they match the models.
"""

from __future__ import annotations

# Question.Kind
SCALE = "scale"
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
FREE_TEXT = "free_text"
KINDS = (SCALE, SINGLE_CHOICE, MULTI_CHOICE, FREE_TEXT)

# Poll.Platform
QUALTRICS = "qualtrics"
SURVEYMONKEY = "surveymonkey"
MICROSOFT_FORMS = "microsoft_forms"
GOOGLE_FORMS = "google_forms"
SPREADSHEET = "spreadsheet"

# read_survey(format=...): layouts, plus csv/xlsx for a plain one-header-row table.
FORMATS = ("auto", "qualtrics", "surveymonkey", "forms", "csv", "xlsx")

# Database limits (polls.models) that parsed values must respect.
MAX_EXPORT_ID = 100
MAX_OPTION_TEXT = 1000
MAX_SCALE_LABEL = 200
