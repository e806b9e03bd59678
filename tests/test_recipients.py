"""read_recipients: typed rows, slugs, exact line:col for every problem, and what stops the whole file."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from culturebook.errors import Location, Problems, ProjectError
from culturebook.project.recipients import Recipient, csv_text, from_csv_cell, read_recipients

COLUMNS = {"team": "text", "start_date": "date", "manager": "text"}
LANGUAGES = ["en", "zh-Hans"]
HEADER = "name,email,slug,language,team,start_date\n"


def read(tmp_path: Path, data: str | bytes) -> tuple[list[Recipient], list[str]]:
    """The recipients read from `data` as people.csv, and every problem formatted as the CLI prints it."""
    path = tmp_path / "people.csv"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    problems = Problems()
    recipients = read_recipients(path, COLUMNS, LANGUAGES, problems)
    return recipients, [p.format(root=tmp_path) for p in problems.items]


def refusal(tmp_path: Path, data: str | bytes) -> str:
    """The one problem that stops reading `data`, formatted."""
    with pytest.raises(ProjectError) as info:
        read(tmp_path, data)
    assert len(info.value.problems) == 1
    return info.value.problems[0].format(root=tmp_path)


def names(recipients: list[Recipient]) -> list[str]:
    return [r.name for r in recipients]


# --- good files ---------------------------------------------------------------------------------


def test_every_column_is_read_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    [ann, bob] = read(tmp_path, HEADER + "Ann Lee,ann@example.com,ann,zh-Hans,Design,2025-03-14\n"
                      "Bob Stone,,,,,\n")[0]
    assert ann == Recipient(
        line=2, name="Ann Lee", email="ann@example.com", slug="ann", language="zh-Hans",
        values={"team": "Design", "start_date": dt.date(2025, 3, 14), "manager": None},
        cells={"name": Location(path, 2, 1), "email": Location(path, 2, 9), "slug": Location(path, 2, 25),
               "language": Location(path, 2, 29), "team": Location(path, 2, 37),
               "start_date": Location(path, 2, 44)})
    assert (bob.email, bob.slug, bob.language) == ("", "bob-stone", "")
    assert bob.values == {"team": None, "start_date": None, "manager": None}


def test_a_name_column_alone_is_enough(tmp_path: Path) -> None:
    [ann] = read(tmp_path, "name\nAnn\n")[0]
    assert (ann.name, ann.email, ann.slug, ann.language) == ("Ann", "", "ann", "")
    assert ann.values == {"team": None, "start_date": None, "manager": None}
    assert list(ann.cells) == ["name"]


@pytest.mark.parametrize(("name", "email", "slug"), [
    ("José Núñez", "", "jose-nunez"),
    ("Søren Kierkegaard-Æbeltoft", "", "soren-kierkegaard-aebeltoft"),
    ("  Ann   O'Neil  ", "", "ann-o-neil"),
    ("张伟", "wei.zhang@example.com", "wei-zhang"),
    ("王芳", "Wang_Fang+hr@example.cn", "wang-fang-hr"),
    ("Ann " + "x" * 80, "", "ann-" + "x" * 56),
])
def test_the_slug_is_made_from_the_name_else_the_email(tmp_path: Path, name: str, email: str,
                                                         slug: str) -> None:
    [recipient] = read(tmp_path, f"name,email\n{name},{email}\n")[0]
    assert (recipient.name, recipient.slug) == (name.strip(), slug)


def test_language_matches_whatever_its_case(tmp_path: Path) -> None:
    [ann] = read(tmp_path, "name,language\nAnn,ZH-hans\n")[0]
    assert ann.language == "zh-Hans"


def test_column_names_match_whatever_their_case(tmp_path: Path) -> None:
    [ann] = read(tmp_path, "Name,EMAIL,Start_Date\nAnn,ann@example.com,2025-01-02\n")[0]
    assert (ann.email, ann.values["start_date"]) == ("ann@example.com", dt.date(2025, 1, 2))


def test_bom_crlf_blank_lines_and_empty_rows_are_accepted(tmp_path: Path) -> None:
    data = "\ufeffname,email\r\n\r\nAnn,ann@example.com\r\n,\r\n  \r\nBob,bob@example.com\r\n"
    recipients, problems = read(tmp_path, data.encode("utf-8"))
    assert (names(recipients), [r.line for r in recipients], problems) == (["Ann", "Bob"], [3, 6], [])
    assert recipients[0].cells["name"].col == 1  # the byte order mark is not a character of the text


def test_cells_are_stripped_and_short_rows_are_empty_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    [ann] = read(tmp_path, "name,email,team\n  Ann Lee\t,  ann@example.com \n")[0]
    assert (ann.name, ann.email, ann.values["team"]) == ("Ann Lee", "ann@example.com", None)
    assert ann.cells["team"] == Location(path, 2, 30)  # where the missing cell would be typed


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, delimiter: str) -> None:
    header = delimiter.join(["name", "email", "team", "start_date"])
    row = delimiter.join(['"Lee, Ann"', "ann@example.com", '"R&D; Lab"', "2025-03-14"])
    bob = delimiter.join(["Bob", "", "", "13/03/2025"])
    recipients, problems = read(tmp_path, f"{header}\n{row}\n{bob}\n")
    [ann] = recipients
    assert (ann.name, ann.values["team"], ann.values["start_date"]) == ("Lee, Ann", "R&D; Lab",
                                                                        dt.date(2025, 3, 14))
    assert ann.cells["team"].col == 28
    assert problems == ["people.csv:3:7: start_date '13/03/2025' is not a date written YYYY-MM-DD\n"
                        "    hint: e.g. 2025-03-14; in a spreadsheet, format the column as yyyy-mm-dd "
                        "before saving"]


def test_quoted_cells_keep_commas_quotes_and_newlines_and_later_cells_stay_located(tmp_path: Path) -> None:
    data = ('name,team,manager,start_date\n'
            '"Lee, Ann","Design\n'
            'and ""Print""",  "Ng, Bo" x,2025-03-14\n'
            'Bob,"a\n'
            '\n'
            'b",,2025-3-14\n'
            'Cy,Ops\n')
    recipients, problems = read(tmp_path, data)
    [ann, cy] = recipients
    assert ann.values == {"team": 'Design\nand "Print"', "start_date": dt.date(2025, 3, 14),
                          "manager": "Ng, Bo x"}
    assert (ann.cells["manager"].line, ann.cells["manager"].col) == (3, 16)
    assert (ann.cells["start_date"].line, ann.cells["start_date"].col) == (3, 29)
    assert (cy.line, cy.cells["team"].line, cy.cells["team"].col) == (7, 7, 4)
    assert problems == ["people.csv:6:5: start_date '2025-3-14' is not a date written YYYY-MM-DD\n"
                        "    hint: e.g. 2025-03-14; in a spreadsheet, format the column as yyyy-mm-dd "
                        "before saving"]


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    _, problems = read(tmp_path, "name,email\n张伟,nope\n")
    assert problems[0].startswith("people.csv:2:4: 'nope' is not an email address")


# --- a bad row: one error, left out, the rest still read ----------------------------------------

EMAIL_HINT = "\n    hint: an address looks like ann.lee@example.com"
DATE_HINT = "\n    hint: e.g. 2025-03-14; in a spreadsheet, format the column as yyyy-mm-dd before saving"
SLUG_HINT = "\n    hint: give each recipient a different slug (a slug column sets it)"


@pytest.mark.parametrize(("rows", "expected"), [
    (",ann@example.com", "people.csv:2:1: the name is empty\n    hint: every row needs the recipient's name"),
    ('  "  ",ann@example.com', "people.csv:2:1: the name is empty\n"
                               "    hint: every row needs the recipient's name"),
    ("Ann,ann@example.com,ann,en,Ops,2025-01-01,extra",
     "people.csv:2:43: this row has 7 cells but the header has 6 columns\n"
                                 "    hint: a cell that contains ',' must be in double quotes"),
    ("Ann,ann@example.com,,,,,,,x", "people.csv:2:27: this row has 9 cells but the header has 6 columns\n"
                                    "    hint: a cell that contains ',' must be in double quotes"),
    ("Ann,ann.example.com", "people.csv:2:5: 'ann.example.com' is not an email address" + EMAIL_HINT),
    ("Ann,ann@example", "people.csv:2:5: 'ann@example' is not an email address" + EMAIL_HINT),
    ("Ann,ann lee@example.com", "people.csv:2:5: 'ann lee@example.com' is not an email address" + EMAIL_HINT),
    ("Ann,ann@x@example.com", "people.csv:2:5: 'ann@x@example.com' is not an email address" + EMAIL_HINT),
    ("Ann,ann@example..com", "people.csv:2:5: 'ann@example..com' is not an email address" + EMAIL_HINT),
    ("Ann,ann@example.com\nBob, ANN@Example.com", "people.csv:3:5: duplicate email 'ANN@Example.com' "
                                                 "(also on line 2)\n    hint: list each recipient once"),
    ("Ann,,Ann Lee", "people.csv:2:6: the slug 'Ann Lee' is not lowercase a-z, 0-9 and '-' (starting with "
                     "a letter or digit)\n    hint: e.g. ann-lee"),
    ("Ann,,-ann", "people.csv:2:6: the slug '-ann' is not lowercase a-z, 0-9 and '-' (starting with "
                  "a letter or digit)\n    hint: e.g. ann"),
    ("Ann,,张", "people.csv:2:6: the slug '张' is not lowercase a-z, 0-9 and '-' (starting with "
                "a letter or digit)"),
    ("Ann,,ann\nBob,,ann", "people.csv:3:6: duplicate slug 'ann' (also on line 2)" + SLUG_HINT),
    ("Ann Lee\nann lee", "people.csv:3:1: duplicate slug 'ann-lee', made from the name (also on line 2)"
                         + SLUG_HINT),
    ("Ann,,ann-lee\nAnn Lee", "people.csv:3:1: duplicate slug 'ann-lee', made from the name (also on line 2)"
                              + SLUG_HINT),
    ("张伟,wei@example.com\n王伟,wei@example.org",
     "people.csv:3:4: duplicate slug 'wei', made from the email (also on line 2)" + SLUG_HINT),
    ("张伟", "people.csv:2:1: cannot make a file name from the name '张伟'\n"
            "    hint: add a slug column (a-z, 0-9 and '-'), e.g. zhang-wei"),
    ("Ann,,,fr", "people.csv:2:7: language 'fr' is not one of the publication's languages: en, zh-Hans\n"
                 "    hint: leave it empty for a booklet in every language"),
    ("Ann,,,,,14/03/2025", "people.csv:2:9: start_date '14/03/2025' is not a date written YYYY-MM-DD"
                           + DATE_HINT),
    ("Ann,,,,,2025-02-30", "people.csv:2:9: start_date '2025-02-30' is not a date written YYYY-MM-DD"
                           + DATE_HINT),
    ("Ann,,,,,20250314", "people.csv:2:9: start_date '20250314' is not a date written YYYY-MM-DD"
                         + DATE_HINT),
    ("Ann,,,,,2025-03-14T09:00", "people.csv:2:9: start_date '2025-03-14T09:00' is not a date written "
                                 "YYYY-MM-DD" + DATE_HINT),
])
def test_a_bad_row_is_one_located_error(tmp_path: Path, rows: str, expected: str) -> None:
    recipients, problems = read(tmp_path, HEADER + rows + "\nZoe,zoe@example.com\n")
    assert problems == [expected]
    assert names(recipients)[-1] == "Zoe"  # the rows after a bad one are still read


def test_good_rows_are_returned_around_bad_ones(tmp_path: Path) -> None:
    data = HEADER + ("Ann,ann@example.com\n"
                     "Bob,bob@example\n"
                     "Cy,,,,,2025-13-01\n"
                     "Di,di@example.com,,en,Ops,2025-01-31\n"
                     ",ed@example.com\n"
                     "Flo,DI@example.com\n")
    recipients, problems = read(tmp_path, data)
    assert names(recipients) == ["Ann", "Di"]
    assert [p.splitlines()[0] for p in problems] == [
        "people.csv:3:5: 'bob@example' is not an email address",
        "people.csv:4:8: start_date '2025-13-01' is not a date written YYYY-MM-DD",
        "people.csv:6:1: the name is empty",
        "people.csv:7:5: duplicate email 'DI@example.com' (also on line 5)",
    ]


def test_an_email_repeated_after_a_bad_row_is_still_caught(tmp_path: Path) -> None:
    _, problems = read(tmp_path, HEADER + "Ann,ann@example.com,,,,soon\nAnn L,ann@example.com\n")
    assert [p.splitlines()[0] for p in problems] == [
        "people.csv:2:24: start_date 'soon' is not a date written YYYY-MM-DD",
        "people.csv:3:7: duplicate email 'ann@example.com' (also on line 2)",
    ]


# --- what goes into mail headers, file names and CSV files ---------------------------------------

CONTROL_HINT = ("\n    hint: a name or address goes into mail headers, file names and CSV files: keep "
                "it on one line, without control characters")


@pytest.mark.parametrize(("rows", "expected"), [
    ('"Fay\nNewline",fay@example.com', "people.csv:2:1: the name 'Fay\\nNewline' holds a line break"),
    ('"Eve\nBcc: someone@example.com",eve@example.com',
     "people.csv:2:1: the name 'Eve\\nBcc: someone@example.com' holds a line break"),
    ('Ann,"ann@example.com\nBcc: x@example.com"',
     "people.csv:2:5: the email 'ann@example.com\\nBcc: x@example.com' holds a line break"),
    ("Ann\x85Lee,ann@example.com", "people.csv:2:1: the name 'Ann\\x85Lee' holds a line break"),
    ("Ann\u2028Lee,ann@example.com", "people.csv:2:1: the name 'Ann\\u2028Lee' holds a line break"),
    ('"Ann\tLee",ann@example.com', "people.csv:2:1: the name 'Ann\\tLee' holds a tab"),
    ("Ann\x07Lee,ann@example.com",
     "people.csv:2:1: the name 'Ann\\x07Lee' holds a control character (U+0007)"),
    ("Ann,ann\x00x@example.com",
     "people.csv:2:5: the email 'ann\\x00x@example.com' holds a control character (U+0000)"),
])
def test_a_line_break_or_control_character_is_one_located_error(tmp_path: Path, rows: str,
                                                                 expected: str) -> None:
    recipients, problems = read(tmp_path, HEADER + rows + "\nZoe,zoe@example.com\n")
    assert problems == [expected + CONTROL_HINT]
    assert names(recipients) == ["Zoe"]


FORMULA_HINT = ("\n    hint: culturebook writes it with a leading ' in its CSV files (recipients.csv), "
                "so that a spreadsheet shows it as text; start it otherwise if it is not meant that way")


def test_a_cell_a_spreadsheet_would_take_for_a_formula_is_a_warning_at_it(tmp_path: Path) -> None:
    data = HEADER + ('"=HYPERLINK(""http://example.com"")",a@example.com\n'
                     "+1+1,b@example.com\n"
                     "-2+3,c@example.com\n"
                     "@SUM(1+1),d@example.com\n"
                     "Ed,=1+1@example.com\n"
                     "Flo,flo@example.com\n")
    recipients, problems = read(tmp_path, data)
    assert names(recipients) == ['=HYPERLINK("http://example.com")', "+1+1", "-2+3", "@SUM(1+1)",
                                 "Ed", "Flo"]
    message = "a spreadsheet would take it for a formula"
    assert problems == [
        f"people.csv:2:1: warning: the name '=HYPERLINK(\"http://example.com\")' starts with '=': "
        f"{message}" + FORMULA_HINT,
        f"people.csv:3:1: warning: the name '+1+1' starts with '+': {message}" + FORMULA_HINT,
        f"people.csv:4:1: warning: the name '-2+3' starts with '-': {message}" + FORMULA_HINT,
        f"people.csv:5:1: warning: the name '@SUM(1+1)' starts with '@': {message}" + FORMULA_HINT,
        f"people.csv:6:4: warning: the email '=1+1@example.com' starts with '=': {message}"
        + FORMULA_HINT,
    ]


def test_the_csv_the_tool_writes_reads_back_cell_for_cell(tmp_path: Path) -> None:
    rows = [["recipient", "email"], ["Fay\nNewline", "fay@example.com"], ['Lee, Ann "Annie"', "a\rb"],
            ["=1+1", "+1"], ["-2+3", "@SUM(1+1)"], ["\tTab", "\rReturn"], ["'Quoted", "plain"]]
    path = tmp_path / "out.csv"
    path.write_text(csv_text(rows), encoding="utf-8", newline="")
    with open(path, encoding="utf-8", newline="") as table:
        back = list(csv.reader(table))
    assert back == [["recipient", "email"], ["Fay\nNewline", "fay@example.com"],
                    ['Lee, Ann "Annie"', "a\rb"], ["'=1+1", "'+1"], ["'-2+3", "'@SUM(1+1)"],
                    ["'\tTab", "'\rReturn"], ["'Quoted", "plain"]]
    assert [[from_csv_cell(cell) for cell in row] for row in back] == rows


# --- columns that are not used ------------------------------------------------------------------


def test_an_undeclared_column_is_a_warning_and_ignored(tmp_path: Path) -> None:
    recipients, problems = read(tmp_path, "name,Phone,email,phone\nAnn,123,ann@example.com,456\n")
    assert [r.email for r in recipients] == ["ann@example.com"]
    message = "is not declared in content/publication.yaml (recipients); it is ignored"
    assert problems == [f"people.csv:1:6: warning: column 'Phone' {message}",
                        f"people.csv:1:18: warning: column 'phone' {message}"]


def test_a_column_without_a_name_is_a_warning_only_when_it_holds_something(tmp_path: Path) -> None:
    assert read(tmp_path, "name,,\nAnn,,\n")[1] == []
    assert read(tmp_path, "name,,email\nAnn,x,\n")[1] == [
        "people.csv:1:6: warning: this column has no name in the header; its cells are ignored"]


# --- the whole file is refused ------------------------------------------------------------------

EMPTY_HINT = "\n    hint: the first line names the columns, e.g. name,email,team; then one row per recipient"
UTF8_HINT = "\n    hint: save it as UTF-8 (in Excel: CSV UTF-8)"
CSV_HINT = "\n    hint: save it as comma-separated values (CSV); ';'- and tab-separated files are read too"


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "people.csv:1:1: the recipients file is empty" + EMPTY_HINT),
    (b"\xef\xbb\xbf", "people.csv:1:1: the recipients file is empty" + EMPTY_HINT),
    (b"\n  \r\n,,\n", "people.csv:1:1: the recipients file is empty" + EMPTY_HINT),
    (b"name,email\n", "people.csv:1:1: the recipients file has a header but no rows" + EMPTY_HINT),
    (b"\n\nname,email\n,\n\n", "people.csv:3:1: the recipients file has a header but no rows" + EMPTY_HINT),
    ("name\nAnn\nJos\u00e9 N\u00fa\u00f1ez\n".encode("cp1252"),
     "people.csv:3:4: not UTF-8 text (byte 0xE9)" + UTF8_HINT),
    ("name\n\u5f20\u4f1f\u00e9,\u00e9".encode() + b"\xff\n",
     "people.csv:2:6: not UTF-8 text (byte 0xFF)" + UTF8_HINT),
    ("name\nAnn\n".encode("utf-16"), "people.csv:1:1: UTF-16 text, not UTF-8" + UTF8_HINT),
    (b"full name,e-mail,team\nAnn,ann@example.com,Ops\n",
     "people.csv:1:1: no 'name' column; the columns are: full name, e-mail, team\n"
     "    hint: the first line names the columns and one must be 'name', e.g. name,email,team"),
    (b"Ann Lee,ann@example.com\nBob,bob@example.com\n",
     "people.csv:1:1: no 'name' column; the columns are: Ann Lee, ann@example.com\n"
     "    hint: the first line names the columns and one must be 'name', e.g. name,email,team"),
    (b"name,email,team,Email\nAnn,a@example.com,Ops,b@example.com\n",
     "people.csv:1:17: duplicate column 'Email' (first at 1:6)\n    hint: keep one column of each name"),
    (b"name|email\nAnn|ann@example.com\n", "people.csv:1:1: the columns are separated by '|', not commas"
     + CSV_HINT),
    (b"name;email\tteam\nAnn;ann@example.com\tOps\n",
     "people.csv:1:1: the header has both ';' and tabs and no commas: which separates the columns?"
     + CSV_HINT),
    (b'name,team\nAnn,Ops\nBob,"R&D\nCy,Ops\n', "people.csv:3:5: a quoted cell is not closed\n"
     '    hint: end it with "; a " inside a quoted cell is written ""'),
    (b'name,team\nAnn,"say ""hi"" \nBob,Ops\n', "people.csv:2:5: a quoted cell is not closed\n"
     '    hint: end it with "; a " inside a quoted cell is written ""'),
])
def test_an_unusable_file_is_refused_with_one_located_problem(tmp_path: Path, data: bytes,
                                                              expected: str) -> None:
    assert refusal(tmp_path, data) == expected


def test_every_repeated_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as info:
        read(tmp_path, "name,team,Name,team\nAnn,a,b,c\n")
    assert [p.format(root=tmp_path) for p in info.value.problems] == [
        "people.csv:1:11: duplicate column 'Name' (first at 1:1)\n    hint: keep one column of each name",
        "people.csv:1:16: duplicate column 'team' (first at 1:6)\n    hint: keep one column of each name",
    ]


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    hint = "\n    hint: check the path given to --recipients"
    unreadable = [(tmp_path / "missing.csv", "No such file or directory"), (tmp_path, "Is a directory")]
    for path, reason in unreadable:
        with pytest.raises(ProjectError) as info:
            read_recipients(path, COLUMNS, LANGUAGES, Problems())
        shown = path.relative_to(tmp_path.parent)
        assert info.value.problems[0].format(root=tmp_path.parent) == (
            f"{shown}: cannot read the recipients file: {reason}{hint}")


def test_a_declared_column_must_have_a_known_type_and_its_own_name() -> None:
    for columns in ({"team": "number"}, {"Email": "text"}):
        with pytest.raises(ValueError):
            read_recipients(Path("people.csv"), columns, LANGUAGES, Problems())
