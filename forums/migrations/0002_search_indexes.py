"""pg_trgm and the GIN indexes of forum search, on PostgreSQL only.

SQLite (the embedded default of `make run`) has neither tsvector indexes nor trigrams: there the
forums search with the simple fallback of forums/search.py, and this migration changes nothing.
TrigramExtension itself already does nothing on other databases; the indexes are raw SQL guarded by
the connection's vendor (they are not in the models' Meta, so SQLite never tries to rebuild them).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    (
        "CREATE INDEX IF NOT EXISTS forums_thread_search ON forums_thread USING gin (search_vector)",
        "DROP INDEX IF EXISTS forums_thread_search",
    ),
    (
        "CREATE INDEX IF NOT EXISTS forums_thread_similar ON forums_thread USING gin (similar_vector)",
        "DROP INDEX IF EXISTS forums_thread_similar",
    ),
    (
        "CREATE INDEX IF NOT EXISTS forums_word_trgm ON forums_word USING gin (word gin_trgm_ops)",
        "DROP INDEX IF EXISTS forums_word_trgm",
    ),
]


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        schema_editor.execute(statement)


def forwards(apps, schema_editor):
    _run(schema_editor, [create for create, _ in INDEXES])


def backwards(apps, schema_editor):
    _run(schema_editor, [drop for _, drop in INDEXES])


class Migration(migrations.Migration):
    dependencies = [("forums", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
