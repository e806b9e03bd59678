"""A PDF content stream tokenised by one regex: operands as bytes, arrays and dictionaries, and
inline images cut out before the walk (pdf.scan walks the operations, pdf.structure reads the
marked content).

pypdf's `ContentStream` parser takes 0.1-0.3 s per booklet; preflight runs on every PDF a build
writes, so its content streams are read with this instead.
"""

from __future__ import annotations

import re

# One token per match (with the whitespace before it; anything unexpected is skipped). Values stay
# bytes, numbers included (converted only where an operator needs them): b"1.5", b"/Name", b"<hex>",
# b"(literal)", b"[...]" (a flat array, one token: TJ's), list (a nested array), DictOperand, and
# operators (group "o").
# Possessive repeats (Python 3.11) keep an unterminated string or array linear.
_STRING = rb"\((?:[^()\\]++|\\.|\((?:[^()\\]++|\\.|\((?:[^()\\]++|\\.)*+\))*+\))*+\)"
TOKEN = re.compile(rb"""[ \t\r\n\f\x00]*+(?:
   (?P<n>[-+]?(?:\d+\.?\d*|\.\d+))
  |(?P<o>[A-Za-z'"*][A-Za-z0-9'"*]*)
  |(?P<h><[0-9A-Fa-f \t\r\n\f\x00]*>)
  |(?P<t>\[(?:[^\[\]()%]++|""" + _STRING + rb""")*+\])
  |(?P<a>\[|<<)
  |(?P<c>\]|>>)
  |(?P<m>/[^ \t\r\n\f\x00/\[\]()<>{}%]*)
  |(?P<s>""" + _STRING + rb""")
  |(?P<k>%[^\r\n]*))
""", re.X | re.S)
INLINE_IMAGE = re.compile(rb"(?:^|(?<=[ \t\r\n\f\x00]))BI[ \t\r\n\f\x00]")
_ID = re.compile(rb"[ \t\r\n\f\x00]ID[ \t\r\n\f\x00]")
_EI = re.compile(rb"[ \t\r\n\f\x00]EI(?=[ \t\r\n\f\x00]|$)")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


class DictOperand(list):
    """A dictionary operand, kept as its flat key/value list."""


def string_bytes(token: bytes) -> bytes:
    """The bytes of a hex <...> or literal (...) string token."""
    if token[:1] == b"<":
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", token).decode()
        return bytes.fromhex(digits + "0" * (len(digits) % 2))
    body = token[1:-1]
    if b"\\" not in body:
        return body
    out, i = bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != 0x5C or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif 0x30 <= nxt <= 0x37:
            octal = re.match(rb"[0-7]{1,3}", body[i + 1:i + 4])[0]
            out.append(int(octal, 8) & 0xFF)
            i += 1 + len(octal)
        elif nxt in (0x0D, 0x0A):  # a line continuation
            i += 2 + (nxt == 0x0D and body[i + 2:i + 3] == b"\n")
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


def split_inline_images(data: bytes) -> list:
    """Content bytes split around inline images (BI ... ID <binary> EI): bytes pieces, and a DictOperand
    of each inline image's entries in their place."""
    pieces: list = []
    pos = 0
    while True:
        begin = INLINE_IMAGE.search(data, pos)
        if begin is None:
            break
        start = _ID.search(data, begin.end() - 1)
        if start is None:
            break
        end = _EI.search(data, start.end())
        pieces.append(data[pos:begin.start()])
        pieces.append(DictOperand(operands_of(data[begin.end() - 1:start.start() + 1])))
        pos = len(data) if end is None else end.end()
    pieces.append(data[pos:])
    return pieces


def operands_of(data: bytes) -> list:
    """The objects in `data` (no operators), arrays as lists and dictionaries as DictOperand."""
    operands: list = []
    nested: list[list] = []
    for match in TOKEN.finditer(data):
        kind = match.lastgroup
        if kind == "k":
            continue
        if kind == "a":
            nested.append(operands)
            operands = [] if match[kind] == b"[" else DictOperand()
        elif kind == "c":
            if nested:
                inner, operands = operands, nested.pop()
                operands.append(inner)
        elif kind == "t":
            operands.append(operands_of(match[kind][1:-1]))
        else:
            operands.append(match[kind])
    return operands


def content_operators(data: bytes) -> list[tuple[str, int]]:
    """(operator, operand count) of each operation in a content stream, as the walker tokenises it
    (for testing the tokeniser against pypdf's parser)."""
    result = []
    for piece in split_inline_images(data) if INLINE_IMAGE.search(data) else [data]:
        if isinstance(piece, DictOperand):
            result.append(("INLINE IMAGE", len(piece) // 2))
            continue
        operands, nested = 0, 0
        for match in TOKEN.finditer(piece):
            kind = match.lastgroup
            if kind == "k":
                continue
            if kind == "a":
                nested += 1
            elif kind == "c":
                nested -= 1
                operands += nested == 0
            elif kind == "o" and not nested:
                result.append((match[kind].decode("latin-1"), operands))
                operands = 0
            elif not nested:
                operands += 1
    return result
