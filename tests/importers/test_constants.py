"""The importers use plain strings for model choices; they must stay in step."""

from __future__ import annotations

from polls.importers import constants
from polls.models import Poll, Question


def test_kind_strings_match_the_question_model():
    assert set(constants.KINDS) == set(Question.Kind.values)


def test_platform_strings_match_the_poll_model():
    platforms = {
        constants.QUALTRICS,
        constants.SURVEYMONKEY,
        constants.MICROSOFT_FORMS,
        constants.GOOGLE_FORMS,
        constants.SPREADSHEET,
    }
    assert platforms == set(Poll.Platform.values)


def test_length_limits_match_the_model_fields():
    assert Question._meta.get_field("export_id").max_length == constants.MAX_EXPORT_ID
    assert Question._meta.get_field("scale_min_label").max_length == constants.MAX_SCALE_LABEL
    option = Question._meta.get_field("options").related_model
    assert option._meta.get_field("text").max_length == constants.MAX_OPTION_TEXT
