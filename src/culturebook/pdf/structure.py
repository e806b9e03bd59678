"""A tagged PDF's structure tree read back: what a screen reader finds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from culturebook.pdf.tokens import TOKEN


@dataclass
class Structure:
    """What a tagged PDF tells a screen reader, in reading order."""

    marked: bool = False  # /MarkInfo /Marked true
    lang: str = ""  # the catalog's /Lang
    display_title: bool = False  # /ViewerPreferences /DisplayDocTitle true
    tree: bool = False  # a /StructTreeRoot with elements
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, text)
    figures: list[str | None] = field(default_factory=list)  # each /Figure's /Alt (None: none)
    languages: list[tuple[str, str]] = field(default_factory=list)  # (text, /Lang) of passages
    untagged: dict[int, int] = field(default_factory=dict)  # page (1-based) -> text runs untagged
    tags: list[str] = field(default_factory=list)  # every structure type, in order
    text: str = ""  # all the tagged text, in reading order (empty when read without text)


def read_structure(reader, text: bool = True) -> Structure:
    """Read the structure tree of a PDF (a pypdf PdfReader) and the marked content of its pages.

    Without `text`, the text of headings and passages is left empty and the pages are only
    tokenised (about 20 times quicker: what preflight does on every file a build writes)."""
    root = reader.trailer["/Root"].get_object()
    info = Structure()
    mark = _get(root, "/MarkInfo")
    info.marked = bool(mark is not None and _get(mark, "/Marked") in (True, "true"))
    info.lang = str(_get(root, "/Lang") or "")
    prefs = _get(root, "/ViewerPreferences")
    info.display_title = bool(prefs is not None and _get(prefs, "/DisplayDocTitle") in (True, "true"))
    pages = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    texts: dict[int, dict[int, str]] = {}
    for number, page in enumerate(reader.pages):
        if text:
            texts[number], untagged = _marked_text(page)
        else:
            contents = page.get_contents()
            untagged = _untagged_operators(contents.get_data() if contents is not None else b"")
        if untagged:
            info.untagged[number + 1] = untagged
    tree = _get(root, "/StructTreeRoot")
    if tree is None:
        return info

    def text_of(element, page: int | None) -> str:
        if _get(element, "/ActualText") is not None:
            return str(_get(element, "/ActualText"))
        out = []
        kids = _get(element, "/K")
        page = _page_of(element, pages, page)
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, int):
                out.append(texts.get(page, {}).get(kid, ""))
            elif isinstance(kid, dict) and _get(kid, "/Type") == "/MCR":
                out.append(texts.get(_page_of(kid, pages, page), {}).get(int(kid["/MCID"]), ""))
            elif isinstance(kid, dict) and "/S" in kid:
                out.append(text_of(kid, page))
        return "".join(out)

    def walk(element, page: int | None) -> None:
        kids = _get(element, "/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if not isinstance(kid, dict) or "/S" not in kid:
                continue
            kind = str(kid["/S"])[1:]
            info.tags.append(kind)
            kid_page = _page_of(kid, pages, page)
            if re.fullmatch(r"H[1-6]", kind):
                info.headings.append((int(kind[1]), " ".join(text_of(kid, kid_page).split())))
            if kind == "Figure":
                alt = _get(kid, "/Alt")
                info.figures.append(str(alt) if alt is not None else None)
            if _get(kid, "/Lang") is not None:
                info.languages.append((" ".join(text_of(kid, kid_page).split()),
                                       str(_get(kid, "/Lang"))))
            walk(kid, kid_page)

    walk(tree, None)
    info.tree = bool(info.tags)
    if text:
        info.text = text_of(tree, None)
    return info


def _get(obj, key):
    value = obj.get(key) if hasattr(obj, "get") else None
    return value.get_object() if hasattr(value, "get_object") else value


def _page_of(element, pages: dict[int, int], default: int | None) -> int | None:
    ref = element.get("/Pg") if hasattr(element, "get") else None
    return pages.get(ref.idnum, default) if ref is not None and hasattr(ref, "idnum") else default


def _marked_text(page) -> tuple[dict[int, str], int]:
    """The text of each marked-content id on a page, and how many text-showing operators draw
    outside any marked content (neither tagged nor an artifact)."""
    stack: list[int | None] = []
    texts: dict[int, list[str]] = {}
    untagged = 0

    def before(operator, operands, cm, tm):
        nonlocal untagged
        if operator == b"BDC":
            props = operands[1] if len(operands) > 1 else None
            props = props.get_object() if hasattr(props, "get_object") else props
            mcid = props.get("/MCID") if isinstance(props, dict) else None
            stack.append(int(mcid) if mcid is not None else -1)
        elif operator == b"BMC":
            stack.append(-1)
        elif operator == b"EMC" and stack:
            stack.pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"') and not stack:
            untagged += 1

    def text(value, cm, tm, font, size):
        mcid = next((m for m in reversed(stack) if m is not None and m >= 0), None)
        if mcid is not None and value:
            texts.setdefault(mcid, []).append(value)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return {k: "".join(v) for k, v in texts.items()}, untagged


def _untagged_operators(data: bytes) -> int:
    """How many text-showing operators of a content stream draw outside marked content."""

    depth = untagged = 0
    for match in TOKEN.finditer(data):
        operator = match["o"]
        if operator is None:
            continue
        if operator in (b"BDC", b"BMC"):
            depth += 1
        elif operator == b"EMC":
            depth = max(0, depth - 1)
        elif operator in (b"Tj", b"TJ", b"'", b'"') and not depth:
            untagged += 1
    return untagged
