"""The field reference (docs/content.md), written from the schema's declarations.

Every field a project's YAML files may hold is declared once, in schema.py (content and settings)
and brand.py (themes), with its type, whether it is required, its default, an example, and where
the default layouts show it. This module writes those declarations out as Markdown, so the
reference cannot drift from what `culturebook check` accepts: a test compares the file with what
this writes.
"""

from __future__ import annotations

from culturebook.project.brand import THEME
from culturebook.project.fieldtypes import Field, ListOf, MapOf, Struct
from culturebook.project.schema import SETTINGS, TEXTS

HEADER = """\
# Content reference

Every field of a culturebook project's YAML files: its type, whether it is required, its default,
an example, and where the default theme shows it. This file is written by
`culturebook reference -o docs/content.md` from the schema `culturebook check` validates against;
do not edit it by hand.

A project has three kinds of YAML file:

- `content/publication.yaml`: settings shared by every edition;
- `content/<language>.yaml`, one per language listed in `languages` (e.g. `content/en.yaml`): the
  texts of that edition. An edition may leave fields out: it then shows the first language's text,
  and `culturebook check` lists those fields as untranslated (except the fields marked "each
  file's own");
- `layouts/<theme>/theme.yaml`: the theme's brand (colours, sizes, fonts, words, print settings).

Text fields are plain text; Markdown fields take paragraphs, *emphasis*, **strong**, lists,
[links](https://example.com) and images from the `content/` folder.
"""


def reference() -> str:
    """The whole reference, as Markdown."""

    parts = [HEADER]
    for title, struct, note in (
        ("content/publication.yaml", SETTINGS, "Settings of the publication, for every edition."),
        ("content/&lt;language&gt;.yaml", TEXTS, "The texts of one edition, in its language."),
        ("layouts/&lt;theme&gt;/theme.yaml", THEME, "A theme: the brand the layouts are filled "
         "with. A theme that `extends` another starts from that theme's settings."),
    ):
        parts.append(f"## {title}\n\n{note}\n")
        parts += _section(struct, "")
    return "\n".join(parts)


def _section(struct: Struct, path: str) -> list[str]:
    """A table of `struct`'s fields, then a section for each field holding fields of its own."""
    rows = ["| field | type | required | default | example | shown in | what it is |",
            "|---|---|---|---|---|---|---|"]
    nested = []
    for spec in struct.fields:
        name = f"{path}.{spec.key}" if path else spec.key
        rows.append("| " + " | ".join([
            f"`{name}`", _type(spec), "yes" if spec.required else "",
            f"`{_default(spec)}`" if spec.default is not None else "",
            _example(spec), spec.shown_in, _cell(spec.doc + _notes(spec)),
        ]) + " |")
        inner = _struct_of(spec.type)
        if inner is not None:
            suffix = {ListOf: "[]", MapOf: ".<name>"}.get(type(spec.type), "")
            nested.append((name + suffix, inner))
    out = ["\n".join(rows) + "\n"]
    for name, inner in nested:
        out.append(f"### `{name}`\n")
        out += _section(inner, name)
    return out


def _struct_of(kind) -> Struct | None:
    """The Struct a field holds: itself, or the items of a list or mapping of them."""
    while isinstance(kind, (ListOf, MapOf)):
        kind = kind.item
    return kind if isinstance(kind, Struct) else None


def _type(spec: Field) -> str:
    kind = spec.type
    if isinstance(kind, Struct):
        return "mapping"
    if isinstance(kind, MapOf) and isinstance(kind.item, Struct):
        return f"mapping of {kind.item.name}"
    if isinstance(kind, ListOf) and isinstance(kind.item, Struct):
        return f"list of {kind.item.name}"
    return _cell(kind.name)


def _default(spec: Field) -> str:
    """The default as it would be written in YAML."""
    value = spec.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if getattr(spec.type, "name", "") == "size" and isinstance(value, int) and value % 2**20 == 0:
        return f"{value // 2**20} MB"
    return str(value)


def _example(spec: Field) -> str:
    if not spec.example:
        return ""
    if spec.example.startswith("|"):  # a block of text, on indented lines below `key: |`
        text = spec.example.removeprefix("|").strip()
        return f"`{spec.key}: \\|` then, indented: `{_cell(text)}`"
    return f"`{_cell(spec.example)}`"


def _notes(spec: Field) -> str:
    notes = []
    if not spec.inherit:
        notes.append("each file's own: not taken from the first language")
    elif not spec.translatable:
        notes.append("the same in every edition")
    return f" ({'; '.join(notes)})" if notes else ""


def _cell(text: str) -> str:
    """`text` made safe for one table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
