"""Full-text search of tickets' subjects and messages' bodies, kept by the database itself.

PostgreSQL: a generated ``tsvector`` column on ``messages`` (its subject, weight C, and its
text body, else the HTML one, whose tags the parser skips; the body's first 200,000
characters) and on ``tickets`` (the subject, weight A), each with a GIN index.

SQLite: FTS5 external-content tables ``messages_fts`` (subject and body; its content is the
view ``message_search_source``, the same text as above) and ``tickets_fts`` (the subject),
kept by triggers on insert, update and delete. A later migration that makes Alembic recreate
``messages`` or ``tickets`` on SQLite (batch mode: copy, drop, rename) must drop the view
and triggers first and create them again after (the rename fails loudly while the view
names the table, so it cannot be forgotten silently).

A query's words must all be in one message (its subject counts, and replies carry the
ticket's subject) or all in the ticket's subject: that keeps every query one index lookup
whose hits are intersected in the index (words spread over several messages would need a
lookup per word, and common words have thousands of hits each).

The models do not name these objects (``helpdesk.models.search``); the search service
(``helpdesk.services.search``) queries them.

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-11-24 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'core_0007'
down_revision = 'core_0006'
branch_labels = None
depends_on = None

INDEXED_CHARS = 200000
BODY = "CASE WHEN {row}text_body <> '' THEN {row}text_body ELSE coalesce({row}html_body, '') END"

POSTGRES = [
    "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english'::regconfig, subject), 'C') || "
    f"to_tsvector('english'::regconfig, left({BODY.format(row='')}, {INDEXED_CHARS}))) STORED",
    "CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)",
    "ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english'::regconfig, subject), 'A')) STORED",
    "CREATE INDEX ix_tickets_search_vector ON tickets USING gin (search_vector)",
]


def _sqlite_body(row: str) -> str:
    return f"substr({BODY.format(row=row)}, 1, {INDEXED_CHARS})"


TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"
SQLITE = [
    f"CREATE VIEW message_search_source AS SELECT id, subject, {_sqlite_body('')} AS body FROM messages",
    "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, content='message_search_source', "
    f"content_rowid='id', {TOKENIZE})",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, subject, body) VALUES (new.id, new.subject, {_sqlite_body('new.')});
    END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, subject, body)
        VALUES ('delete', old.id, old.subject, {_sqlite_body('old.')});
    END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, text_body, html_body ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, subject, body)
        VALUES ('delete', old.id, old.subject, {_sqlite_body('old.')});
        INSERT INTO messages_fts(rowid, subject, body) VALUES (new.id, new.subject, {_sqlite_body('new.')});
    END""",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    f"CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content='tickets', content_rowid='id', {TOKENIZE})",
    """CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject);
    END""",
    """CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
        INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
    END""",
    """CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN
        INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
        INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject);
    END""",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]


def upgrade():
    for statement in POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("messages", "tickets"):
            op.execute(f"DROP INDEX ix_{name}_search_vector")
            op.execute(f"ALTER TABLE {name} DROP COLUMN search_vector")
        return
    for name in ("messages", "tickets"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {name}_fts_{event}")
        op.execute(f"DROP TABLE {name}_fts")
    op.execute("DROP VIEW message_search_source")
