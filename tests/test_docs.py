"""The documentation: the code map is what the code says, and README.md's links lead somewhere.

The site's own links and anchors are checked by `make docs` (`mkdocs build --strict`, with
mkdocs.yml's validation); README.md is outside the site, so its links are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import codemap

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def links(markdown: str) -> list[str]:
    """The link targets of a Markdown text, outside fenced code."""
    return LINK.findall(FENCE.sub("", markdown))


def anchors(markdown: str) -> set[str]:
    """The ids MkDocs and GitHub give the headings of a page."""
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", markdown), re.MULTILINE):
        text = re.sub(r"[`*]", "", heading).strip().lower()
        found.add(re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", text)))
    return found


def test_the_code_map_is_what_the_packages_docstrings_and_layers_say():
    for path, text in codemap.expected().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(REPO)}: the code map is out of date; run `make docs` "
            "(or python tests/codemap.py)")


def test_the_code_map_lists_every_layer_of_tests_test_layers_with_each_packages_in_and_out():
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for unit in codemap.units():
        assert f"## `{unit.name}`" in page
        if (REPO / unit.path / "__init__.py").exists() and unit.name != "culturebook":
            assert unit.inputs and unit.outputs, f"{unit.name}: its docstring has In: and Out: lines"
    names = [u.name for u in codemap.units()]
    assert names.index("culturebook.cli") < names.index("culturebook.build") < names.index(
        "culturebook.project") < names.index("culturebook.errors"), "top layer first"


def test_every_relative_link_in_the_readme_leads_to_a_file_and_its_anchor():
    readme = README.read_text(encoding="utf-8")
    targets = [t for t in links(readme) if not re.match(r"[a-z]+:", t)]
    assert targets, "README.md links to the docs"
    for target in targets:
        path, _, anchor = unquote(target).partition("#")
        file = (README.parent / path) if path else README
        assert file.is_file(), f"README.md links to {target}: no such file"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file.read_text(encoding="utf-8")), (
                f"README.md links to {target}: no such heading in {path or 'README.md'}")


def test_every_page_in_docs_is_in_the_sites_nav_and_every_picture_is_used():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert pages == sorted(re.findall(r"^ +- [^:]+: (\S+\.md)$", config, re.MULTILINE))
    used = "".join(p.read_text(encoding="utf-8") for p in [README, *DOCS.glob("*.md")])
    for picture in sorted(DOCS.glob("*.png")):
        assert f"({picture.name})" in used or f"(docs/{picture.name})" in used, (
            f"docs/{picture.name} is shown on no page")
