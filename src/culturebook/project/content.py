"""content/*.yaml -> validated, per-language Editions (with translation fallbacks and source locations)."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from culturebook.errors import Location, Problem, Problems, ProjectError, bad_file_name, control_in
from culturebook.errors import shortened as _cut
from culturebook.project.fieldtypes import BUILTIN_COLUMNS, Field, ListOf, MapOf, Markdown, Struct
from culturebook.project.imagefile import MAX_IMAGE_PIXELS, check_image_file  # noqa: F401 - the limit is part of this API
from culturebook.project.markup import DECORATIVE_ALT, ImageRef, parse_images
from culturebook.project.schema import SETTINGS, TEXTS
from culturebook.project.scripts import is_right_to_left
from culturebook.project.yamlsource import Node, load_yaml

SETTINGS_FILE = "publication.yaml"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}


@dataclass(frozen=True)
class TextRun:
    """One piece of text an edition prints, with its language and where it was written."""

    path: str
    text: str
    lang: str
    loc: Location


@dataclass(frozen=True)
class Image:
    """An image referenced from content, resolved inside the project."""

    src: str
    file: Path
    loc: Location


@dataclass(frozen=True)
class Edition:
    """Everything one language edition prints: plain data for the layouts, plus where it came from."""

    lang: str
    source_lang: str
    native_lang: str
    date: dt.date
    created: dt.datetime  # the PDFs' creation and modification date (UTC)
    theme: str
    poster_size: str
    data: dict
    runs: tuple[TextRun, ...]
    images: tuple[Image, ...]
    files: tuple[Path, ...]
    untranslated: tuple[str, ...] = ()  # fields shown in the source language, for want of a translation
    source_labels: dict = field(default_factory=dict)  # the source file's labels: (the fallback's)


@dataclass(frozen=True)
class Content:
    """The validated content of a project: settings and one Edition per language."""

    content_dir: Path
    settings: dict
    editions: tuple[Edition, ...]

    def edition(self, lang: str) -> Edition:
        return next(e for e in self.editions if e.lang == lang)


def load_content(project_root: Path, problems: Problems) -> Content:
    """Read and validate content/; every problem goes to `problems` (raised as one ProjectError)."""
    content_dir = project_root / "content"
    settings_path = content_dir / SETTINGS_FILE
    if not settings_path.is_file():
        raise ProjectError([_missing_settings(project_root, settings_path)])
    settings_node = load_yaml(settings_path)
    settings = _convert_file(SETTINGS, settings_node, settings_path, problems)
    problems.raise_if_errors()

    columns = settings_node.value.get("recipients")
    for key, child in (columns.value.items() if columns and isinstance(columns.value, dict) else ()):
        if key.lower() in BUILTIN_COLUMNS:
            problems.error(child.key_loc or child.loc, f"recipients: '{key}' is a column every "
                           "recipients CSV has; declare only the others",
                           f"remove it ({', '.join(BUILTIN_COLUMNS)} need no declaring)")
    problems.raise_if_errors()

    languages = settings["languages"]
    if not languages:
        problems.error(settings_node.value["languages"].loc, "languages must name at least one")
    lang_nodes: dict[str, Node] = {}
    listed = {item.value.strip(): item.loc for item in settings_node.value["languages"].value}
    for lang in dict.fromkeys(languages):
        path = content_dir / f"{lang}.yaml"
        if is_right_to_left(lang):  # refused before its text: a font for it would not help
            problems.error(listed[lang], f"{lang}: right-to-left languages are not supported yet "
                           "by culturebook's layouts",
                           f"remove {lang} from languages: for now; the layouts set every page "
                           "left to right (alignment, margins, running heads, page order), "
                           "which would read wrong")
            continue
        if not path.is_file():
            problems.error(listed[lang], f"no content file for language '{lang}'",
                           f"create content/{lang}.yaml (copy content/{languages[0]}.yaml)")
            continue
        try:
            node = load_yaml(path)
        except ProjectError as exc:
            problems.items.extend(exc.problems)
            continue
        _convert_file(TEXTS, node, path, problems, required=(lang == languages[0]))
        lang_nodes[lang] = node
    problems.raise_if_errors()

    source = languages[0]
    native = settings.get("native_language", source)
    created = source_date_epoch(problems)
    editions = []
    for lang in dict.fromkeys(languages):
        resolver = _Resolver(lang, source, native, project_root, problems)
        data = resolver.struct(TEXTS, lang_nodes[source], lang_nodes[lang] if lang != source else None, "")
        _name_values_twice(data, editions[0] if editions else None, lang, native, resolver.runs)
        data["title_secondary"] = None
        if editions and data.get("title") != editions[0].data.get("title"):
            data["title_secondary"] = editions[0].data["title"]
        editions.append(Edition(
            lang=lang, source_lang=source, native_lang=native, date=settings["date"],
            created=created or dt.datetime.combine(settings["date"], dt.time(), dt.UTC),
            theme=settings.get("theme", "default"),
            poster_size=settings.get("posters", {}).get("size", "A2"),
            data=data, runs=tuple(resolver.runs), images=tuple(resolver.images),
            files=(settings_path, content_dir / f"{source}.yaml", content_dir / f"{lang}.yaml"),
            untranslated=tuple(resolver.untranslated),
            source_labels=(editions[0].data if editions else data).get("labels") or {},
        ))
        _check_translation_fields(lang_nodes[lang], problems)
    for edition in editions:
        _check_placeholders(edition, settings, problems)
    problems.raise_if_errors()
    return Content(content_dir, settings, tuple(editions))


def source_date_epoch(problems: Problems) -> dt.datetime | None:
    """The time SOURCE_DATE_EPOCH names, if set: the reproducible-builds convention for the date a
    build stamps into its files. Without it the PDFs carry the content's `date`."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    try:
        return dt.datetime.fromtimestamp(int(text), dt.UTC)
    except (ValueError, OverflowError, OSError):
        problems.error(Location(Path("$SOURCE_DATE_EPOCH")),
                       f"SOURCE_DATE_EPOCH is '{text}', not a whole number of seconds since 1970",
                       "unset it, or set it to e.g. $(git log -1 --format=%ct)")
        return None


def _name_values_twice(data: dict, source: Edition | None, lang: str, native: str,
                       runs: list[TextRun]) -> None:
    """Give each value the name a reader sees beneath its own: the native name in other editions,
    the source-language name in the native-language edition."""
    for i, value in enumerate(data.get("values") or []):
        value["secondary"] = value["secondary_lang"] = None
        if lang != native and value.get("native_name"):
            value["secondary"], value["secondary_lang"] = value["native_name"], native
        elif source is not None:
            path = f"values[{i + 1}].name"
            run = next(r for r in source.runs if r.path == path)
            value["secondary"], value["secondary_lang"] = run.text, source.lang
            runs.append(TextRun(path, run.text, source.lang, run.loc))
        if value["secondary"] == value["name"]:
            value["secondary"] = value["secondary_lang"] = None


def _missing_settings(root: Path, path: Path):

    if not path.parent.is_dir():  # most likely run outside a project: say where we looked
        return Problem(Location(path.parent), f"no content/ folder in {root}",
                       "run culturebook in a project folder (one with content/publication.yaml), "
                       "pass --project DIR, or make a project with culturebook new DIR")
    return Problem(Location(path), "file not found: a project's settings are in this file",
                   "a project needs content/publication.yaml and content/<language>.yaml; "
                   "culturebook new DIR makes a project to start from")


def _convert_file(spec: Struct, node: Node, path: Path, problems: Problems, required=True) -> dict:
    if node.value is None:
        needed = ", ".join(f.key for f in spec.fields if f.required)
        problems.error(Location(path, 1, 1), "file is empty", f"it needs at least {needed}")
        return {}
    return spec.convert(node, "", problems, required=required) or {}


PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")


def placeholder_names(settings: dict) -> list[str]:
    """What a welcome letter may fill in: the recipient's name and email, and each column the
    settings declare under `recipients`."""
    return ["name", "email", *(settings.get("recipients") or {})]


def _check_placeholders(edition: Edition, settings: dict, problems: Problems) -> None:
    """A {column} in the welcome letter that no recipients CSV can fill is an error at its place."""
    known = placeholder_names(settings)
    for run in edition.runs:
        if run.path.startswith("email."):
            _check_email_placeholders(run, problems)
        if not run.path.startswith("welcome."):
            continue
        names = [m.group(1) for m in PLACEHOLDER.finditer(run.text)]
        if run.path.startswith("welcome.details."):  # a details key is a column, its text a label
            names = [run.path.removeprefix("welcome.details.")]
        for name in names:
            if name not in known:
                hint = (f"the columns are: {', '.join(known)}; declare others under recipients: in "
                        f"{SETTINGS_FILE}")
                problems.error(run.loc, f"{run.path} names '{{{name}}}', which no recipients "
                               "column fills", hint)


# What each field of `email:` may fill in (culturebook share).
EMAIL_PLACEHOLDERS = {"email.subject": ("name", "email"), "email.body": ("name", "email"),
                      "email.file_name": ("organisation", "document", "year", "lang"),
                      "email.documents.poster": ("poster",)}


def _check_email_placeholders(run: TextRun, problems: Problems) -> None:
    """A {word} in the email texts that share cannot fill is an error at its place; so is a line
    break in the subject, which would end the Subject header and start another."""

    what = control_in(run.text.strip()) if run.path == "email.subject" else ""
    message = f"email.subject holds {what}: a subject is one line of a mail header"
    if what and not any(p.location == run.loc and p.message == message for p in problems.items):
        problems.error(run.loc, message, "write it on one line (in YAML, a | block keeps its line "
                       "breaks and \\n in double quotes is one)")
    known = EMAIL_PLACEHOLDERS.get(run.path, ())
    for name in PLACEHOLDER.findall(run.text):
        if name not in known:
            hint = (f"{run.path} may use {', '.join('{' + k + '}' for k in known)}" if known
                    else f"{run.path} fills in nothing; write the word itself")
            message = f"{run.path} names '{{{name}}}', which share does not fill in"
            if not any(p.location == run.loc and p.message == message for p in problems.items):
                problems.error(run.loc, message, hint)  # once, not again for each edition


def _check_translation_fields(node: Node, problems: Problems) -> None:
    """Each path in translation.fields must name a field of the schema."""
    tr = node.value.get("translation") if isinstance(node.value, dict) else None
    if tr is None or not isinstance(tr.value, dict) or "fields" not in tr.value:
        return
    fields = tr.value["fields"]
    for item in fields.value if isinstance(fields.value, list) else []:
        if isinstance(item.value, str) and not _schema_path_exists(item.value.strip()):
            close = difflib.get_close_matches(item.value.strip(), _schema_paths(), n=1)
            problems.error(item.loc, f"translation.fields: no field '{item.value}'",
                           f"did you mean '{close[0]}'?" if close else
                           "use a top-level field (chapters) or an item field (values.statement)")


def _schema_paths() -> list[str]:
    """Every path translation.fields may name: top-level fields and the fields of list items."""
    paths = []
    for f in TEXTS.fields:
        paths.append(f.key)
        item = f.type.item if isinstance(f.type, ListOf) else f.type
        if isinstance(item, Struct):
            paths += [f"{f.key}.{g.key}" for g in item.fields]
    return paths


def _schema_path_exists(path: str) -> bool:
    spec: object = TEXTS
    for part in path.split("."):
        if isinstance(spec, ListOf):
            spec = spec.item
        if not isinstance(spec, Struct) or spec.field(part) is None:
            return False
        spec = spec.field(part).type
    return True


class _Resolver:
    """Walks the source-language and edition-language trees together, taking the edition's text
    where it exists and falling back to the source (with a warning) where it does not."""

    def __init__(self, lang, source, native, root: Path, problems: Problems):
        self.lang, self.source, self.native = lang, source, native
        self.root = root
        self.problems = problems
        self.runs: list[TextRun] = []
        self.images: list[Image] = []
        self.untranslated: list[str] = []

    def struct(self, spec: Struct, src: Node | None, tr: Node | None, where: str) -> dict:
        out = {}
        for f in spec.fields:
            s = _child(src, f.key)
            t = _child(tr, f.key)
            label = f"{where}.{f.key}" if where else f.key
            if t is not None:
                value = self.value(f, s, t, label, self.lang)
            elif s is not None and (f.inherit or self.lang == self.source):
                if tr is not None or where == "":
                    self.fallback(f, s, label)
                value = self.value(f, s, None, label, self.source)
            else:
                value = f.default
            out[f.key] = value  # every field is present, None when not given: layouts test truth
        return out

    def fallback(self, f: Field, src: Node, label: str) -> None:
        if self.lang == self.source or not f.translatable:
            return
        self.untranslated.append(label)
        self.problems.warn(
            src.key_loc or src.loc,
            f"{label} has no {self.lang} translation; the {self.lang} edition uses the "
            f"{self.source} text",
            f"add {label} to content/{self.lang}.yaml",
        )

    def value(self, f: Field, src: Node | None, tr: Node | None, label: str, lang: str):
        node = tr if tr is not None else src
        if f.key == "native_name":
            lang = self.native
        typ = f.type
        if isinstance(typ, Struct):
            return self.struct(typ, src, tr, label)
        if isinstance(typ, ListOf) and isinstance(typ.item, Struct):
            return self.items(typ.item, src, tr, label)
        if isinstance(typ, ListOf):
            texts = [str(c.value).strip() for c in node.value]
            for i, c in enumerate(node.value):
                self.run(f"{label}[{i + 1}]", texts[i], lang, c.loc)
            return texts
        if isinstance(typ, MapOf) and isinstance(node.value, dict):
            out = typ.convert(node, label, Problems())
            for key, child in node.value.items():
                if key in out and isinstance(out[key], str):
                    self.run(f"{label}.{key}", out[key], lang, child.loc)
            return out
        text = typ.convert(node, label, Problems())
        if text is None:
            return None
        if isinstance(text, str):
            self.run(label, text, lang, node.loc)
            if isinstance(typ, Markdown):
                self.check_images(text, node, label)
        return text

    def items(self, spec: Struct, src: Node | None, tr: Node | None, label: str) -> list:
        src_items = src.value if src is not None else []
        if tr is None:
            return [self.struct(spec, s, None, f"{label}[{i + 1}]") for i, s in enumerate(src_items)]
        tr_items = tr.value
        if self.lang != self.source and len(tr_items) != len(src_items):
            self.problems.error(
                tr.key_loc or tr.loc,
                f"{label} has {len(tr_items)} items here but {len(src_items)} in "
                f"content/{self.source}.yaml",
                "keep the same items in the same order in every language",
            )
            return []
        out = []
        for i, t in enumerate(tr_items):
            s = src_items[i] if self.lang != self.source else None
            where = f"{label}[{i + 1}]"
            if s is not None:
                self.check_id(spec, s, t, where)
            out.append(self.struct(spec, s, t, where))
        return out

    def check_id(self, spec: Struct, s: Node, t: Node, where: str) -> None:
        if spec.field("id") is None:
            return
        sid, tid = _child(s, "id"), _child(t, "id")
        if sid is not None and tid is not None and sid.value != tid.value:
            self.problems.error(
                tid.loc, f"{where}.id is '{tid.value}' here but '{sid.value}' in "
                f"content/{self.source}.yaml", "keep the same items in the same order")

    def run(self, path: str, text: str, lang: str, loc: Location) -> None:
        self.runs.append(TextRun(path, text, lang, loc))

    def check_images(self, text: str, node: Node, label: str) -> None:
        first_line = node.loc.line + (0 if node.quoted or "\n" not in text else 1)
        for ref in parse_images(text) + _refused_images(text):
            loc = _find_image(node.loc.path, first_line + ref.line, ref.src)
            if not ref.alt.strip():  # a screen reader would read nothing, or the file name
                self.problems.error(loc, f"{label}: image '{ref.src}' has no alt text",
                                    f"describe what it shows: ![what it shows]({ref.src}); an "
                                    f"image that is only decoration says so: "
                                    f"![{DECORATIVE_ALT}]({ref.src})")
            image = resolve_image(ref.src, self.root, loc, self.problems)
            if image is not None and image not in self.images:
                self.images.append(image)


# Markdown refuses images whose address is file:, javascript: and the like, and prints them as text;
# the writer still meant an image, so they are reported like any other outside reference.
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)")


def _find_image(path: Path, line: int, src: str) -> Location:
    """Where `![...](src)` is written: Markdown only knows its paragraph's first line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Location(path, line, 1)
    for n in range(max(line - 1, 0), len(lines)):
        at = lines[n].find(src)
        if at >= 0:
            start = lines[n].rfind("![", 0, at)
            return Location(path, n + 1, (start if start >= 0 else at) + 1)
    return Location(path, line, 1)


def _refused_images(text: str) -> list[ImageRef]:
    """Images Markdown would not make into images because of their address's scheme."""
    found = {ref.src for ref in parse_images(text)}
    return [ImageRef(m[2], m[1], text.count("\n", 0, m.start()))
            for m in _IMAGE_RE.finditer(text)
            if m[2] not in found and re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", m[2])]


def _child(node: Node | None, key: str) -> Node | None:
    if node is None or not isinstance(node.value, dict):
        return None
    child = node.value.get(key)
    return child if child is not None and child.value is not None else None


def resolve_image(src: str, root: Path, loc: Location, problems: Problems) -> Image | None:
    """Check an image reference: a file inside the project's content/ that decodes in full, of a
    sane pixel size (imagefile.check_image_file)."""
    if "://" in src or src.startswith(("/", "\\")) or ":" in src.split("/")[0]:
        problems.error(loc, f"image '{src}' is not a file in the project; nothing is fetched",
                       "put the image in content/ and refer to it by a relative path")
        return None
    why = bad_file_name(src)
    if why:
        problems.error(loc, f"image '{_cut(src)}' {why}", "refer to the image by its file's name")
        return None
    content_dir = (root / "content").resolve()
    file = (content_dir / src).resolve()
    if not file.is_relative_to(content_dir):
        problems.error(loc, f"image '{src}' is outside the project's content/ folder",
                       "put the image in content/ and refer to it by a relative path")
        return None
    if not file.is_file():
        shown = file.relative_to(root.resolve()).as_posix()
        problems.error(loc, f"image '{src}' not found (looked for {shown})")
        return None
    if file.suffix.lower() not in IMAGE_SUFFIXES:
        problems.error(loc, f"image '{src}' is not a PNG, JPEG, GIF, WebP or SVG file")
        return None
    if not check_image_file(file, src, loc, problems):
        return None
    return Image(src, file, loc)
