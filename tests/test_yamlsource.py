"""parse_yaml / load_yaml: located nodes, every scalar the text that was typed, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from culturebook.errors import Location, Problem, ProjectError
from culturebook.project.yamlsource import Node, load_yaml, parse_yaml

PATH = Path("content/en.yaml")


def refusal(text: str) -> Problem:
    """The one problem parse_yaml raises for `text`."""
    with pytest.raises(ProjectError) as info:
        parse_yaml(text, PATH)
    assert len(info.value.problems) == 1
    return info.value.problems[0]


def values(node: Node) -> object:
    """The plain data of a node tree."""
    if isinstance(node.value, dict):
        return {k: values(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [values(v) for v in node.value]
    return node.value


# --- what is kept -------------------------------------------------------------------------------


def test_every_scalar_is_the_text_typed() -> None:
    text = "a: NO\nb: 12:30\nc: 1e3\nd: yes\ne: 0o17\nf: ~\ng: null\nh: 2019-11-11\ni: 007\nj: .inf\n"
    assert values(parse_yaml(text, PATH)) == {
        "a": "NO", "b": "12:30", "c": "1e3", "d": "yes", "e": "0o17", "f": "~", "g": "null",
        "h": "2019-11-11", "i": "007", "j": ".inf"}


def test_only_a_value_left_out_is_empty() -> None:
    tree = parse_yaml('a:\nb: ""\nc: "~"\n', PATH).value
    assert tree["a"].value is None
    assert tree["b"].value == "" and tree["b"].quoted
    assert tree["c"].value == "~" and tree["c"].quoted


def test_nodes_know_where_they_were_written() -> None:
    text = "# a comment\ntitle: Hello\nvalues:\n  - id: care\n    name: Care\n"
    tree = parse_yaml(text, PATH).value
    assert tree["title"].loc == Location(PATH, 2, 8)
    assert tree["title"].key_loc == Location(PATH, 2, 1)
    care = tree["values"].value[0]
    assert care.loc == Location(PATH, 4, 5)
    assert care.value["name"].key_loc == Location(PATH, 5, 5)
    assert care.children_order == ["id", "name"]


def test_block_text_keeps_its_lines() -> None:
    tree = parse_yaml("body: |\n  One.\n\n  Two.\n", PATH).value
    assert tree["body"].value == "One.\n\nTwo.\n"


def test_empty_document_is_an_empty_node() -> None:
    assert parse_yaml("", PATH).value is None
    assert parse_yaml("# only a comment\n", PATH).value is None


# --- what is refused, and where -----------------------------------------------------------------


def test_anchor_is_refused_where_it_is_written() -> None:
    problem = refusal("a: &x hello\nb: c\n")
    assert problem.location == Location(PATH, 1, 4)
    assert problem.message == "YAML anchors (&x) are not allowed"
    assert problem.hint == "write the text out"


def test_alias_is_refused_where_it_is_written() -> None:
    problem = refusal("a: hello\nb: *x\n")
    assert problem.location == Location(PATH, 2, 4)
    assert problem.message == "YAML aliases (*x) are not allowed"


def test_billion_laughs_is_refused_at_the_first_anchor() -> None:
    text = 'a: &a ["lol", "lol"]\nb: &b [*a, *a]\nc: &c [*b, *b]\n'
    assert refusal(text).location == Location(PATH, 1, 4)


@pytest.mark.parametrize("tag, shown", [
    ("!!python/object/apply:os.system", "!!python/object/apply:os.system"),
    ("!!python/object:collections.OrderedDict", "!!python/object:collections.OrderedDict"),
    ("!!str", "!!str"),
    ("!custom", "!custom"),
])
def test_tags_are_refused(tag: str, shown: str) -> None:
    problem = refusal(f"title: ok\nedition: {tag} [x]\n")
    assert problem.location == Location(PATH, 2, 10)
    assert problem.message == f"YAML tags ({shown}) are not allowed"
    assert problem.hint == "remove the tag"


def test_duplicate_key_names_the_first_line() -> None:
    problem = refusal("title: One\nsubtitle: x\ntitle: Two\n")
    assert problem.location == Location(PATH, 3, 1)
    assert problem.message == "duplicate key 'title'"
    assert problem.hint == "it is already set on line 1"


def test_duplicate_key_inside_a_list_item() -> None:
    problem = refusal("values:\n  - id: a\n    name: A\n    id: b\n")
    assert problem.location == Location(PATH, 4, 5)
    assert problem.hint == "it is already set on line 2"


def test_syntax_error_has_its_location() -> None:
    problem = refusal("title: ok\nsubtitle: [one, two\nmission: x\n")
    assert problem.location.line == 3
    assert problem.message.startswith("YAML syntax error: ")


def test_syntax_error_in_a_mapping_value() -> None:
    problem = refusal("title: ok\nedition: Version: 1\n")
    assert problem.location == Location(PATH, 2, 17)
    assert problem.message == "YAML syntax error: mapping values are not allowed in this context"


def test_tab_indentation_gets_a_hint() -> None:
    problem = refusal("values:\n\t- id: a\n")
    assert problem.location == Location(PATH, 2, 1)
    assert problem.hint == "indent with spaces, never tabs"


def test_control_character_is_located() -> None:
    problem = refusal("title: ok\nsubtitle: é\x07\n")
    assert problem.location == Location(PATH, 2, 12)
    assert problem.message == "character U+0007 is not allowed in YAML text"


def test_more_than_one_document_is_refused() -> None:
    problem = refusal("title: a\n---\ntitle: b\n")
    assert problem.message == "more than one YAML document in this file"
    assert problem.location.line == 2


@pytest.mark.parametrize("text", [
    "[" * 999 + "]" * 999,  # within libyaml's 1,000 levels, beyond Python's stack (a crash, once)
    "- " * 999 + "x\n",
    "[" * 51 + "]" * 51,
])
def test_nesting_deeper_than_any_file_needs_is_refused(text: str) -> None:
    problem = refusal(text)
    assert problem.location == Location(PATH, 1, 51 if text.startswith("[") else 101)
    assert problem.message == "YAML nested more than 50 levels deep"
    assert problem.hint == ("a culturebook file needs a few levels; lists and mappings this deep "
                            "inside each other are a mistake")


def test_a_key_must_be_a_word() -> None:
    problem = refusal("[a, b]: c\n")
    assert problem.message == "a key must be a plain word"
    assert problem.location == Location(PATH, 1, 1)


@pytest.mark.slow
def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    problem = refusal("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.message.startswith("YAML syntax error: ")


# --- files --------------------------------------------------------------------------------------


def test_load_yaml_reads_utf8_with_or_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "en.yaml"
    path.write_bytes("\ufefftitle: 腾讯\n".encode())
    assert load_yaml(path).value["title"].value == "腾讯"


def test_non_utf8_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "en.yaml"
    path.write_bytes("title: ok\nsubtitle: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProjectError) as info:
        load_yaml(path)
    (problem,) = info.value.problems
    assert problem.location == Location(path, 2, 14)
    assert problem.message == "file is not UTF-8 text (byte 0xE9)"
    assert problem.hint == "save it as UTF-8"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as info:
        load_yaml(tmp_path / "missing.yaml")
    assert info.value.problems[0].message.startswith("cannot read file: ")


def test_problem_format_is_one_line_and_a_hint(tmp_path: Path) -> None:
    problem = Problem(Location(tmp_path / "content" / "en.yaml", 12, 5), "unknown key 'titel'",
                      "did you mean 'title'?")
    assert problem.format(tmp_path) == (
        "content/en.yaml:12:5: unknown key 'titel'\n    hint: did you mean 'title'?")
    warning = Problem(Location(tmp_path / "content" / "en.yaml", 3, 1), "doubtful", warning=True)
    assert warning.format(tmp_path) == "content/en.yaml:3:1: warning: doubtful"


# --- hints for YAML's pitfalls ------------------------------------------------------------------


def test_a_comment_where_the_value_was_is_kept_on_the_empty_node() -> None:
    tree = parse_yaml("a: #0052D9\nb:   # a remark\nc:\nd: '#x'\n", PATH).value
    assert tree["a"].value is None and tree["a"].comment == "#0052D9"
    assert tree["b"].value is None and tree["b"].comment == "# a remark"
    assert tree["c"].comment == "" and tree["d"].comment == ""


@pytest.mark.parametrize(("text", "where", "opened"), [
    ('title: ok\nsubtitle: "Our culture\nmission: x\n', Location(PATH, 4, 1), "2:11"),
    ("title: ok\nsubtitle: 'Our culture\nmission: x\n", Location(PATH, 4, 1), "2:11"),
    ('values:\n  - id: a\n    name: "Care\n  - id: b\n', Location(PATH, 5, 1), "3:11"),
])
def test_an_unclosed_quote_names_where_it_opened(text: str, where: Location, opened: str) -> None:
    problem = refusal(text)
    assert problem.location == where  # PyYAML's place: where the file ended
    assert problem.message == "YAML syntax error: found unexpected end of stream"
    assert problem.hint == f"the quote opened at {opened} is never closed"


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_quote_closed_on_a_later_line_names_where_it_opened(quote: str) -> None:
    q = quote
    problem = refusal(f"title: ok\nsubtitle: {q}Our culture\nmission: x\nvision: {q}y{q}\n")
    assert problem.location == Location(PATH, 4, 10)
    assert problem.hint == "the quote opened at 2:11 closes only at 4:9: close it on line 2"


def test_an_apostrophe_inside_single_quotes_gets_a_hint() -> None:
    problem = refusal("title: 'We're here'\n")
    assert problem.location == Location(PATH, 1, 12)
    assert problem.hint == ("the quote opened at 1:8 closes at 1:11: inside '...' write an "
                            "apostrophe twice ('') or quote the text with \"...\"")


def test_a_quotation_mark_inside_double_quotes_gets_a_hint() -> None:
    problem = refusal('title: "Say "hi" now"\n')
    assert problem.location == Location(PATH, 1, 14)
    assert problem.hint == ("the quote opened at 1:8 closes at 1:13: inside \"...\" write a "
                            "quotation mark as \\\" or quote the text with '...'")


def test_a_backslash_in_double_quotes_gets_a_hint() -> None:
    problem = refusal('title: "C:\\path"\n')
    assert problem.location.line == 1
    assert problem.hint == ("in \"...\" a backslash starts an escape such as \\n: write \\\\ for a "
                            "backslash, or quote the text with '...'")


# --- through the command line, in content ---------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from projectkit import make_project

    return make_project(tmp_path_factory.mktemp("yaml") / "project")


def _checked(root: Path, old: str, new: str) -> list[str]:
    from projectkit import assert_refused, run_cli

    en = root / "content/en.yaml"
    text = en.read_text(encoding="utf-8")
    assert text.count(old) == 1
    en.write_text(text.replace(old, new), encoding="utf-8")
    try:
        return assert_refused(run_cli("check", cwd=root), None)
    finally:
        en.write_text(text, encoding="utf-8")


def test_a_field_lost_to_a_comment_is_an_error_with_the_hint(small: Path) -> None:
    assert _checked(small, 'title: "Small Things, Done Well"', "title: #1 team") == [
        "content/en.yaml:2:1: title is empty: YAML reads '#1 team' after it as a comment",
        '    hint: a `#` starts a comment in YAML: quote the text, e.g. title: "#1 team"',
        "1 problem in 1 file; nothing was written",
    ]


def test_an_optional_field_lost_to_a_comment_is_not_dropped_silently(small: Path) -> None:
    assert _checked(small, 'edition: "Version 1"', "edition: #2")[:2] == [
        "content/en.yaml:5:1: edition is empty: YAML reads '#2' after it as a comment",
        '    hint: a `#` starts a comment in YAML: quote the text, e.g. edition: "#2"',
    ]


def test_an_unclosed_double_quote_in_content_through_the_cli(small: Path) -> None:
    lines = _checked(small, 'them."', "them.")  # line 13; the quote on line 15 closes it
    assert lines[:2] == [
        "content/en.yaml:15:12: YAML syntax error: did not find expected key",
        "    hint: the quote opened at 13:16 closes only at 15:11: close it on line 13",
    ]


def test_an_unclosed_single_quote_in_content_through_the_cli(small: Path) -> None:
    lines = _checked(small, 'name: "Care"', "name: 'Care")  # line 12; no other ' in the file
    assert lines[:2] == [
        "content/en.yaml:28:1: YAML syntax error: found unexpected end of stream",
        "    hint: the quote opened at 12:11 is never closed",
    ]


@pytest.mark.parametrize(("escape", "code"), [("\\0", "0000"), ("\\e", "001B"), ("\\x07", "0007"),
                                              ("\\r", "000D"), ("\\x85", "0085")])
def test_a_control_character_written_as_an_escape_is_refused(escape: str, code: str) -> None:
    problem = refusal(f'title: ok\nsubtitle: "a{escape}b"\n')
    assert problem.location == Location(PATH, 2, 11)
    assert problem.message == f"character U+{code} is not allowed in YAML text"
    assert problem.hint == 'delete the escape that writes it in "..." (such as \\0, \\x07 or \\e)'
    # tab and line feed are text
    assert parse_yaml('a: "one\\ttwo\\nthree"\n', PATH).value["a"].value == "one\ttwo\nthree"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_file_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "en.yaml"
    path.write_bytes(("\ufeff" if encoding == "utf-16-be" else "").encode(encoding)
                     + "title: Café\n".encode(encoding))
    with pytest.raises(ProjectError) as info:
        load_yaml(path)
    (problem,) = info.value.problems
    assert problem.location == Location(path, 1, 1)
    assert problem.message == "file is UTF-16 text, not UTF-8"
    assert problem.hint == "save it as UTF-8"
