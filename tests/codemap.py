"""The code map, written from the code: docs/architecture.md and the short map in README.md.

Each package and base module of src/culturebook/, in the layers tests/test_layers.py defines (top
first), with the first line of its docstring and its In: and Out: lines; for a package, each of its
modules with the first paragraph of its docstring. `make docs` runs it; tests/test_docs.py fails
when what it would write differs from what is there.

    python tests/codemap.py           # write docs/architecture.md and README.md's map
    python tests/codemap.py --check   # exit status 1, and say which, when either is stale
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "culturebook"
LAYERS_FILE = ROOT / "tests" / "test_layers.py"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
README_START = "<!-- code map: written by tests/codemap.py (make docs); do not edit by hand -->"
README_END = "<!-- end of code map -->"

INTRO = """\
# Architecture

<!-- Written by tests/codemap.py (make docs) from the docstrings under src/culturebook/ and the
layers in tests/test_layers.py; tests/test_docs.py fails when it is out of date. Do not edit. -->

The code under `src/culturebook/` is a stack of packages over a few base modules. Each package's
`__init__.py` says in its docstring what goes in and what comes out. A module may import from its
own package and from lower layers only; packages of the same layer are independent of each other.
`tests/test_layers.py` holds the layers and fails when an import goes up a layer, packages of one
layer import each other, or imports form a cycle.

This page is written from the code by `tests/codemap.py`, which `make docs` runs, and
`tests/test_docs.py` checks that it is current.
"""


@dataclass(frozen=True)
class Unit:
    """A package or a base module, with what its docstring says."""

    name: str  # dotted, e.g. culturebook.render
    layer: float
    path: str  # relative to the repository, e.g. src/culturebook/render/
    summary: str
    inputs: str
    outputs: str
    modules: tuple[tuple[str, str], ...]  # (file name, first paragraph of its docstring)
    folders: tuple[tuple[str, tuple[str, ...]], ...]  # (folder name, the files in it)


def layers() -> dict[str, float]:
    """LAYERS as tests/test_layers.py defines it, read without importing the test module."""
    tree = ast.parse(LAYERS_FILE.read_text(encoding="utf-8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "LAYERS"):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{LAYERS_FILE}: no LAYERS = {{...}} found")


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def first_paragraph(doc: str) -> str:
    return " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines()).strip()


def line_starting(doc: str, prefix: str) -> str:
    for line in doc.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return ""


def units() -> list[Unit]:
    found = []
    for name, layer in layers().items():
        if name == "culturebook":
            init, folder = PACKAGE / "__init__.py", None
        else:
            relative = Path(*name.split(".")[1:])
            folder = PACKAGE / relative if (PACKAGE / relative).is_dir() else None
            init = folder / "__init__.py" if folder else (PACKAGE / relative).with_suffix(".py")
        doc = docstring(init)
        modules, folders = (), ()
        if folder:
            modules = tuple((p.name, first_paragraph(docstring(p)))
                            for p in sorted(folder.glob("*.py")) if p.name != "__init__.py")
            folders = tuple((d.name, tuple(sorted(f.name for f in d.iterdir() if f.is_file())))
                            for d in sorted(folder.iterdir())
                            if d.is_dir() and d.name != "__pycache__")
        path = (folder or init).relative_to(ROOT).as_posix() + ("/" if folder else "")
        summary = doc.splitlines()[0].strip() if doc else ""
        found.append(Unit(name, layer, path, summary, line_starting(doc, "In:"), line_starting(doc, "Out:"),
                          modules, folders))
    return sorted(found, key=lambda u: -u.layer)


def prose(text: str) -> str:
    """Docstring text as Markdown: `<lang>` and `->` outside code spans shown, not taken for HTML."""
    parts = text.split("`")
    return "`".join(p if i % 2 else p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    for i, p in enumerate(parts))


def cell(text: str) -> str:
    return prose(text).replace("|", "\\|")


def layer_label(layer: float) -> str:
    return f"{layer:g}"


def architecture(found: list[Unit]) -> str:
    out = [INTRO, "## The layers, top first", "",
           "| layer | package or module | what it is | in | out |", "|---|---|---|---|---|"]
    out += [f"| {layer_label(u.layer)} | [`{u.name}`](#{anchor(u.name)}) | {cell(u.summary)} "
            f"| {cell(u.inputs)} | {cell(u.outputs)} |" for u in found]
    for u in found:
        out += ["", f"## `{u.name}`", "", f"`{u.path}`, layer {layer_label(u.layer)}: {prose(u.summary)}"]
        if u.inputs or u.outputs:
            out += ["", f"- In: {prose(u.inputs)}", f"- Out: {prose(u.outputs)}"]
        if u.modules:
            out += ["", "| module | what it is |", "|---|---|"]
            out += [f"| `{name}` | {cell(text)} |" for name, text in u.modules]
        for name, files in u.folders:
            out += ["", f"`{name}/` holds {', '.join(f'`{f}`' for f in files)}."]
    return "\n".join(out) + "\n"


def anchor(name: str) -> str:
    """The id MkDocs (and GitHub) give the heading ``## `culturebook.render` ``."""
    return name.replace(".", "")


def readme_map(found: list[Unit]) -> str:
    width = max(len(u.name) for u in found)
    rows = [f"{u.name.ljust(width)}  {u.summary}" for u in found]
    return "\n".join([README_START, "", "```", *rows, "```", "", README_END])


def readme_with_map(readme: str, found: list[Unit]) -> str:
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{README}: no code map markers ({README_START} ... {README_END})")
    return readme[:start] + readme_map(found) + readme[end + len(README_END):]


def expected() -> dict[Path, str]:
    found = units()
    return {ARCHITECTURE: architecture(found),
            README: readme_with_map(README.read_text(encoding="utf-8"), found)}


def main(argv: list[str]) -> int:
    stale = [path for path, text in expected().items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for path in stale:
            sys.stderr.write(f"{path.relative_to(ROOT)}: the code map is out of date; "
                             "run python tests/codemap.py\n")
        return 1 if stale else 0
    for path, text in expected().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
