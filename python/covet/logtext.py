"""Client text on its way into a log line: a request path is decoded (`%0D%0A` is a real line
break by then), and a line break in it would let a client forge log lines of its own."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with control and other non-printing characters backslash-escaped (`\\r`, `\\x00`,
    `\\u2028`); printable text, the usual case, is returned as it is, at the cost of one check."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
