import django.db.models.deletion
from django.db import migrations, models


# What respondents answered, stored by kind (see polls.models): Answer keeps what
# they wrote; scale points move to Rating and ticked options to a Selection keyed
# by question, respondent and option. Those three tables reference questions and
# respondents without database foreign keys, and have no index by respondent.
def imported_key(to, related_name):
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to=to,
    )


def move_closed_answers(apps, schema_editor):
    quote = schema_editor.quote_name
    answer = quote(apps.get_model("polls", "Answer")._meta.db_table)
    rating = quote(apps.get_model("polls", "Rating")._meta.db_table)
    old = quote(apps.get_model("polls", "OldSelection")._meta.db_table)
    new = quote(apps.get_model("polls", "Selection")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {rating} (question_id, respondent_id, value)"
            f" SELECT question_id, respondent_id, value FROM {answer} WHERE value IS NOT NULL"
        )
        cursor.execute(
            f"INSERT INTO {new} (question_id, respondent_id, option_id)"
            f" SELECT a.question_id, a.respondent_id, s.option_id"
            f" FROM {old} s JOIN {answer} a ON a.id = s.answer_id"
        )


def drop_answers_without_text(apps, schema_editor):
    """The answers that were only a point or a choice, unless something refers to one."""
    Answer = apps.get_model("polls", "Answer")
    quote = schema_editor.quote_name
    table = quote(Answer._meta.db_table)
    kept = [
        f"NOT EXISTS (SELECT 1 FROM {quote(r.related_model._meta.db_table)} r"
        f" WHERE r.{quote(r.field.column)} = {table}.id)"
        for r in Answer._meta.get_fields(include_hidden=True)
        if r.one_to_many or r.one_to_one and r.auto_created
    ]
    where = " AND ".join(["text = ''", "other_text = ''", *kept])
    postgres = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        # PostgreSQL would otherwise keep the delete's reference checks for COMMIT,
        # and refuse to alter the table meanwhile.
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DELETE FROM {table} WHERE {where}")
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class AlterFieldExceptOnSQLite(migrations.AlterField):
    """On SQLite, dropping a foreign key rebuilds its table, and the rebuilt answer
    table would break the triggers that read it (coding 0005): there the answer
    table keeps its foreign keys, which SQLite checks cheaply, and its index by
    respondent goes by name instead."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)


def drop_respondent_index_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS polls_answer_respondent_id_d8693c1d")


class Migration(migrations.Migration):

    dependencies = [
        ("polls", "0006_lighter_answer_indexes"),
        # Everything that refers to answers exists, so that an answer some row
        # refers to is kept (drop_answers_without_text).
        ("coding", "0006_fewer_indexes"),
    ]

    operations = [
        migrations.RemoveField(model_name="answer", name="options"),
        migrations.AlterField(
            model_name="selection",
            name="answer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="polls.answer",
            ),
        ),
        migrations.AlterField(
            model_name="selection",
            name="option",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="polls.option",
            ),
        ),
        migrations.RenameModel("Selection", "OldSelection"),
        migrations.CreateModel(
            name="Rating",
            fields=[
                ("pk", models.CompositePrimaryKey("question", "respondent", blank=True,
                                                  editable=False, primary_key=True,
                                                  serialize=False)),
                ("value", models.FloatField()),
                ("question", imported_key("polls.question", "ratings")),
                ("respondent", imported_key("polls.respondent", "ratings")),
            ],
        ),
        migrations.CreateModel(
            name="Selection",
            fields=[
                ("pk", models.CompositePrimaryKey("question", "respondent", "option", blank=True,
                                                  editable=False, primary_key=True,
                                                  serialize=False)),
                ("option", imported_key("polls.option", "selections")),
                ("question", imported_key("polls.question", "selections")),
                ("respondent", imported_key("polls.respondent", "selections")),
            ],
        ),
        migrations.RunPython(move_closed_answers, elidable=True),
        migrations.DeleteModel("OldSelection"),
        migrations.RunPython(drop_answers_without_text, elidable=True),
        migrations.RemoveIndex(model_name="answer", name="answer_question_value"),
        migrations.RemoveField(model_name="answer", name="value"),
        AlterFieldExceptOnSQLite(
            model_name="answer",
            name="question",
            field=imported_key("polls.question", "answers"),
        ),
        AlterFieldExceptOnSQLite(
            model_name="answer",
            name="respondent",
            field=imported_key("polls.respondent", "answers"),
        ),
        migrations.RunPython(drop_respondent_index_on_sqlite, elidable=True),
    ]
