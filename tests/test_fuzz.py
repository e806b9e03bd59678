"""Fuzzing what people write: content YAML, theme YAML and recipients CSV, generated from their
schemas (schema.py, brand.THEME, the recipients columns) and then broken: wrong types, missing keys,
huge and empty values, control characters, UTF-16 and Latin-1 bytes, NUL bytes, deep nesting,
anchors and aliases ("billion laughs"), tags, stray quotes and comments.

Whatever comes in, the outcome is a check that passes or our own problem lines (ProjectError, each
`path:line:col: message` or `path: message`, inside the project): never another exception. The
check stage runs in-process (check_project, read_recipients); a few cases render a booklet.

`make test` runs a few examples of each (the "ci" profile, derandomized); `make fuzz` runs the
"fuzz" profile: over 10,000 cases.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from culturebook.build.pipeline import build
from culturebook.checks.project import check_project
from culturebook.errors import Problems, ProjectError
from culturebook.project.brand import THEME
from culturebook.project.fieldtypes import (
    Address,
    Choice,
    Date,
    Flag,
    ListOf,
    MapOf,
    Number,
    Pattern,
    Size,
    Struct,
)
from culturebook.project.recipients import read_recipients
from culturebook.project.schema import SETTINGS, TEXTS
from projectkit import PROJECTS, make_project

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# examples per test: (content, theme, recipients, rendered); "fuzz" adds up to 10,050
COUNTS = {"ci": (30, 15, 60, 1), "more": (300, 200, 500, 3),
          "fuzz": (4000, 3000, 3000, 60)}.get(PROFILE, (30, 15, 60, 1))


def fuzz_settings(count: int):
    return settings(max_examples=count, deadline=None, database=None,
                    derandomize=PROFILE == "ci",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


# --- values generated from the schema -------------------------------------------------------------

PLAIN = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;!?-'\"#:*_[]()"),
                min_size=1, max_size=30).map(str.strip).filter(bool)
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn", "Co")), max_size=30)
TEXT = st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, ANY_TEXT)
SLUG = st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,5})?", fullmatch=True)


def of(kind, key: str = "") -> st.SearchStrategy:
    """Data that (mostly) fits `kind`, a type of schema.py."""
    if isinstance(kind, Struct):
        required = {f.key: of(f.type, f.key) for f in kind.fields if f.required}
        optional = {f.key: of(f.type, f.key) for f in kind.fields if not f.required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(kind, ListOf):
        if key == "languages":
            return st.sampled_from([["en"]] * 6 + [["en", "zh-Hans"], ["en", "fr"], ["xx"]])
        if key == "values":
            return st.lists(of(kind.item), min_size=1, max_size=4)
        return st.lists(of(kind.item), max_size=3)
    if isinstance(kind, MapOf):
        return st.dictionaries(SLUG, of(kind.item), max_size=3)
    if isinstance(kind, Choice):
        return st.sampled_from(kind.options)
    if isinstance(kind, Pattern):
        if kind.name == "language code":
            return st.sampled_from(["en", "zh-Hans", "fr", "pt-BR"])
        if kind.name == "slug":
            return st.sampled_from(["default"]) if key == "theme" else SLUG
        return st.from_regex(kind.regex, fullmatch=True).filter(lambda s: "\n" not in s)
    if isinstance(kind, Number):
        top = kind.maximum if kind.maximum is not None else kind.minimum + 100
        if kind.whole:
            return st.integers(int(kind.minimum), int(top)).map(str)
        return st.floats(kind.minimum, top).map(lambda v: f"{v:.2f}")
    if isinstance(kind, Date):
        return st.dates().map(lambda d: d.isoformat())
    if isinstance(kind, Flag):
        return st.sampled_from(["true", "false", "yes", "no"])
    if isinstance(kind, Size):
        return st.sampled_from(["10 MB", "500 KB", "1 GB"])
    if isinstance(kind, Address):
        return st.sampled_from(["ana@example.com", "Ana <ana@example.com>"])
    return TEXT


# --- breaking it ----------------------------------------------------------------------------------

HUGE = "x" * 200_000
WRONG = st.sampled_from([None, "", " ", HUGE, [], {}, ["a", ["b"]], {"k": "v"}, "\x00", "é\x07",
                         "\u202e\u200b", "\ufeff", "NO", "1e999", "#0052D9", "- a", "{{ x }}",
                         "![](../../etc/passwd)", "![x](http://example.com/a.png)",
                         "[a](javascript:alert(1))", "<script>x</script>", "{name} {nope}",
                         "\U0001F600" * 50, "a\u2028b", "\r", "   ", "a" * 300 + ".png",
                         "![x](" + "a" * 300 + ".png)", "![x](a\x00.png)", "a\ud800b"]
                        ).map(copy.deepcopy)


@st.composite
def mutated_data(draw, data):
    """`data` with a few of its values replaced, deleted or added to, at random paths."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        paths = [*list(_paths(data))[1:], ()]  # the whole file last: the rarest and simplest
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "nest"]))
        data = _change(data, path, action, draw)
    return data


def _paths(data, path=()):
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*path, i))


def _change(data, path, action, draw):
    if not path:
        return draw(WRONG) if action == "replace" else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = draw(WRONG)
    elif action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["titel", "Title", "extra", "colors", "\u00e9t\u00e9"]))] = "x"
    elif action == "nest":
        parent[last] = _nested(draw(st.integers(1, 120)), parent[last])
    return data


def _nested(depth: int, inner):
    for _ in range(depth):
        inner = [inner]
    return inner


LAUGHS = "a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n"
LINES = st.sampled_from([
    "a: &x hello", "b: *x", "x: !!python/object/apply:os.system [ls]", "y: !!binary aGVsbG8=",
    "title: #1 team", "brand: #0052D9", "\t- tabbed", "subtitle: 'unclosed", 'subtitle: "unclosed',
    "---", "...", "? [a, b]\n: c", "%YAML 1.1", "%TAG ! tag:example.com,2000:", "[" * 3000,
    "{" * 3000, "- " * 500 + "x", "[" * 999 + "]" * 999, "k: " + "[" * 60 + "]" * 60,
    "  " * 400 + "deep: 1", LAUGHS, "<<: {a: 1}", "title: a: b",
    "'\\u0000'", '"\\x00 \\u2029 \\e"', "key: |\n  \x85", "k: \"\\", ":", "- - - -", "&a", "*a",
    "title: ok\ntitle: again", "'a' : 1", "? a", "!", "a: !<tag:yaml.org,2002:str> x",
])


@st.composite
def mutated_bytes(draw, text: str) -> bytes:
    """`text` as bytes, perhaps with a hostile line in it, cut short, or in another encoding."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(LINES))
    text = "\n".join(lines)
    if draw(st.integers(0, 9)) == 9:
        text = text[: draw(st.integers(0, len(text)))]
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1", "crlf",
                                                      "cr", "nul", "bytes"]))
    if encoding == "utf-16":
        return text.encode("utf-16")  # with its byte order mark
    if encoding == "latin-1":
        return text.replace("e", "é").encode("latin-1", "replace")
    if encoding == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8")
    if encoding == "cr":
        return text.replace("\n", "\r").encode("utf-8")
    if encoding == "nul":
        raw = bytearray(text.encode("utf-8"))
        raw.insert(draw(st.integers(0, len(raw))), 0)
        return bytes(raw)
    if encoding == "bytes":
        raw = bytearray(text.encode("utf-8"))
        for _ in range(draw(st.integers(1, 4))):
            if raw:
                raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    return text.encode(encoding)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


# --- the outcome ----------------------------------------------------------------------------------

LINE = re.compile(r"^(?P<path>[^\n]+?)(:(?P<line>\d+):(?P<col>\d+))?: (warning: )?\S")


def assert_our_error(exc: ProjectError, root: Path) -> None:
    """Every problem is a line of ours: a file inside the project (with a place where known) and
    a message; a hint, if any, on the next line."""
    assert exc.problems, "a ProjectError without problems"
    for problem in exc.problems:
        text = problem.format(root)
        first, *rest = text.split("\n")
        assert LINE.match(first), text
        assert problem.location.path.resolve().is_relative_to(root.resolve()), text
        assert problem.message.strip(), text
        assert all(line.startswith("    hint: ") for line in rest[:1]), text
        assert "internal error" not in text and "Traceback" not in text


def _gist(exc: ProjectError) -> str:
    """The first problem's message without its particulars: what the statistics count."""
    message = exc.problems[0].message
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)", "…", message))[:60]


def checked(root: Path) -> None:
    try:
        check_project(root)
    except ProjectError as exc:
        assert_our_error(exc, root)
        event("refused: " + _gist(exc))
    else:
        event("passed")


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("fuzz") / "project")


def _put(root: Path, files: dict[str, bytes]) -> None:
    content = root / "content"
    shutil.rmtree(content)
    content.mkdir()
    for name, raw in files.items():
        (content / name).write_bytes(raw)


CONTENT = st.tuples(of(SETTINGS), of(TEXTS))


@st.composite
def content_files(draw) -> dict[str, bytes]:
    settings_data, texts = draw(CONTENT)
    settings_data["theme"] = "default"
    texts.pop("translation", None)  # the source language's file is no translation
    files = {"publication.yaml": dump(draw(mutated_data(settings_data))),
             "en.yaml": dump(draw(mutated_data(texts)))}
    for lang in ("zh-Hans", "fr"):
        if lang in settings_data["languages"] or draw(st.integers(0, 4)) == 4:
            translated = copy.deepcopy(texts)
            translated["title"] = draw(TEXT)
            translated["translation"] = {"from": "en", "fields": ["title"]}
            files[f"{lang}.yaml"] = dump(draw(mutated_data(translated)))
    broken = draw(st.sampled_from(sorted(files)))
    files = {name: text.encode("utf-8") for name, text in files.items()}
    if draw(st.integers(0, 2)) == 2:
        files[broken] = draw(mutated_bytes(files[broken].decode("utf-8")))
    return files


@fuzz_settings(COUNTS[0])
@given(files=content_files())
@pytest.mark.slow
def test_any_content_is_checked_or_refused_with_our_lines(fuzz_project: Path, files) -> None:
    _put(fuzz_project, files)
    checked(fuzz_project)


FONT_FILES = st.sampled_from(["Inter/Inter-Regular.otf", "Inter", "../fonts/x.otf", "/etc/passwd",
                              "a" * 300 + ".otf", "", "Inter/../../layouts/default/theme.yaml",
                              "README.md", "x\\y.otf"])
THEMED = Struct("theme", tuple(f for f in THEME.fields if f.key not in ("fonts", "extends")))


@st.composite
def theme_file(draw) -> bytes:
    data = draw(of(THEMED))
    if isinstance(data, dict) and draw(st.integers(0, 4)) == 4:  # fonts, seldom: few are valid
        data["fonts"] = {"faces": [{"family": "Inter", "file": draw(FONT_FILES)}],
                         "stacks": {"default": {"text": ["Inter"]}}}
    data = draw(mutated_data(data))
    if isinstance(data, dict) and draw(st.integers(0, 9)) != 9:
        data = {"extends": "default", **data}
    return draw(mutated_bytes(dump(data)))


@fuzz_settings(COUNTS[1])
@given(theme=theme_file())
@pytest.mark.slow
def test_any_theme_is_checked_or_refused_with_our_lines(fuzz_project: Path, theme: bytes) -> None:
    _put(fuzz_project, {name: (PROJECTS / "minimal/content" / name).read_bytes()
                        for name in ("publication.yaml", "en.yaml")})
    settings_file = fuzz_project / "content/publication.yaml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8").replace(
        "theme: default", "theme: fuzzed"), encoding="utf-8")
    folder = fuzz_project / "layouts/fuzzed"
    folder.mkdir(exist_ok=True)
    (folder / "theme.yaml").write_bytes(theme)
    checked(fuzz_project)


# --- recipients -----------------------------------------------------------------------------------

COLUMNS = st.dictionaries(st.sampled_from(["team", "start-date", "manager", "note", "Team"]),
                          st.sampled_from(["text", "date"]), max_size=3)
CELL = st.one_of(PLAIN, ANY_TEXT, st.sampled_from(["", "2024-02-30", "2024-05-01", "ana@example",
                                                  "ana@example.com", "zh-Hans", "fr", "../x",
                                                  "CON", "a" * 300, '"', "\x00", "=1+1"]))


@st.composite
def recipients_file(draw) -> tuple[dict[str, str], bytes]:
    columns = draw(COLUMNS)
    header = ["name", *draw(st.lists(st.sampled_from(["email", "slug", "language"]), unique=True)),
              *columns]
    if draw(st.integers(0, 5)) == 5:
        header = draw(st.lists(st.sampled_from([*header, "", "Name", "NAME", "x"]), max_size=6))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 1), max_size=6))
    out = io.StringIO()
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n",
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    for row in [header, *rows]:
        writer.writerow([cell.replace("\x00", "") for cell in row])
    text = out.getvalue()
    if "\x00" in "".join(c for row in rows for c in row):
        text = text.replace("a", "\x00", 1)
    raw = draw(mutated_bytes(text)) if draw(st.booleans()) else text.encode("utf-8")
    return {k: v for k, v in columns.items() if k.lower() == k}, raw


@fuzz_settings(COUNTS[2])
@given(given_file=recipients_file())
def test_any_recipients_file_is_read_or_refused_with_our_lines(tmp_path_factory, given_file):
    columns, raw = given_file
    folder = tmp_path_factory.getbasetemp() / "recipients"
    folder.mkdir(exist_ok=True)
    path = folder / "people.csv"
    path.write_bytes(raw)
    problems = Problems()
    try:
        people = read_recipients(path, columns, ["en", "zh-Hans"], problems)
    except ProjectError as exc:
        assert_our_error(exc, folder)
        return
    for person in people:
        assert person.name and person.slug, person
    if problems.items:
        assert_our_error(ProjectError(problems.items), folder)


# --- a few cases all the way to a PDF -------------------------------------------------------------


@fuzz_settings(COUNTS[3])
@given(files=content_files())
@pytest.mark.slow
def test_a_few_fuzzed_contents_render_or_are_refused(tmp_path_factory, files) -> None:
    root = tmp_path_factory.getbasetemp() / "rendered"
    if not root.exists():
        make_project(root)
    _put(root, files)
    try:
        build(root, "booklet", jobs=1)
    except ProjectError as exc:
        assert_our_error(exc, root)
        event("refused")
    else:
        event("rendered")

