"""Patterns that only match at the start of a line, searched from line break to line break.

sre has no fast way into a ``^`` (MULTILINE) pattern: it tries the pattern at every
position of the text, and the ``^`` test fails at all but the line starts. The same
pattern behind a literal ``\\n`` is found with a scan for that character in C, and
only the line starts are tried. :class:`LinePattern` searches that way and hands back
the match of the pattern as written, so callers see no difference.
"""
from __future__ import annotations

import re
from typing import AnyStr, Generic, Iterator


def _shape(pattern: re.Pattern) -> tuple[bool, bool]:
    """(does every match begin at ``^`` (MULTILINE), with no top-level ``|``; does no match end
    with a line break or be empty). Both False when ``re``'s parser is not at hand."""
    try:
        from re import _constants as sre_constants, _parser as sre_parser
        tree = list(sre_parser.parse(pattern.pattern, pattern.flags))
    except (ImportError, AttributeError, re.error):
        return False, False
    at_line_start = (bool(pattern.flags & re.MULTILINE) and bool(tree)
                     and tree[0] == (sre_constants.AT, sre_constants.AT_BEGINNING))
    ends_with_newline, may_be_empty = _ending(tree, bool(pattern.flags & re.DOTALL), sre_constants)
    return at_line_start, not ends_with_newline and not may_be_empty


def _ending(items, dotall: bool, c) -> tuple[bool, bool]:
    """(may a match of this sequence end with a line break, may it be empty), erring to True."""
    for op, value in reversed(list(items)):
        if op is c.LITERAL or op is c.NOT_LITERAL:
            newline, empty = (value == 10) == (op is c.LITERAL), False
        elif op is c.ANY:
            newline, empty = dotall, False
        elif op is c.IN:
            newline, empty = _set_has_newline(value, c), False
        elif op is c.AT or op is c.ASSERT or op is c.ASSERT_NOT:
            newline, empty = False, True
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)):
            low, _, sub = value
            newline, empty = _ending(sub, dotall, c)
            empty = empty or low == 0
        elif op is c.SUBPATTERN:
            add_flags, sub = value[1], value[3]
            newline, empty = _ending(sub, dotall or bool(add_flags & re.DOTALL), c)
        elif op is c.BRANCH:
            endings = [_ending(alternative, dotall, c) for alternative in value[1]]
            newline, empty = any(n for n, _ in endings), any(e for _, e in endings)
        else:
            return True, True
        if newline:
            return True, empty
        if not empty:
            return False, False
    return False, True


def _set_has_newline(items, c) -> bool:
    for op, value in items:
        if op is c.NEGATE or (op is c.LITERAL and value == 10) or (op is c.RANGE and value[0] <= 10 <= value[1]):
            return True
        if op is c.CATEGORY and value not in (c.CATEGORY_DIGIT, c.CATEGORY_WORD, c.CATEGORY_NOT_SPACE):
            return True
        if op not in (c.LITERAL, c.RANGE, c.CATEGORY):
            return True
    return False


class LinePattern(Generic[AnyStr]):
    """A ``^...`` MULTILINE pattern with ``search``, ``finditer`` and ``findall`` as
    :class:`re.Pattern` has them (matches are the pattern's own). A pattern not of that shape
    is searched as it is. Compiled on first use, as the phrase tables are: the one-file command
    line does not pay for patterns its message never reaches."""

    __slots__ = ("_source", "_flags", "_compiled")

    def __init__(self, source: AnyStr, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: tuple[re.Pattern[AnyStr], re.Pattern[AnyStr] | None, bool, AnyStr] | None = None

    def _compile(self) -> tuple[re.Pattern[AnyStr], re.Pattern[AnyStr] | None, bool, AnyStr]:
        if self._compiled is None:
            source = self._source
            pattern = re.compile(source, self._flags)
            newline = b"\n" if isinstance(source, bytes) else "\n"
            at_line_start, whole_lines = _shape(pattern)
            after_break = None
            if source[:1] in ("^", b"^") and at_line_start:
                after_break = re.compile(newline + source[1:], pattern.flags)
            self._compiled = (pattern, after_break, whole_lines, newline)
        return self._compiled

    @property
    def pattern(self) -> re.Pattern[AnyStr]:
        """The pattern as written, compiled."""
        return self._compile()[0]

    @property
    def after_break(self) -> re.Pattern[AnyStr] | None:
        """The same pattern behind a literal line break (None when the shortcut does not apply)."""
        return self._compile()[1]

    @property
    def whole_lines(self) -> bool:
        """No match ends with a line break or is empty (so ``re``'s findall can run past the first)."""
        return self._compile()[2]

    def search(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> re.Match[AnyStr] | None:
        pattern, after_break, _, newline = self._compiled or self._compile()
        end = len(text) if endpos is None else endpos
        if after_break is None:
            return pattern.search(text, pos, end)
        pos = max(pos, 0)
        if pos == 0 or text[pos - 1:pos] == newline:
            match = pattern.match(text, pos, end)
            if match is not None:
                return match
        found = after_break.search(text, pos, end)
        return None if found is None else pattern.match(text, found.start() + 1, end)

    def finditer(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[AnyStr]]:
        """Every match from left to right (a pattern of this kind never matches the empty string
        in the tables that use it; one that does is left to ``re``)."""
        end = len(text) if endpos is None else endpos
        while True:
            match = self.search(text, pos, end)
            if match is None:
                return
            if match.end() == match.start():
                yield from self.pattern.finditer(text, match.start(), end)
                return
            yield match
            pos = match.end()

    def findall(self, text: AnyStr, pos: int = 0, endpos: int | None = None) -> list:
        pattern, after_break, whole_lines, newline = self._compiled or self._compile()
        end = len(text) if endpos is None else endpos
        if after_break is not None and whole_lines and pattern.groups:
            # No match ends with a line break, so after one match the next begins past a line
            # break that the same pattern behind "\n" finds: re's own findall after the first line
            # (its groups are the pattern's; only the whole match would hold the "\n").
            pos = max(pos, 0)
            first = pattern.match(text, pos, end) if pos == 0 or text[pos - 1:pos] == newline else None
            rest = after_break.findall(text, first.end() if first else pos, end)
            return [self._found(first), *rest] if first else rest
        return [self._found(match) for match in self.finditer(text, pos, endpos)]

    def _found(self, match: re.Match[AnyStr]):
        """What ``findall`` lists for one match: the whole match, its one group or all groups."""
        empty = match.group(0)[:0]
        if self.pattern.groups == 0:
            return match.group(0)
        if self.pattern.groups == 1:
            return match.group(1) or empty
        return tuple(empty if group is None else group for group in match.groups())
