"""A reader for the RON subset the exporter writes and Bevy's meta files use (no RON parser installs here).

Structs become dicts (``"$name"`` holds a struct name when written), unnamed tuples become tuples, named tuples
and newtypes become ``{"$name": name, "$items": [...]}``, unit variants become ``Unit`` strings.
"""
from __future__ import annotations

import re

TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()\[\]{}:,])
""", re.VERBOSE | re.DOTALL)


class Unit(str):
    """A unit variant or bare identifier such as ``Nearest``."""


class RonError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            line = text.count("\n", 0, position) + 1
            raise RonError(f"line {line}: unexpected {text[position:position + 10]!r}")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), text.count("\n", 0, position) + 1))
        position = match.end()
    return tokens


def loads(text: str):
    parser = _Parser(_tokens(text))
    value = parser.value()
    if parser.position != len(parser.tokens):
        raise RonError(f"line {parser.peek()[2]}: trailing {parser.peek()[1]!r}")
    return value


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.position = 0

    def peek(self, ahead: int = 0):
        index = self.position + ahead
        return self.tokens[index] if index < len(self.tokens) else ("end", "", -1)

    def take(self, expected: str | None = None):
        token = self.peek()
        if expected is not None and token[1] != expected:
            raise RonError(f"line {token[2]}: expected {expected!r}, got {token[1]!r}")
        self.position += 1
        return token

    def value(self):
        kind, text, line = self.peek()
        if kind == "string":
            self.take()
            return bytes(text[1:-1], "utf-8").decode("unicode_escape") if "\\" in text else text[1:-1]
        if kind == "number":
            self.take()
            return float(text) if any(ch in text for ch in ".eE") else int(text)
        if kind == "ident":
            self.take()
            if text in ("true", "false"):
                return text == "true"
            if self.peek()[1] == "(":
                return self.group(text)
            return Unit(text)
        if text == "(":
            return self.group("")
        if text == "[":
            return self.sequence("[", "]")
        if text == "{":
            return self.mapping()
        raise RonError(f"line {line}: unexpected {text!r}")

    def sequence(self, opening: str, closing: str) -> list:
        self.take(opening)
        items = []
        while self.peek()[1] != closing:
            items.append(self.value())
            if self.peek()[1] != closing:
                self.take(",")
        self.take(closing)
        return items

    def mapping(self) -> dict:
        self.take("{")
        result = {}
        while self.peek()[1] != "}":
            key = self.value()
            self.take(":")
            result[key] = self.value()
            if self.peek()[1] != "}":
                self.take(",")
        self.take("}")
        return result

    def group(self, name: str):
        is_struct = self.peek(1)[0] == "ident" and self.peek(2)[1] == ":"
        if not is_struct:
            items = self.sequence("(", ")")
            return {"$name": name, "$items": items} if name else tuple(items)
        self.take("(")
        fields = {"$name": name} if name else {}
        while self.peek()[1] != ")":
            key = self.take()[1]
            self.take(":")
            fields[key] = self.value()
            if self.peek()[1] != ")":
                self.take(",")
        self.take(")")
        return fields
