"""reference.py: docs/content.md is written from the schema and kept up to date with it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from culturebook.project.reference import reference
from projectkit import run_cli

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "content.md"


def test_docs_content_md_is_what_the_schema_says():
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/content.md is stale: run `culturebook reference -o docs/content.md`")


def field_paths(data, path: str = ""):
    """The field paths of a YAML document, as the reference names them (chapters[].body)."""
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            yield name
            yield from field_paths(value, name)
    elif isinstance(data, list):
        for item in data:
            yield from field_paths(item, path + "[]")


# Mappings whose keys the user names, per file: the reference calls such a key <name>.
NAMED = {
    "publication.yaml": r"recipients",
    "en.yaml": r"welcome\.details",
    "theme.yaml": r"colours|booklet|type|posters|print\.colours|labels|fonts\.stacks|fit\.roles",
}


def test_every_field_the_default_project_uses_is_in_the_reference():
    documented = set(re.findall(r"^\| `([^`]+)` \|", reference(), re.M))
    files = {"publication.yaml": REPO / "content" / "publication.yaml",
             "en.yaml": REPO / "content" / "en.yaml",
             "theme.yaml": REPO / "layouts" / "default" / "theme.yaml"}
    checked = set()
    for name, path in files.items():
        named = re.compile(rf"^({NAMED[name]})\.[^.\[]+")
        for field in field_paths(yaml.safe_load(path.read_text(encoding="utf-8"))):
            checked.add(named.sub(r"\1.<name>", field))
    assert {"chapters[].body", "values[].statement", "welcome.details.<name>",
            "labels.<name>.contents", "print.colours.<name>"} <= checked
    # A mapping of plain values (colours: {brand: "#0052D9"}) is one row, its own.
    assert sorted(f for f in checked if f.removesuffix(".<name>") not in documented) == []


def test_the_command_prints_it_or_writes_it(tmp_path):
    printed = run_cli("reference", cwd=tmp_path)
    assert printed.returncode == 0 and printed.stdout == reference()
    written = run_cli("reference", "-o", "content.md", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "content.md").read_text(encoding="utf-8") == reference()


def test_a_reference_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "docs").write_text("a file where a folder should be\n", encoding="utf-8")
    result = run_cli("reference", "-o", "docs/content.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["Error: docs/content.md: cannot write it: File exists"]
    assert (tmp_path / "docs").read_text(encoding="utf-8") == "a file where a folder should be\n"
