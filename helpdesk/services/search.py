"""Full-text search of tickets: their subjects and their messages' bodies (the text part; an
HTML-only mail's HTML read as text), ranked, with a highlighted snippet of the best message.

One function, :func:`search_tickets`, over two engines' own full-text search, which the
database keeps up to date by itself (migration ``core_0007``): on PostgreSQL a ``tsvector``
column on ``messages`` and on ``tickets`` (generated columns, GIN indexes); on SQLite FTS5
external-content tables (``messages_fts``, ``tickets_fts``) kept by triggers. Both stem
English words (reply, replies, replied) and ignore case.

What an agent types: words (all of them in one message, whose subject counts, or all in the
ticket's subject; replies carry the ticket's subject and mail usually quotes what it answers),
``"a phrase"`` in double quotes, and ``word*`` for words that start so. A
reference (``HD-42``) finds that ticket alone; a number also finds the ticket of that
number; the subject and the requester's address or name containing the text as typed
(``100%``, ``alice@``) still count, as before full-text search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import Select, case, cast, column, func, literal, literal_column, or_, select, table, union_all
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR, distinct_on

from ..extensions import db
from ..models import Contact, Message, Ticket

#: The text search configuration (PostgreSQL) the generated columns were built with.
POSTGRES_CONFIG = "english"
#: The database wraps each match in a snippet between these two characters; only
#: :func:`snippet_markup` turns them into ``<mark>``, after escaping everything else.
MARK_START, MARK_END = "\x02", "\x03"
#: At most this many words or phrases of a query are used (each one costs a condition).
MAX_TERMS = 12
SNIPPET_WORDS = 18
#: Only the start of a long body is indexed (a tsvector holds at most 1 MB); as in migration core_0007.
INDEXED_CHARS = 200_000
_SUBJECT_WEIGHT = 2.0  # SQLite: a subject match ranks as two body matches (PostgreSQL weighs by setweight 'A')
_REFERENCE_RANK = 1e9  # a ticket's own number comes first


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase of a query; ``prefix``: a single word ending in ``*``."""

    text: str
    prefix: bool = False


def parse_terms(text: str) -> list[Term]:
    """The words and phrases of a query, as :class:`Term`s; pieces without a letter or digit
    (``%``, ``-``) are left to the substring match."""
    terms = []
    for match in re.finditer(r'"([^"]*)"?|(\S+)', text):
        phrase, word = match.groups()
        chunk = (phrase if phrase is not None else word).strip()
        prefix = phrase is None and chunk.endswith("*") and bool(re.fullmatch(r"[^\W_]+", chunk.rstrip("*")))
        chunk = chunk.rstrip("*") if prefix else chunk
        if re.search(r"[^\W_]", chunk):
            terms.append(Term(chunk, prefix))
    return terms[:MAX_TERMS]


def snippet_markup(raw: str) -> Markup:
    """A snippet as markup: the text escaped, the database's match markers as ``<mark>``
    (always balanced, whatever marker characters the text itself held)."""
    pieces, open_mark = [], False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", re.sub(r"\s+", " ", raw).strip()):
        if piece == MARK_START and not open_mark:
            pieces.append("<mark>")
            open_mark = True
        elif piece == MARK_END and open_mark:
            pieces.append("</mark>")
            open_mark = False
        elif piece not in (MARK_START, MARK_END):
            pieces.append(str(escape(piece)))
    if open_mark:
        pieces.append("</mark>")
    return Markup("".join(pieces))


class _Postgres:
    """PostgreSQL: ``search_vector`` columns kept by the database, matched with ``@@``."""

    messages_vector = literal_column("messages.search_vector", TSVECTOR)
    tickets_vector = literal_column("tickets.search_vector", TSVECTOR)

    def __init__(self, terms: list[Term], any_of: bool = False) -> None:
        config = cast(literal(POSTGRES_CONFIG), REGCONFIG)
        parts = [func.to_tsquery(config, literal(f"'{t.text}':*"), type_=TSQUERY) if t.prefix
                 else func.phraseto_tsquery(config, literal(t.text), type_=TSQUERY) for t in terms]
        self.query = reduce(lambda a, b: a.op("||" if any_of else "&&", return_type=TSQUERY)(b), parts)

    @classmethod
    def searchable(cls, terms: list[Term]) -> list[Term]:
        """The terms with a word PostgreSQL indexes: "our", a stop word, matches nothing and
        must not be required (one query for all of them)."""
        sizes = db.session.execute(select(*(func.numnode(cls([t]).query) for t in terms))).one()
        return [t for t, size in zip(terms, sizes) if size]

    def message_hits(self) -> Select:
        return select(Message.ticket_id.label("ticket_id"), func.ts_rank(self.messages_vector, self.query)
                      .label("rank"), Message.id.label("message_id")).where(self.messages_vector.op("@@")(self.query))

    def subject_hits(self) -> Select:
        return select(Ticket.id.label("ticket_id"), func.ts_rank(self.tickets_vector, self.query).label("rank")) \
            .where(self.tickets_vector.op("@@")(self.query))

    @staticmethod
    def indexed_body():
        """What is indexed of a message: its text, else (an HTML-only mail) its HTML, up to
        :data:`INDEXED_CHARS`: the generated column's expression, for the headline."""
        body = case((Message.text_body != "", Message.text_body), else_=func.coalesce(Message.html_body, ""))
        return func.left(body, INDEXED_CHARS)

    def snippets(self, ticket_ids: list[int]) -> dict[int, str]:
        """Each ticket's best-matching message's headline (one query: the best message of
        each by ``DISTINCT ON``, then the headline of those alone)."""
        hits = self.message_hits().where(Message.ticket_id.in_(ticket_ids)).subquery()
        best = select(hits.c.message_id).ext(distinct_on(hits.c.ticket_id)).order_by(hits.c.ticket_id, hits.c.rank.desc())
        options = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=8, ShortWord=0, "
                   'MaxFragments=2, FragmentDelimiter=" … "')
        config = cast(literal(POSTGRES_CONFIG), REGCONFIG)
        rows = db.session.execute(select(Message.ticket_id, func.ts_headline(config, self.indexed_body(), self.query,
                                                                             options)).where(Message.id.in_(best)))
        return {ticket_id: text for ticket_id, text in rows}


class _Sqlite:
    """SQLite: FTS5 tables ``messages_fts`` and ``tickets_fts``, matched with ``MATCH``."""

    @classmethod
    def searchable(cls, terms: list[Term]) -> list[Term]:
        return terms  # FTS5 has no stop words

    messages_fts = table("messages_fts", column("rowid"))
    tickets_fts = table("tickets_fts", column("rowid"))

    def __init__(self, terms: list[Term], any_of: bool = False) -> None:
        self.query = (" OR " if any_of else " AND ").join(
            '"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "") for t in terms)

    def _match(self, name: str):
        return literal_column(name).op("MATCH")(literal(self.query))

    def message_hits(self) -> Select:
        return select(Message.ticket_id.label("ticket_id"), (-func.bm25(literal_column("messages_fts"), 2.0, 1.0))
                      .label("rank"),
                      Message.id.label("message_id")) \
            .select_from(self.messages_fts).join(Message, Message.id == self.messages_fts.c.rowid) \
            .where(self._match("messages_fts"))

    def subject_hits(self) -> Select:
        return select(self.tickets_fts.c.rowid.label("ticket_id"),
                      (-func.bm25(literal_column("tickets_fts")) * _SUBJECT_WEIGHT).label("rank")) \
            .where(self._match("tickets_fts"))

    def snippets(self, ticket_ids: list[int]) -> dict[int, str]:
        """Each ticket's best-matching message's snippet (FTS5 makes them only in the query
        that matches: one for every matching message of these tickets, the best kept)."""
        snippet = func.snippet(literal_column("messages_fts"), 1, MARK_START, MARK_END, " … ", SNIPPET_WORDS)
        hits = self.message_hits().add_columns(snippet).where(Message.ticket_id.in_(ticket_ids))
        best: dict[int, tuple[float, str]] = {}
        for ticket_id, rank, _, text in db.session.execute(hits):
            if ticket_id not in best or rank > best[ticket_id][0]:
                best[ticket_id] = (rank, text)
        return {ticket_id: text for ticket_id, (_, text) in best.items()}


def _engine_class() -> type[_Postgres] | type[_Sqlite]:
    return _Postgres if db.engine.dialect.name == "postgresql" else _Sqlite


def _engine(terms: list[Term], any_of: bool = False) -> _Postgres | _Sqlite:
    """The full-text query of ``terms`` (all of them, or ``any_of`` them) on this database."""
    return _engine_class()(terms, any_of)


def _term_hits(terms: list[Term]) -> Select:
    """(ticket id, rank) of the tickets with a message holding every term (in its subject or
    body) or whose subject holds every term: one lookup in each index, the terms' hits
    intersected there. Rank: the sum over its matching messages, and its subject."""
    engine = _engine(terms)
    messages = engine.message_hits().subquery()
    hits = union_all(select(messages.c.ticket_id, messages.c.rank), engine.subject_hits()).subquery()
    return select(hits.c.ticket_id, func.sum(hits.c.rank).label("rank")).group_by(hits.c.ticket_id)


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _as_typed_hits(text: str, terms: list[Term]) -> Select:
    """Tickets whose requester's address or name contains ``text`` as typed, or whose subject
    holds it as typed: words that start so (``prin`` finds *Printer*: one lookup in the
    subjects' index), or, for text with no word at all (``%``), the characters themselves."""
    pattern = _like(text)
    requesters = select(Contact.id).where(or_(Contact.email.ilike(pattern, escape="\\"),
                                              Contact.name.ilike(pattern, escape="\\")))
    if terms:
        words_begun = [Term(t.text, prefix=bool(re.fullmatch(r"[^\W_]+", t.text))) for t in terms]
        subjects = select(_engine(words_begun).subject_hits().subquery().c.ticket_id)
    else:
        subjects = select(Ticket.id).where(Ticket.subject.ilike(pattern, escape="\\"))
    as_typed = union_all(subjects, select(Ticket.id).where(Ticket.requester_id.in_(requesters))).subquery()
    return select(as_typed.c[0].label("ticket_id"), literal(0.0).label("rank"))


@dataclass(frozen=True, slots=True)
class SearchResults:
    tickets: list[Ticket]
    total: int
    #: ticket id -> the highlighted snippet of its best-matching message (when a body matched).
    snippets: dict[int, Markup]


def search_tickets(query: Select, text: str, limit: int, offset: int = 0) -> SearchResults:
    """The tickets of ``query`` (a select of :class:`Ticket`, already limited to what the
    agent may see and filtered) that match ``text`` (see the module's docstring), best first
    (then the most recently updated): ``limit`` of them from ``offset``, how many match in
    all, and each one's snippet."""
    text = text.strip()
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    if reference := re.fullmatch(rf"\[?{prefix}-(\d{{1,9}})\]?", text, re.IGNORECASE):
        tickets = list(db.session.scalars(query.where(Ticket.id == int(reference.group(1)))))
        return SearchResults(tickets, len(tickets), {})
    terms = parse_terms(text)
    terms = _engine_class().searchable(terms) if terms else []
    sources = [_as_typed_hits(text, terms)]
    if terms:
        sources.append(_term_hits(terms))
    if number := re.fullmatch(r"\d{1,9}", text):
        sources.append(select(literal(int(number.group())).label("ticket_id"), literal(_REFERENCE_RANK).label("rank")))
    hits = union_all(*sources).subquery()
    ranked = select(hits.c.ticket_id, func.sum(hits.c.rank).label("rank")).group_by(hits.c.ticket_id).subquery()
    matching = query.join(ranked, ranked.c.ticket_id == Ticket.id)
    page = matching.with_only_columns(Ticket.id.label("id"), ranked.c.rank.label("rank"),
                                      func.count().over().label("total")) \
        .order_by(ranked.c.rank.desc(), Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit).offset(offset).subquery()
    rows = db.session.execute(  # the requesters, departments and assignees of one page only
        select(Ticket, page.c.total).join(page, page.c.id == Ticket.id)
        .options(db.joinedload(Ticket.requester), db.joinedload(Ticket.department), db.joinedload(Ticket.assignee))
        .order_by(page.c.rank.desc(), Ticket.updated_at.desc(), Ticket.id.desc())).all()
    if not rows:  # none at all, or a page past the last: how many there are, for the pager
        total = offset and db.session.scalar(select(func.count()).select_from(
            matching.with_only_columns(Ticket.id).subquery()))
        return SearchResults([], total or 0, {})
    tickets = [ticket for ticket, _ in rows]
    return SearchResults(tickets, rows[0][1], _snippets(terms, [t.id for t in tickets]) if terms else {})


def _snippets(terms: list[Term], ticket_ids: list[int]) -> dict[int, Markup]:
    """Each ticket's best-matching message (the one with most of the terms, ranked), as a
    highlighted snippet; none when only a message's subject matched."""
    texts = _engine(terms, any_of=True).snippets(ticket_ids)
    return {ticket_id: snippet_markup(text) for ticket_id, text in texts.items() if MARK_START in (text or "")}
