"""The --schema file: validated, then applied question by question."""

from __future__ import annotations

import json

import pytest

from polls.importers import ImportProblem, infer_specs, interpret, parse_schema, read_survey
from tests.importers.helpers import data, names_the_cell

SCHEMA = {
    "questions": [
        {
            "id": "Q1",
            "kind": "single_choice",
            "options": ["Never", "Occasionally", "Often", "All of the time", "Not sure"],
        },
        {
            "id": "Q2",
            "kind": "scale",
            "min": 1,
            "max": 10,
            "labels": ["not effective at all", "very effective"],
        },
        {"id": "Q3.13", "kind": "scale", "min": 0, "max": 10, "subsample": "Everyone"},
        {"id": "Q14", "max_choices": 2},
    ]
}


def schema_file(schema: dict | list | str) -> bytes:
    text = schema if isinstance(schema, str) else json.dumps(schema, indent=2)
    return text.encode()


@pytest.fixture
def survey():
    return read_survey(data("qualtrics_numeric.csv"), "numeric.csv")


def test_a_schema_overrides_kind_options_and_ends(survey):
    specs = infer_specs(survey, parse_schema(schema_file(SCHEMA), "schema.json"))
    by_id = {s.export_id: s for s in specs}
    assert by_id["Q1"].kind == "single_choice"  # inference said scale (numeric recodes)
    assert [o.text for o in by_id["Q1"].options][:3] == ["Never", "Occasionally", "Often"]
    assert (by_id["Q3.13"].scale_min, by_id["Q3.13"].scale_max) == (0, 10)
    assert by_id["Q3.13"].subsample == "Everyone"
    assert by_id["Q14"].kind == "multi_choice" and by_id["Q14"].max_choices == 2
    assert by_id["Q4"].kind == "free_text"  # not listed: inferred
    q1 = interpret(survey, specs)[0]
    assert [a.options for a in q1] == [[2], [1], [2], [3], [2]]  # recode k = k-th option


def test_the_preview_form_shape_is_accepted(survey):
    """polls.imports.schema_from_form lists every question, labels maybe empty."""
    form = {
        "questions": [
            {"id": "Q1", "kind": "single_choice"},
            {"id": "Q2", "kind": "scale", "min": 1, "max": 10, "labels": ["", ""]},
            {"id": "Q4", "kind": "free_text"},
        ]
    }
    specs = infer_specs(survey, form)
    assert [o.text for o in specs[0].options] == ["2", "3", "4"]
    assert (specs[1].scale_min_label, specs[1].scale_max_label) == ("", "")


def test_a_schema_naming_an_unknown_question_is_refused(survey):
    schema = {"questions": [{"id": "Q2", "kind": "scale"}, {"id": "Q99", "kind": "free_text"}]}
    with pytest.raises(ImportProblem) as caught:
        infer_specs(survey, parse_schema(schema_file(schema), "schema.json"))
    names_the_cell(caught.value, "schema.json", row=8, column="id")
    assert "'Q99', which is not in numeric.csv (its questions are Q1, Q2" in str(caught.value)


def test_a_schema_with_an_unknown_kind_is_refused():
    schema = {"questions": [{"id": "Q2", "kind": "likert"}]}
    with pytest.raises(ImportProblem) as caught:
        parse_schema(schema_file(schema), "schema.json")
    names_the_cell(caught.value, "schema.json", row=4, column="kind")
    assert "unknown kind 'likert'" in str(caught.value)


def test_a_schema_dict_from_the_preview_page_is_checked_too(survey):
    with pytest.raises(ImportProblem) as caught:
        infer_specs(survey, {"questions": [{"id": "Q2", "kind": "slider"}]})
    assert str(caught.value).startswith("the schema, column kind: question 'Q2'")


def test_invalid_json_names_its_line_and_column():
    broken = '{"questions": [\n  {"id": "Q1",}\n]}'
    with pytest.raises(json.JSONDecodeError) as parsed:  # where this Python places the fault
        json.loads(broken)
    with pytest.raises(ImportProblem) as caught:
        parse_schema(broken.encode(), "broken.json")
    names_the_cell(caught.value, "broken.json", row=2, column=str(parsed.value.colno))


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"id": "Q1", "min": "one"}, "min"),
        ({"id": "Q1", "min": 5, "max": 1}, "min"),
        ({"id": "Q1", "labels": ["only one"]}, "labels"),
        ({"id": "Q1", "options": "A, B"}, "options"),
        ({"id": "Q1", "options": ["A", "a"]}, "options"),
        ({"id": "Q1", "max_choices": 0}, "max_choices"),
        ({"id": "Q1", "optoins": ["A"]}, "optoins"),
    ],
)
def test_malformed_entries_are_refused_naming_the_field(entry, field):
    with pytest.raises(ImportProblem) as caught:
        parse_schema(schema_file({"questions": [entry]}), "schema.json")
    names_the_cell(caught.value, "schema.json", row=4, column=field)


def test_a_schema_must_be_an_object_with_questions():
    with pytest.raises(ImportProblem) as caught:
        parse_schema(b"[]", "list.json")
    names_the_cell(caught.value, "list.json", row=1)


def test_options_may_carry_codes_and_the_other_flag(survey):
    schema = {
        "questions": [
            {
                "id": "Q5",
                "options": [
                    {"text": "Children in care", "code": "1"},
                    {"text": "Front door", "code": "2"},
                    {"text": "Something else", "code": "4", "is_other": True},
                ],
            }
        ]
    }
    specs = infer_specs(survey, parse_schema(schema_file(schema), "s.json"))
    q5 = next(s for s in specs if s.export_id == "Q5")
    assert [(o.text, o.is_other) for o in q5.options][-1] == ("Something else", True)
    answers = interpret(survey, specs)[[s.export_id for s in specs].index("Q5")]
    assert [(a.options, a.other_text) for a in answers][:2] == [
        ([0], ""),
        ([2], "We cover two areas"),
    ]
