import django.db.models.deletion
from django.db import migrations, models


# Fewer index entries per imported row: the scale index keeps only answers with a
# value (a tenth of a free-text-heavy import), and Respondent.poll loses the index
# its two composite indexes already give it (dropped by name: see 0005).
class Migration(migrations.Migration):

    dependencies = [
        ('polls', '0005_fewer_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='answer',
            name='answer_question_value',
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(condition=models.Q(('value__isnull', False)), fields=['question', 'value'], name='answer_question_value'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='respondent',
                    name='poll',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='respondents', to='polls.poll'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS polls_respondent_poll_id_8486f187',
                    reverse_sql='CREATE INDEX polls_respondent_poll_id_8486f187 ON polls_respondent (poll_id)',
                ),
            ],
        ),
    ]
