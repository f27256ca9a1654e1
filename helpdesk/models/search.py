"""What the database keeps for full-text search by itself (migration ``core_0007``), which the
models do not describe: schema comparisons (Alembic's autogenerate, the migrations test)
leave these objects out."""
from __future__ import annotations

#: PostgreSQL: generated tsvector columns and their GIN indexes.
SEARCH_COLUMNS = frozenset({("messages", "search_vector"), ("tickets", "search_vector")})
SEARCH_INDEXES = frozenset({"ix_messages_search_vector", "ix_tickets_search_vector"})
#: SQLite: the FTS5 tables and their shadow tables (messages_fts_data, ..._idx, ...).
SEARCH_TABLE_PREFIXES = ("messages_fts", "tickets_fts")


def described_by_the_models(object_, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic's ``include_object``: False for the search objects above, True for the rest."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE_PREFIXES)
    if type_ == "column":
        return (object_.table.name, name) not in SEARCH_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
