"""A small real JQL parser for the subset extractors use, compiled to a predicate and a sort key.

Supported: ``project``, ``key``/``issuekey``, ``id``, ``status``, ``statusCategory``, ``issuetype``,
``updated``/``created`` with ``= != > >= < <=``, ``in``/``not in``, ``AND``/``OR``/``NOT``/parentheses,
``development[pullrequests|commits].all|open > 0`` and ``ORDER BY updated|created|key|id ASC|DESC``.
Date literals are read in the user's time zone at minute precision; all-digit literals are epoch ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from simulator.data.issues import IssueCore

Pred = Callable[[IssueCore], bool]
MINUTE = 60_000
TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|=|>|<|~)|(?P<p>[(),])
                       |(?P<word>[^\s()=,!<>~"']+))""",
    re.VERBOSE,
)
DATE_FORMATS = ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"]
RELATIVE = re.compile(r"^([+-]?)(\d+)([mhdw])$")
UNITS = {"m": MINUTE, "h": 60 * MINUTE, "d": 1440 * MINUTE, "w": 7 * 1440 * MINUTE}
KNOWN = {
    "project",
    "key",
    "issuekey",
    "id",
    "updated",
    "created",
    "status",
    "statuscategory",
    "issuetype",
    "type",
}


class JqlError(ValueError):
    """A JQL the server rejects with 400; ``str(err)`` is the Jira error message."""


@dataclass
class Tok:
    """One token: kind is str/op/p/word; ``upper`` eases keyword checks."""

    kind: str
    text: str

    @property
    def upper(self) -> str:
        """Upper-cased text of a word token ("" otherwise), for keyword checks."""
        return self.text.upper() if self.kind == "word" else ""


@dataclass
class Query:
    """A parsed query: ``where`` is None for an unbounded query."""

    where: Pred | None
    order: list[tuple[str, bool]]  # (field, descending)


class Context:
    """What evaluation needs from the site: resolvers and the user's time zone."""

    def __init__(
        self,
        tz: tzinfo,
        now_ms: int,
        resolve: Callable[[str, str], Callable[[str], Any]],
        dev_count: Callable[[IssueCore, str, str], int],
    ) -> None:
        self.tz, self.now_ms, self.resolve, self.dev_count = tz, now_ms, resolve, dev_count


def tokenize(text: str) -> list[Tok]:
    """Split JQL into tokens (raises ``JqlError`` on an unterminated string)."""
    out: list[Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character. "
                f"(line 1, character {pos + 1})"
            )
        kind = m.lastgroup or "word"
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append(Tok(kind, value))
        pos = m.end()
    return out


def date_ms(literal: str, field: str, ctx: Context) -> tuple[int, bool]:
    """(epoch ms, minute precision?) of a date literal; epoch ms literals are exact."""
    if literal.isdigit():
        return int(literal), False
    rel = RELATIVE.match(literal)
    if rel:
        sign = -1 if rel.group(1) == "-" else 1
        ms = ctx.now_ms + sign * int(rel.group(2)) * UNITS[rel.group(3)]
        return ms - ms % MINUTE, True
    for fmt in DATE_FORMATS:
        try:
            dt = datetime.strptime(literal, fmt).replace(tzinfo=ctx.tz)
        except ValueError:
            continue
        return int(dt.timestamp() * 1000), True
    raise JqlError(
        f"Date value '{literal}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
        "e.g. '-5d', '4w 2d'."
    )


class Parser:
    """Recursive descent over the token list."""

    def __init__(self, tokens: list[Tok], ctx: Context) -> None:
        self.toks, self.i, self.ctx = tokens, 0, ctx

    def _peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self) -> Tok:
        tok = self._peek()
        if tok is None:
            raise JqlError(
                "Error in the JQL Query: Expecting either a value, list or function but got end of query."
            )
        self.i += 1
        return tok

    def _at_order(self) -> bool:
        tok = self._peek()
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        return bool(tok and tok.upper == "ORDER" and nxt and nxt.upper == "BY")

    def parse(self) -> Query:
        """The whole query: an optional where clause, then an optional ORDER BY."""
        where = None if self._peek() is None or self._at_order() else self._or_expr(depth=0)
        order: list[tuple[str, bool]] = []
        if self._at_order():
            self.i += 2
            order = self._order_list()
        if self._peek() is not None:
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{self._peek().text}'.")  # type: ignore[union-attr]
        return Query(where, order)

    def _order_list(self) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        while True:
            name = self._take().text.lower()
            if name == "issuekey":
                name = "key"
            if name not in ("updated", "created", "key", "id"):
                raise JqlError(f"Not able to sort using field '{name}'.")
            desc = False
            tok = self._peek()
            if tok is not None and tok.upper in ("ASC", "DESC"):
                desc = tok.upper == "DESC"
                self.i += 1
            out.append((name, desc))
            tok = self._peek()
            if tok is None or tok.text != ",":
                break
            self.i += 1
        if len(out) > 7:
            raise JqlError("The ORDER BY clause may contain at most 7 fields.")
        return out

    def _or_expr(self, depth: int) -> Pred:
        parts = [self._and_expr(depth)]
        while (tok := self._peek()) is not None and tok.upper == "OR":
            self.i += 1
            parts.append(self._and_expr(depth))
        if len(parts) == 1:
            return parts[0]
        alts = tuple(parts)
        return lambda c: any(p(c) for p in alts)

    def _and_expr(self, depth: int) -> Pred:
        parts = [self._not_expr(depth)]
        while (tok := self._peek()) is not None and tok.upper == "AND":
            self.i += 1
            parts.append(self._not_expr(depth))
        if len(parts) == 1:
            return parts[0]
        alls = tuple(parts)
        return lambda c: all(p(c) for p in alls)

    def _not_expr(self, depth: int) -> Pred:
        tok = self._peek()
        if tok is not None and tok.upper == "NOT":
            self.i += 1
            inner = self._not_expr(depth)
            return lambda c: not inner(c)
        if tok is not None and tok.text == "(" and tok.kind == "p":
            self.i += 1
            inner = self._or_expr(depth + 1)
            if self._at_order():
                raise JqlError("Error in the JQL Query: 'ORDER BY' is not allowed inside parentheses.")
            close = self._take()
            if close.text != ")":
                raise JqlError(f"Error in the JQL Query: Expecting ')' but got '{close.text}'.")
            return inner
        return self._clause()

    def _values(self) -> list[str]:
        tok = self._take()
        if tok.kind == "p" and tok.text == "(":
            out: list[str] = []
            while True:
                v = self._take()
                if v.kind == "p" and v.text == ")" and not out:
                    break
                out.append(v.text)
                sep = self._take()
                if sep.text == ")":
                    break
                if sep.text != ",":
                    raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{sep.text}'.")
            return out
        return [tok.text]

    def _clause(self) -> Pred:
        ftok = self._take()
        field = ftok.text.lower()
        if self._at_order() or ftok.kind == "p":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{ftok.text}'.")
        optok = self._take()
        op = optok.text.upper()
        if op == "NOT":
            if self._take().upper != "IN":
                raise JqlError("Error in the JQL Query: Expecting 'IN' after 'NOT'.")
            op = "NOT IN"
        if op not in ("=", "!=", ">", ">=", "<", "<=", "IN", "NOT IN"):
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{optok.text}'.")
        vals = self._values()
        if field.startswith("development[") or field.startswith("development."):
            return self._dev_clause(field, op, vals)
        if field not in KNOWN:
            raise JqlError(f"Field '{ftok.text}' does not exist or you do not have permission to view it.")
        if field in ("updated", "created"):
            return self._date_clause(field, op, vals)
        if op not in ("=", "!=", "IN", "NOT IN"):
            raise JqlError(f"The operator '{op.lower()}' is not supported by the '{ftok.text}' field.")
        getter = self.ctx.resolve(field, ftok.text)
        wanted = {getter(v) for v in vals}
        attr = {
            "project": "project",
            "key": "id",
            "issuekey": "id",
            "id": "id",
            "status": "status_id",
            "statuscategory": "status_id",
            "issuetype": "type_id",
            "type": "type_id",
        }[field]
        if field == "statuscategory":
            cat = self.ctx.resolve("statuscategory_of", "")
            match: Pred = lambda c: cat(c.status_id) in wanted  # noqa: E731
        else:
            match = lambda c: getattr(c, attr) in wanted  # noqa: E731
        return match if op in ("=", "IN") else (lambda c: not match(c))

    def _date_clause(self, field: str, op: str, vals: list[str]) -> Pred:
        if len(vals) != 1 or op in ("IN", "NOT IN"):
            raise JqlError(f"The operator '{op.lower()}' is not supported by the '{field}' field.")
        ms, minute = date_ms(vals[0], field, self.ctx)
        attr = "updated_ms" if field == "updated" else "created_ms"
        width = MINUTE if minute else 1  # a minute literal covers its whole minute
        tests: dict[str, Callable[[int], bool]] = {
            ">=": lambda v: v >= ms,
            ">": lambda v: v >= ms + width,
            "<": lambda v: v < ms,
            "<=": lambda v: v < ms + width,
            "=": lambda v: ms <= v < ms + width,
            "!=": lambda v: not (ms <= v < ms + width),
        }
        test = tests[op]
        return lambda c: test(getattr(c, attr))

    def _dev_clause(self, field: str, op: str, vals: list[str]) -> Pred:
        m = re.fullmatch(r"development\[(pullrequests|commits)\]\.(all|open)", field)
        if m is None or op not in (">", ">=", "=") or not vals[0].isdigit():
            raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")
        kind, which, n = m.group(1), m.group(2), int(vals[0])
        count = self.ctx.dev_count
        cmp: dict[str, Callable[[int], bool]] = {
            ">": lambda v: v > n,
            ">=": lambda v: v >= n,
            "=": lambda v: v == n,
        }
        test = cmp[op]
        return lambda c: test(count(c, kind, which))


def parse(text: str, ctx: Context) -> Query:
    """Parse JQL; raises ``JqlError`` (400) on syntax errors and unknown fields or values."""
    return Parser(tokenize(text or ""), ctx).parse()
