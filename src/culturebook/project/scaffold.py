"""`culturebook new`: a new project in one command, ready to build.

A new project holds its content, a theme of its own that extends the default theme and records
the version it was made with (`extends-version:`), a Makefile and a README that says what to edit
first. The default theme and its fonts are not copied: they are culturebook's own (shipped/), and
the CJK fonts are the culturebook-fonts-cjk package's; the pin makes an upgrade of either a line
at check time instead of a silent change of the PDFs, and a project stays a few files of its own
rather than 34 MB of copies. The texts of a blank project are in skeleton/, as files with
$placeholders; the example project is the content culturebook ships with (shipped/example).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import string
import tempfile
from pathlib import Path

from culturebook import __version__
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.files import cache_dir
from culturebook.project.brand import THEME, load_brand
from culturebook.project.glyphs import coverage, missing_scripts
from culturebook.project.schema import LABEL_KEYS
from culturebook.project.themes import SHIPPED, install_hint
from culturebook.project.yamlsource import Node, load_yaml

SKELETON = Path(__file__).parent / "skeleton"
EXAMPLE = SHIPPED / "example"  # the example project's content/
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
    for part in (SHIPPED / "default" / "theme.yaml", EXAMPLE / "publication.yaml"):
        if not part.is_file():
            raise ProjectError([Problem(Location(part), "the default theme or example is not "
                                        "installed with culturebook", "install culturebook again "
                                        "(pipx install --force culturebook)")])
    example_languages = languages_of(example)
    languages = languages or usable_languages(example, example_languages)[0]
    unknown = [lang for lang in languages if lang not in example_languages]
    if unknown:
        raise ProjectError([Problem(Location(folder), f"the {example} project has no texts in "
                                    f"{', '.join(unknown)}", "choose from "
                                    + ", ".join(example_languages)
                                    + "; add a language later by copying a content file")])
    for lang, (why, package) in _unset(example, languages).items():
        raise ProjectError([Problem(Location(folder), f"the {lang} edition {why}, from the {package} "
                                    "package, which is not installed; nothing was made",
                                    install_hint(package))])
    name = name or ("Tencent" if example == "tencent" else "Example Co")
    theme = _slug(name) or "brand"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise ProjectError([Problem(Location(folder), f"cannot make a folder here: {exc.strerror}",
                                    "name a folder you can write to")]) from None
    try:
        values = {"name": name, "theme": theme, "languages": ", ".join(languages), "version": __version__,
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

    theme = THEME.convert(load_yaml(SHIPPED / "default" / "theme.yaml"), "", Problems())
    english = (theme.get("labels") or {}).get("en", {})
    return "\n".join(f"  {key}: {_yaml_value(english.get(key, ''))}" for key in LABEL_KEYS)


def _yaml_value(text: str) -> str:
    return f'"{_yaml_quoted(text)}"' if any(c in text for c in ':{}#,"') else text


def languages_of(example: str) -> list[str]:
    """The languages an example project has texts in."""
    if example == "blank":
        return list(BLANK_LANGUAGES)
    match = re.search(r"(?m)^languages:\s*\[([^\]]*)\]",
                      (EXAMPLE / "publication.yaml").read_text(encoding="utf-8"))
    return [lang.strip() for lang in match.group(1).split(",")] if match else []


def _fill(template: Path, target: Path, values: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = string.Template(template.read_text(encoding="utf-8")).substitute(values)
    target.write_text(text, encoding="utf-8")


def _example(content: Path, languages: list[str], theme: str, name: str) -> None:
    """The shipped content, for the chosen languages, set to use the new theme (and, when a name
    is given, that organisation's name)."""
    settings = (EXAMPLE / "publication.yaml").read_text(encoding="utf-8")
    settings = re.sub(r"(?m)^languages:.*?(\s+#.*)?$", lambda m: f"languages: [{', '.join(languages)}]"
                      + (m.group(1) or ""), settings, count=1)
    settings = re.sub(r"(?m)^theme:.*$", f"theme: {theme}", settings, count=1)
    (content / "publication.yaml").write_text(settings, encoding="utf-8")
    for lang in languages:
        text = (EXAMPLE / f"{lang}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"(?m)^organisation:.*$", lambda _: f'organisation: "{_yaml_quoted(name)}"',
                      text, count=1)
        (content / f"{lang}.yaml").write_text(text, encoding="utf-8")
    for extra in EXAMPLE.iterdir():
        if extra.suffix not in (".yaml",) and extra.is_file():
            shutil.copy2(extra, content / extra.name)


def _yaml_quoted(text: str) -> str:
    """`text` as it is written between double quotes in YAML."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def usable_languages(example: str, languages: list[str]) -> tuple[list[str], list[str]]:
    """Those of `languages` whose fonts are installed (all of them when none is), and the lines
    that say which were left out and why: a new project by default has every language it can
    build, and `culturebook new --languages` asks for the others' package by name."""
    unset = _unset(example, languages)
    usable = [lang for lang in languages if lang not in unset]
    if not usable:
        return languages, []
    return usable, [f"left out {lang}: it {why}, from the {package} package; {install_hint(package)}"
                    for lang, (why, package) in unset.items()]


def _unset(example: str, languages: list[str]) -> dict[str, tuple[str, str]]:
    """The languages among `languages` that need a font from a package that is not installed, and
    why ("needs <family>", or "has <script> characters, which <family> sets": the example's English
    text names the values in Chinese too), with the package."""
    brand = load_brand(SHIPPED.parent / "no-project", "default", Problems())
    if not brand.missing:
        return {}
    missing = {face.family: face.package for face in brand.missing}
    unset = {}
    for lang in languages:
        family = next((f for f in brand.families_for(lang) if f in missing), None)
        if family is not None:
            unset[lang] = (f"needs {family}", missing[family])
            continue
        source = (SKELETON if example == "blank" else EXAMPLE) / f"{lang}.yaml"
        covered = coverage(brand, lang, cache_dir() / "cmaps")
        gaps = missing_scripts(" ".join(_texts(load_yaml(source))), covered)
        if gaps:
            family, package = next(iter(missing.items()))
            unset[lang] = (f"has {gaps[0].what} characters, which {family} sets", package)
    return unset


def _texts(node: Node) -> list[str]:
    """Every text value of a YAML file, in order."""
    if isinstance(node.value, str):
        return [node.value]
    children = node.value.values() if isinstance(node.value, dict) else node.value or []
    return [text for child in children for text in _texts(child)]
