"""The Jinja environment and the filters and texts the layouts use."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from culturebook.errors import Location
from culturebook.project.brand import Brand
from culturebook.project.content import Edition
from culturebook.project.markup import BIND, KEEP_OPEN, keep_last, render_inline, render_markdown
from culturebook.project.scripts import units


def template_environment(brand: Brand, cache: Path | None = None,
                         content_dir: Path | None = None) -> jinja2.Environment:
    """The layouts' Jinja environment: autoescaped, strict about undefined names, with the
    `markdown` and `inline` filters (images relative to `content_dir`). With a `cache` folder,
    compiled templates are kept there (checked against their source), so a build that renders
    nothing does not compile them again."""
    bytecode = None
    if cache is not None:
        folder = cache / "jinja" / jinja2.__version__
        try:
            folder.mkdir(parents=True, exist_ok=True)
            bytecode = _QuietBytecodeCache(str(folder))
        except OSError:
            pass  # no cache: templates are compiled each time
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in brand.dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=bytecode,
    )
    env.filters["markdown"] = lambda text: Markup(render_markdown(text or "", content_dir))
    env.filters["inline"] = lambda text: Markup(render_inline(text or ""))
    env.filters["fit"] = _fit_text
    env.filters["keep_last"] = lambda text: Markup(keep_last(str(text or "")))
    return env


@jinja2.pass_context
def _fit_text(context, text, field: str) -> Markup:
    """A fitted text (`data-fit`) as copyfitting sets it: for measuring, each break unit in a
    span; then with a headline's line breaks, or its last two units kept on one line."""
    fit = context.get("fit") or {}
    pieces = units(str(text or ""))

    def joined(first: int, last: int) -> str:
        return "".join((" " if space and n > first else "") + str(escape(unit))
                       for n, (unit, space) in enumerate(pieces[first:last + 1], first))

    if fit.get("measure"):
        return Markup("".join((" " if space else "") + f"<span data-u>{escape(unit)}</span>"
                              for unit, space in pieces))
    lines = (fit.get("lines") or {}).get(field)
    if lines:
        return Markup("<br>".join(joined(first, last) for first, last in lines))
    keep = (fit.get("keep") or {}).get(field)
    if keep is not None:
        space = " " if pieces[keep][1] else ""
        if pieces[-1][1]:  # two words: a no-break space binds them
            return Markup(f"{joined(0, keep - 1)}{space}{escape(pieces[keep][0])}{BIND}"
                          f"{escape(pieces[-1][0])}")
        return Markup(f"{joined(0, keep - 1)}{space}{KEEP_OPEN}"
                      f"{joined(keep, len(pieces) - 1)}</span>")
    return Markup(joined(0, len(pieces) - 1))


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A cache that cannot be written is no cache, not a failed build."""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def subject_slug(subject: dict) -> str:
    """A poster's name in messages and file names: its value's id, or mission-vision."""
    return subject["value"]["id"] if subject["kind"] == "value" else "mission-vision"


def poster_subjects(edition: Edition, labels: dict) -> list[tuple[str, str, dict]]:
    """(slug, outline title, template subject) for the mission/vision poster and each value."""
    data = edition.data
    title = labels["mission"] + (f" · {labels['vision']}" if data.get("vision") else "")
    subjects = [("mission-vision", title, {"kind": "mission"})]
    for i, value in enumerate(data.get("values") or [], 1):
        subjects.append((value["id"], value["name"], {
            "kind": "value", "value": {**value, "number": f"{i:02d}"}, "field": f"values[{i}]"}))
    return subjects


def title_lines(title: str) -> list[str]:
    """Break a display title after its commas; a CJK comma ending a line is dropped."""
    parts = re.findall(r"[^,，、]+(?:[,，、]\s*|$)", title)
    lines = [p.strip() for p in parts if p.strip()]
    return [line[:-1] if line.endswith(("，", "、")) else line for line in lines] or [title]


# An element that shows a content field: its tag name, the attributes around data-field, the path.
_FIELD_ELEMENT = re.compile(r'<([A-Za-z][A-Za-z0-9]*)([^<>]*?\sdata-field="([^"]*)"[^<>]*)>')


def fell_back(path: str, untranslated: tuple[str, ...]) -> bool:
    """Whether the field at `path` (values[2].statement) is, or is inside, an untranslated field."""
    return any(path == u or path.startswith((f"{u}.", f"{u}[")) for u in untranslated)


def mark_untranslated(html: str, edition: Edition) -> str:
    """Every element showing a field that fell back to the source language (data-field="<path>")
    gets lang="<source>", unless it already names a language: so the text is set, hyphenated and
    shaped as what it is, and the tagged PDF gives it /Lang (a screen reader reads it in that
    language's voice). One pass over the filled layout, so no layout has to ask per field."""
    if not edition.untranslated:
        return html

    def mark(match: re.Match) -> str:
        if not fell_back(str(Markup(match[3]).unescape()), edition.untranslated) or \
                re.search(r"\slang=", match[2]):
            return match[0]
        return f'<{match[1]} lang="{escape(edition.source_lang)}"{match[2]}>'

    return _FIELD_ELEMENT.sub(mark, html)


COVER_FIELDS = ("title", "subtitle", "organisation", "edition")


def untranslated_note(edition: Edition, labels: dict) -> Markup:
    """The inside cover's sentence naming the parts of the booklet still in the source language
    (the `untranslated` label, {parts} filled in): sections by their labels, chapters by their
    titles; a title itself untranslated is marked with its language. Empty when none are."""
    untranslated, data = edition.untranslated, edition.data
    parts: list[tuple[str, str | None]] = []

    def title(path: str, text: str | None) -> None:
        if text:
            parts.append((text, edition.source_lang if fell_back(path, untranslated) else None))

    for path in untranslated:
        top = re.match(r"[a-z_]*", path)[0]
        number = re.match(r"chapters\[(\d+)\]", path)
        if top in COVER_FIELDS:
            parts.append((labels["cover"], None))
        elif top in ("mission", "vision", "values", "milestones"):
            parts.append((labels[top], None))
        elif top == "highlights":
            parts.append((labels["quotes"], None))
        elif top == "chapters":
            chapters = data.get("chapters") or []
            for n in [int(number[1])] if number else range(1, len(chapters) + 1):
                title(f"chapters[{n}].title", chapters[n - 1]["title"])
        elif top == "closing":
            title("closing.title", (data.get("closing") or {}).get("title"))
    if not parts:
        return Markup("")
    comma = "、" if edition.lang.split("-")[0] in ("zh", "ja", "ko") else ", "
    listed = Markup(comma).join(Markup(f'<span lang="{escape(lang)}">{escape(text)}</span>')
                                if lang else escape(text) for text, lang in dict.fromkeys(parts))
    return Markup(str(escape(labels["untranslated"])).replace("{parts}", listed))


DEFAULT_MONTHS = ("January February March April May June July August September October "
                  "November December").split()


def format_date(date, labels: dict) -> str:
    """A date as the edition's labels spell it: date_format with {day}, {month}, {month_name}, {year}."""
    months = [m.strip() for m in labels.get("months", "").split(",") if m.strip()] or DEFAULT_MONTHS
    pattern = labels.get("date_format", "{day} {month_name} {year}")
    return pattern.format(day=date.day, month=date.month, year=date.year,
                          month_name=months[(date.month - 1) % len(months)])


def _template_frame(exc: BaseException, dirs: tuple[Path, ...]) -> Location | None:
    """The innermost traceback frame that is inside a layout folder (Jinja maps it to the template)."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if any(path.is_relative_to(d) for d in dirs if path.is_absolute()):
            found = Location(path, frame.lineno or 0, 1)
    return found
