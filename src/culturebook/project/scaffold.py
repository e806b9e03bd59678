"""`culturebook new`: a new project in one command, ready to build.

A new project holds its content, a theme of its own that extends the default theme, the default
theme itself and the fonts (hard links where the filesystem allows, else copies: a project must
hold its fonts to be built the same everywhere), a Makefile and a README that says what to edit
first. The texts of a blank project are in skeleton/, as files with $placeholders; the example
project is the content this culturebook ships with.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import string
import tempfile
from pathlib import Path

from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.project.brand import THEME
from culturebook.project.schema import LABEL_KEYS
from culturebook.project.yamlsource import load_yaml

SKELETON = Path(__file__).parent / "skeleton"
HOME = Path(__file__).resolve().parents[3]  # the project culturebook ships: content/, layouts/, fonts/
BLANK_LANGUAGES = ("en", "zh-Hans")  # those the blank project has texts for


def new_project(folder: Path, example: str = "blank", name: str | None = None,
                languages: list[str] | None = None) -> Path:
    """Make a project in `folder` (new or empty). Everything is made in a temporary folder beside
    it and moved into place at the end, so a failure leaves nothing half made."""
    folder = folder.resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "is not a folder" if not folder.is_dir() else "is not empty"
        raise ProjectError([Problem(Location(folder), f"{what}; culturebook new makes a project "
                                    "in a new or empty folder", "name a new folder, e.g. "
                                    f"culturebook new {folder.name}-culture")])
    for part in ("layouts/default", "fonts"):
        if not (HOME / part).is_dir():
            raise ProjectError([Problem(Location(HOME / part), "the default theme and fonts are not "
                                        "installed with culturebook", "install culturebook from its "
                                        "repository (pip install -e .)")])
    example_languages = languages_of(example)
    languages = languages or example_languages
    unknown = [lang for lang in languages if lang not in example_languages]
    if unknown:
        raise ProjectError([Problem(Location(folder), f"the {example} project has no texts in "
                                    f"{', '.join(unknown)}", "choose from "
                                    + ", ".join(example_languages)
                                    + "; add a language later by copying a content file")])
    name = name or ("Tencent" if example == "tencent" else "Example Co")
    theme = _slug(name) or "brand"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise ProjectError([Problem(Location(folder), f"cannot make a folder here: {exc.strerror}",
                                    "name a folder you can write to")]) from None
    try:
        values = {"name": name, "theme": theme, "languages": ", ".join(languages),
                  "first": languages[0], "date": dt.date.today().isoformat(),
                  "language_list": " and ".join(languages), "labels": _label_lines()}
        quoted = {**values, "name": _yaml_quoted(name)}  # inside "double quotes" in the YAML files
        content = work / "content"
        content.mkdir()
        if example == "blank":
            for file in ["publication.yaml"] + [f"{lang}.yaml" for lang in languages]:
                _fill(SKELETON / file, content / file, quoted)
        else:
            _example(content, languages, theme, name)
        _fill(SKELETON / "theme.yaml", work / "layouts" / theme / "theme.yaml", quoted)
        shutil.copytree(HOME / "layouts" / "default", work / "layouts" / "default")
        shutil.copytree(HOME / "fonts", work / "fonts", copy_function=_link_or_copy)
        for file in ("Makefile", "README.md"):
            _fill(SKELETON / file, work / file, values)
        if folder.exists():
            folder.rmdir()  # empty: checked above
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _label_lines() -> str:
    """The labels a project can translate, as YAML with the default theme's English words."""

    theme = THEME.convert(load_yaml(HOME / "layouts" / "default" / "theme.yaml"), "", Problems())
    english = (theme.get("labels") or {}).get("en", {})
    return "\n".join(f"  {key}: {_yaml_value(english.get(key, ''))}" for key in LABEL_KEYS)


def _yaml_value(text: str) -> str:
    return f'"{_yaml_quoted(text)}"' if any(c in text for c in ':{}#,"') else text


def languages_of(example: str) -> list[str]:
    """The languages an example project has texts in."""
    if example == "blank":
        return list(BLANK_LANGUAGES)
    match = re.search(r"(?m)^languages:\s*\[([^\]]*)\]",
                      (HOME / "content" / "publication.yaml").read_text(encoding="utf-8"))
    return [lang.strip() for lang in match.group(1).split(",")] if match else []


def _fill(template: Path, target: Path, values: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = string.Template(template.read_text(encoding="utf-8")).substitute(values)
    target.write_text(text, encoding="utf-8")


def _example(content: Path, languages: list[str], theme: str, name: str) -> None:
    """The shipped content, for the chosen languages, set to use the new theme (and, when a name
    is given, that organisation's name)."""
    settings = (HOME / "content" / "publication.yaml").read_text(encoding="utf-8")
    settings = re.sub(r"(?m)^languages:.*?(\s+#.*)?$", lambda m: f"languages: [{', '.join(languages)}]"
                      + (m.group(1) or ""), settings, count=1)
    settings = re.sub(r"(?m)^theme:.*$", f"theme: {theme}", settings, count=1)
    (content / "publication.yaml").write_text(settings, encoding="utf-8")
    for lang in languages:
        text = (HOME / "content" / f"{lang}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"(?m)^organisation:.*$", lambda _: f'organisation: "{_yaml_quoted(name)}"',
                      text, count=1)
        (content / f"{lang}.yaml").write_text(text, encoding="utf-8")
    for extra in (HOME / "content").iterdir():
        if extra.suffix not in (".yaml",) and extra.is_file():
            shutil.copy2(extra, content / extra.name)


def _yaml_quoted(text: str) -> str:
    """`text` as it is written between double quotes in YAML."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed
        shutil.copy2(source, target)
