"""content/ -> Editions: translations and their fallbacks, the files a project needs, images, and
Markdown that can only ever be text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from culturebook.content import MAX_IMAGE_PIXELS, load_content
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.markup import render_markdown
from projectkit import PROJECTS, assert_refused, edit, make_project, problem_lines, run_cli, where


def content_of(tmp_path: Path, name: str) -> Path:
    """tests/projects/<name>/content (all load_content reads) in a temporary project folder."""
    shutil.copytree(PROJECTS / name / "content", tmp_path / "content")
    return tmp_path


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    return content_of(tmp_path, "minimal")


@pytest.fixture
def bilingual(tmp_path: Path) -> Path:
    return content_of(tmp_path, "bilingual")


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(ProjectError) as info:
        load_content(root, Problems())
    return info.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def at(path: Path, text: str, needle: str) -> Location:
    line, col = where(text, needle).split(":")
    return Location(path, int(line), int(col))


# --- good content -------------------------------------------------------------------------------


def test_the_test_projects_load_without_a_problem(minimal: Path, tmp_path: Path) -> None:
    problems = Problems()
    content = load_content(minimal, problems)
    assert problems.items == []
    (en,) = content.editions
    assert [v["id"] for v in en.data["values"]] == ["care", "candour", "craft"]
    assert len(en.data["chapters"]) == 1 and not en.data["milestones"]

    bilingual = content_of(tmp_path / "two", "bilingual")
    content = load_content(bilingual, problems)
    assert problems.items == []  # the translation is complete: not one fallback warning
    assert [e.lang for e in content.editions] == ["en", "zh-Hans"]
    assert content.edition("zh-Hans").data["values"][0]["name"] == "用心"


def test_yaml_11_surprises_stay_the_text_typed(minimal: Path) -> None:
    en = minimal / "content" / "en.yaml"
    edit(en, 'edition: "Version 1"', "edition: NO")
    edit(en, 'vision: "Work people are proud of"', "vision: 12:30")
    edit(en, 'subtitle: "The Example Company culture"', "subtitle: 1e3")
    edit(en, 'author: "Example Co"', "author: ~")
    edit(en, "\nchapters:", '\nmilestones:\n  - year: 0o17\n    text: "yes"\n  - year: 2007\n'
         "    text: yes\n\nchapters:")
    data = load_content(minimal, Problems()).editions[0].data
    assert (data["edition"], data["vision"], data["subtitle"], data["author"]) == (
        "NO", "12:30", "1e3", "~")
    assert data["milestones"] == [{"year": "0o17", "text": "yes"}, {"year": "2007", "text": "yes"}]


# --- translations -------------------------------------------------------------------------------


def test_missing_translation_falls_back_with_a_warning(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    edit(zh, 'subtitle: "示例公司的文化"\n', "")
    problems = Problems()
    content = load_content(bilingual, problems)
    (warning,) = problems.items
    en_text = (bilingual / "content" / "en.yaml").read_text()
    assert warning.warning
    assert warning.location == at(bilingual / "content" / "en.yaml", en_text, "subtitle:")
    assert warning.message == (
        "subtitle has no zh-Hans translation; the zh-Hans edition uses the en text")
    assert warning.hint == "add subtitle to content/zh-Hans.yaml"
    assert content.edition("zh-Hans").data["subtitle"] == "The Example Company culture"


def test_missing_translation_of_an_item_field_names_the_item(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    edit(zh, '    statement: "我们及早、善意地说出所想。"\n', "")
    problems = Problems()
    content = load_content(bilingual, problems)
    (warning,) = problems.items
    assert warning.message.startswith("values[2].statement has no zh-Hans translation")
    assert content.edition("zh-Hans").data["values"][1]["statement"] == (
        "We say what we think, kindly and early.")


def test_missing_translation_is_an_error_under_strict(bilingual: Path) -> None:
    root = make_project(bilingual.parent / "project", "bilingual")
    edit(root / "content" / "zh-Hans.yaml", 'subtitle: "示例公司的文化"\n', "")
    en_text = (root / "content" / "en.yaml").read_text()
    message = (f"content/en.yaml:{where(en_text, 'subtitle:')}: subtitle has no zh-Hans translation; "
               "the zh-Hans edition uses the en text")
    hint = "add subtitle to content/zh-Hans.yaml"

    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert problem_lines(result)[:2] == [message.replace(": subtitle", ": warning: subtitle", 1),
                                         f"    hint: {hint}"]

    lines = assert_refused(run_cli("check", "--strict", cwd=root), message, hint)
    assert lines[-1] == "1 problem in 1 file; nothing was written"


def test_list_length_mismatch(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, '  - id: craft\n    name: "匠心"\n    statement: "我们有始有终，并且把事情做好。"\n', "")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "values:")
    assert problem.message == "values has 2 items here but 3 in content/en.yaml"
    assert problem.hint == "keep the same items in the same order in every language"


def test_id_mismatch(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, "id: craft", "id: kraft")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "kraft")
    assert problem.message == "values[3].id is 'kraft' here but 'craft' in content/en.yaml"


def test_translation_fields_naming_no_field(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, "fields: [title,", "fields: [values.statment, title,")
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "values.statment")
    assert problem.message == "translation.fields: no field 'values.statment'"
    assert problem.hint == "did you mean 'values.statement'?"


def test_unknown_key_in_a_translation(bilingual: Path) -> None:
    zh = bilingual / "content" / "zh-Hans.yaml"
    text = edit(zh, 'vision: "让人自豪的工作"', 'visoin: "让人自豪的工作"')
    problem = only(problems_of(bilingual))
    assert problem.location == at(zh, text, "visoin")
    assert problem.hint == "did you mean 'vision'?"


# --- the files of a project ---------------------------------------------------------------------


def test_content_file_missing_for_a_listed_language(minimal: Path) -> None:
    pub = minimal / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, fr]")
    problem = only(problems_of(minimal))
    assert problem.location == at(pub, text, "fr")
    assert problem.message == "no content file for language 'fr'"
    assert problem.hint == "create content/fr.yaml (copy content/en.yaml)"


def test_a_folder_without_content(tmp_path: Path) -> None:
    assert_refused(run_cli("check", "--project", str(tmp_path), cwd=tmp_path),
                   f"content: no content/ folder in {tmp_path.resolve()}",
                   "run culturebook in a project folder (one with content/publication.yaml), "
                   "pass --project DIR, or make a project with culturebook new DIR")


def test_content_without_publication_yaml(minimal: Path) -> None:
    (minimal / "content" / "publication.yaml").unlink()
    problem = only(problems_of(minimal))
    assert problem.location == Location(minimal / "content" / "publication.yaml")
    assert problem.message.startswith("file not found")


def test_a_project_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    result = run_cli("check", "--project", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nowhere'}: no such project folder"]


# --- images -------------------------------------------------------------------------------------


def add_paragraph(root: Path, markdown: str) -> str:
    last = "Everything else follows from that."
    return edit(root / "content" / "en.yaml", last, f"{last}\n\n      {markdown}")


def test_an_image_inside_content_is_accepted(minimal: Path) -> None:
    Image.new("RGB", (40, 30), "#0052D9").save(minimal / "content" / "logo.png")
    add_paragraph(minimal, "![logo](logo.png)")
    (edition,) = load_content(minimal, Problems()).editions
    assert [i.file for i in edition.images] == [(minimal / "content" / "logo.png").resolve()]


@pytest.mark.parametrize("src", ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x",
                                 "//example.com/a.png", "https://example.com/a.png"])
def test_an_image_that_is_not_a_project_file(minimal: Path, src: str) -> None:
    text = add_paragraph(minimal, f"Look: ![x]({src})")
    problem = only(problems_of(minimal))
    assert problem.location == at(minimal / "content" / "en.yaml", text, "![x]")
    assert problem.message.startswith("image '")
    assert problem.message.endswith("' is not a file in the project; nothing is fetched")


def test_an_image_far_over_the_limit_is_over_the_limit(minimal: Path) -> None:
    # Past twice its own limit Pillow refuses to open a file at all; that is still "too big".
    side = 15_000
    Image.new("1", (side, side), 0).save(minimal / "content" / "huge.png")
    add_paragraph(minimal, "![huge](huge.png)")
    problem = only(problems_of(minimal))
    assert problem.message == f"image 'huge.png' is over the {MAX_IMAGE_PIXELS // 1_000_000} MP limit"


def test_a_file_that_is_not_an_image(minimal: Path) -> None:
    (minimal / "content" / "fake.png").write_text("not a picture")
    add_paragraph(minimal, "![fake](fake.png)")
    assert only(problems_of(minimal)).message == "image 'fake.png' cannot be read as an image"


# --- Markdown and HTML --------------------------------------------------------------------------


def test_raw_html_in_markdown_is_escaped() -> None:
    html = render_markdown('<script>alert(1)</script> and <img src="x" onerror="alert(2)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_in_content_is_printed_as_text(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    en = root / "content" / "en.yaml"
    edit(en, 'title: "Small Things, Done Well"', 'title: "Small <b>Things</b> & Co"')
    edit(en, "Everything else follows from that.",
         "Everything else follows from that.\n\n      <script>alert(1)</script> stays text.")
    result = run_cli("build", "booklet", cwd=root)
    assert result.returncode == 0, result.stderr

    pdf = root / "build" / "en" / "booklet.pdf"
    reader = PdfReader(pdf)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "<script>alert(1)</script> stays text." in text
    assert "Small <b>Things</b> & Co" in text
    assert reader.metadata.title == "Small <b>Things</b> & Co"
    raw = pdf.read_bytes()
    assert b"/JavaScript" not in raw and b"/JS " not in raw and b"/JS(" not in raw


# --- no word alone on a last line -------------------------------------------------------------


@pytest.mark.parametrize(("text", "html"), [
    ("Be open and keep evolving.", "Be open and keep\u00a0evolving."),  # a no-break space
    ("用户为本，科技向善", '用户为本，科技<span style="white-space: nowrap">向善</span>'),
    ("Own", "Own"),
    ("A <b> & internationalisation responsibilities",  # too long a pair to keep together
     "A &lt;b&gt; &amp; internationalisation responsibilities"),
])
def test_keep_last_keeps_a_short_last_pair_together(text, html):
    from culturebook.markup import keep_last

    assert keep_last(text) == html


def test_markdown_paragraphs_keep_their_last_two_words_together():
    html = render_markdown("We started *small* things that work.\n\nEnd *here*")
    assert html == "<p>We started <em>small</em> things that\u00a0work.</p>\n<p>End <em>here</em></p>\n"


def test_a_quote_ends_on_a_line_of_two_words(tmp_path):
    """A pull quote whose last word would stand alone at the booklet's measure ends on two."""
    from conftest import copy_project, read_pdf, text_pieces
    from culturebook.build import build

    root = copy_project(tmp_path / "project")
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    quote = "Technology is a double-edged sword."
    assert quote in text
    # At the pull quote's measure this would end on a line of one word: "itself."
    longer = ("Technology is a double-edged sword, and we hold it by the handle firmly, never by "
              "the blade itself.")
    en.write_text(text.replace(quote, longer, 1), encoding="utf-8")
    build(root, "booklet", ["en"])
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    lines = [p.text.strip() for i in range(len(reader.pages)) for p in text_pieces(reader, i)]
    at = max(i for i, line in enumerate(lines) if line.endswith("itself."))
    assert len(lines[at].split()) >= 2, lines[at - 2:at + 1]


def test_strict_refuses_each_untranslated_field_at_its_place_in_the_source(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", "languages")
    en = (root / "content" / "en.yaml").read_text()
    statement = where(en, 'statement: "We say')
    title = where(en, 'title: "How we work"')
    body = where(en, 'title: "How we work"',
                 en.index("body: |", en.index("How we work")) - en.index('title: "How we work"'))
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    lines = assert_refused(run_cli("build", "booklet", "--strict", cwd=root), None)
    untranslated = "has no fr translation; the fr edition uses the en text"
    assert [line for line in lines if not line.startswith("    hint:")] == [
        f"content/en.yaml:{statement}: values[2].statement {untranslated}",
        f"content/en.yaml:{title}: chapters[2].title {untranslated}",
        f"content/en.yaml:{body}: chapters[2].body {untranslated}",
        "content/fr.yaml:1:1: no labels for fr in the theme: contents, mission, vision, values, "
        "milestones, notes, edition, published, organisation, translation, untranslated, cover, "
        "quotes, date_format, months are in English; translate them under labels:",
        "4 problems in 2 files; nothing was written",
    ]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


RTL_HINT = ("remove ar from languages: for now; the layouts set every page left to right "
            "(alignment, margins, running heads, page order), which would read wrong")


def test_a_right_to_left_language_is_refused_at_its_entry(minimal: Path) -> None:
    pub = minimal / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, ar]")
    problem = only(problems_of(minimal))
    assert problem.location == at(pub, text, "ar]")
    assert problem.message == "ar: right-to-left languages are not supported yet by culturebook's layouts"
    assert problem.hint == RTL_HINT


@pytest.mark.parametrize("command", [("build", "booklet"), ("check",)])
def test_a_right_to_left_edition_is_one_line_even_with_its_text_and_a_font(tmp_path: Path,
                                                                           command) -> None:
    """Its text in Arabic is not reported letter by letter (nor script by script): the edition
    itself is what cannot be made yet."""
    root = make_project(tmp_path / "project", "minimal")
    pub = root / "content" / "publication.yaml"
    text = edit(pub, "languages: [en]", "languages: [en, ar]")
    en = (root / "content" / "en.yaml").read_text(encoding="utf-8")
    (root / "content" / "ar.yaml").write_text(
        en.replace('"Make small things well"', '"نصنع الأشياء الصغيرة جيدا"'), encoding="utf-8")
    result = run_cli(*command, cwd=root)
    lines = assert_refused(result, f"content/publication.yaml:{where(text, 'ar]')}: ar: "
                           "right-to-left languages are not supported yet by culturebook's layouts",
                           RTL_HINT)
    assert len(lines) == 3
    assert not (root / "build").exists()


def test_an_image_name_too_long_is_one_line_at_the_image(minimal: Path) -> None:
    # found by fuzzing: the operating system's "File name too long" was an internal error
    long = "c" * 300
    text = add_paragraph(minimal, f"![x]({long}.png)")
    result = run_cli("check", cwd=minimal)
    assert_refused(result, f"content/en.yaml:{where(text, '![x]')}: image '{long[:59]}…' has a "
                   "name too long for a file (over 255 bytes)",
                   hint="refer to the image by its file's name")
