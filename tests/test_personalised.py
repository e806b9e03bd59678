"""Personalised booklets (the build's `personalised` target, pdf/splice.py): one booklet per
recipient with their name on the cover and their letter on page 2, the shared pages rendered once,
one print file for the batch, recipients.csv, and every bad row reported at its line and column."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import StreamObject

from conftest import page_text, parent_tree_faults, read_pdf, text_pieces
from culturebook.build.pipeline import build
from culturebook.pdf.structure import read_structure
from culturebook.project.recipients import Recipient
from culturebook.render.letters import letter_for
from projectkit import PROJECTS, make_project, problem_lines, run_cli

PEOPLE = PROJECTS / "personalised" / "people.csv"
SLUGS = ["ana-silva", "han-meimei", "jose-nunez"]


def person(name: str, **values) -> Recipient:
    columns = {"team": None, "start-date": None, "manager": None, "manager-note": None}
    return Recipient(line=2, name=name, email="x@example.com", slug="x", language="",
                     values={**columns, **values}, cells={})


WELCOME = {"cover": "For {name}", "title": "Welcome, {name}",
           "body": "We are glad.\n\nYou join {team} on {start-date}.",
           "details": {"team": "Team", "start-date": "Start date"},
           "note": "{manager-note}", "note_by": "{manager}, your manager", "signature": "Example Co"}


def fill(recipient: Recipient) -> dict:
    return letter_for(recipient, WELCOME, lambda d: d.strftime("%d/%m/%Y"))


def test_the_letter_is_filled_in_and_escaped():
    letter = fill(person("Ana <b>Silva</b>", team="R&D", **{"start-date": dt.date(2025, 3, 3)}))
    assert str(letter["cover"]) == "For Ana &lt;b&gt;Silva&lt;/b&gt;"
    # the last two words stay on one line: a no-break space between them
    assert str(letter["body"]) == ("<p>We are\u00a0glad.</p>\n"
                                   "<p>You join R&amp;D on\u00a003/03/2025.</p>\n")
    assert [(label, str(value)) for label, value in letter["details"]] == [
        ("Team", "R&amp;D"), ("Start date", "03/03/2025")]
    assert letter["note"] == ""  # the manager's line names an empty column: left out


def test_a_paragraph_naming_an_empty_column_is_left_out():
    letter = fill(person("José Núñez"))
    assert str(letter["body"]) == "<p>We are\u00a0glad.</p>\n"
    assert letter["details"] == []


# --- the build ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """The personalised test project built for the three people of people.csv."""
    root = make_project(tmp_path_factory.mktemp("personalised") / "project", "personalised")
    written, problems = build(root, "personalised", recipients=PEOPLE, jobs=2)
    assert [p for p in problems if not p.warning] == []
    build(root, "booklet", jobs=2)  # the same project's booklet, to compare covers with
    return root


def booklets(root: Path, lang: str) -> dict[str, Path]:
    return {slug: root / "build" / lang / "personalised" / f"{slug}.pdf" for slug in SLUGS}


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_one_booklet_per_row_with_the_name_on_the_cover_and_the_letter_on_page_2(batch, lang):
    files = booklets(batch, lang)
    readers = {slug: read_pdf(path) for slug, path in files.items()}
    counts = {len(r.pages) for r in readers.values()}
    assert len(counts) == 1 and counts.pop() % 4 == 0
    ana, han, jose = (readers[s] for s in SLUGS)
    cover, letter = ("For Ana Silva", "Welcome, Ana Silva") if lang == "en" else \
        ("致 Ana Silva", "Ana Silva，欢迎你")
    assert cover in page_text(ana, 0)
    assert letter in page_text(ana, 1)
    assert "韩梅梅" in page_text(han, 0) and "韩梅梅" in page_text(han, 1)
    assert ("Platform" in page_text(ana, 1)) and ("Li Lei" in page_text(ana, 1))
    assert ("3 March 2025" if lang == "en" else "2025年3月3日") in page_text(ana, 1)
    joins = "You join" if lang == "en" else "你将于"
    assert joins in page_text(ana, 1) and joins not in page_text(jose, 1)
    # Every other page is the shared booklet's, the same for everyone.
    for n in range(2, len(ana.pages)):
        assert page_text(ana, n) == page_text(jose, n) == page_text(han, n)


def reachable(reader) -> set[int]:
    """The numbers of the objects a reader of `reader`'s file can get to from its trailer."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found, todo = set(), [reader.trailer.raw_get(k) for k in ("/Root", "/Info") if k in reader.trailer]
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in found:
                continue
            found.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            todo.extend(item.values())
        elif isinstance(item, ArrayObject):
            todo.extend(item)
    return found


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_each_booklet_is_a_whole_pdf_of_its_own_pages_only(batch, lang):
    """Booklets are put together from their batch's objects: each must be the PDF version the
    shared booklet is, with a cross-reference stream pointing at every object it holds (loose, or
    in an object stream), and hold nothing but what its own pages draw (not a batch-mate's pages,
    nor the placeholder cover)."""
    shared = (batch / "build" / lang / "booklet.pdf").read_bytes()[:9]
    for path in booklets(batch, lang).values():
        data = path.read_bytes()
        assert data[:9] == shared == b"%PDF-1.7\n"
        reader = PdfReader(path)  # not the shared one: reading pages caches objects in it
        loose = reader.xref[0]  # {number: offset} of the objects written whole
        for number, offset in loose.items():
            assert data[offset:].startswith(b"%d 0 obj" % number), (path.name, number)
        packed = reader.xref_objStm  # {number: (object stream, index)} of the others
        containers = {stream for stream, _ in packed.values()}
        assert all(reader.get_object(n)["/Type"] == "/ObjStm" for n in containers)
        xref = int(data[data.rindex(b"startxref") + 9:].split()[0])
        assert data[xref:].startswith(b"%d 0 obj" % (max(loose)))  # the cross-reference stream
        held = (set(loose) | set(packed)) - containers - {max(loose)}
        assert held == reachable(reader), path.name
        # Only streams are written loose: the structure tree's hundreds of small dictionaries
        # and every other object are compressed in object streams.
        assert all(isinstance(reader.get_object(n), StreamObject) for n in loose), path.name
        # and each object once: no stream copied twice, no object in two object streams
        assert all(data.count(b"\n%d 0 obj\n" % n) == 1 for n in loose), path.name
        assert sum(int(reader.get_object(n)["/N"]) for n in containers) == len(packed), path.name


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_each_booklet_is_tagged_with_its_own_cover_and_letter(batch, lang):
    """A personalised booklet is a tagged PDF like the screen booklet: a screen reader meets the
    recipient's cover and letter where the placeholders were, then the booklet's own structure,
    and every page's marked content and every link (the letter's too) finds its element."""
    plain = read_structure(read_pdf(batch / "build" / lang / "booklet.pdf"))
    names = {"ana-silva": "Ana Silva", "han-meimei": "韩梅梅", "jose-nunez": "José Núñez"}
    for slug, path in booklets(batch, lang).items():
        reader = PdfReader(path)
        found = read_structure(reader)
        assert found.marked and found.display_title and found.lang == lang, slug
        assert found.untagged == {} and parent_tree_faults(reader) == [], slug
        letter = f"Welcome, {names[slug]}" if lang == "en" else f"{names[slug]}，欢迎你"
        assert found.headings[:2] == [plain.headings[0], (2, letter)], slug
        assert found.headings[2:] == plain.headings[1:len(found.headings) - 1], slug
        cover = f"For {names[slug]}" if lang == "en" else f"致 {names[slug]}"
        assert found.text.count(names[slug]) >= 2 and cover in " ".join(found.text.split()), slug
        for other in set(names.values()) - {names[slug]}:
            assert other not in found.text, (slug, other)
    # The English edition marks the Chinese name as Chinese; its letter's link is a Link.
    han = read_structure(PdfReader(booklets(batch, "en")["han-meimei"]))
    assert ("韩梅梅", "zh-Hans") in han.languages
    ana = PdfReader(booklets(batch, "en")["ana-silva"])
    assert [a.get_object()["/A"]["/URI"] for a in ana.pages[1]["/Annots"]] == \
        ["https://example.com/handbook"]


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_personal_cover_is_the_booklets_cover_with_a_name(batch, lang):
    plain = read_pdf(batch / "build" / lang / "booklet.pdf")
    personal = read_pdf(booklets(batch, lang)["ana-silva"])
    assert personal.pages[0].mediabox == plain.pages[0].mediabox

    def placed(reader) -> dict[tuple[int, int], str]:
        # Lines by height and size: pypdf cuts text into pieces differently where it is tagged
        # (the plain booklet) and where it is not (the personal pages), so pieces are joined.
        lines: dict[tuple[int, int], list] = {}
        for p in text_pieces(reader, 0):
            lines.setdefault((round(p.y), round(p.size)), []).append((p.x, p.text))
        return {key: "".join("".join(t for _, t in sorted(pieces)).split())
                for key, pieces in lines.items()}

    name = {k: v for k, v in placed(personal).items() if "AnaSilva" in v}
    assert len(name) == 1
    assert {k: v for k, v in placed(personal).items() if k not in name} == placed(plain)


def cover_fonts(path: Path) -> list[str]:
    reader = read_pdf(path)
    return [str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()]


def test_a_chinese_name_in_the_english_edition_is_set_in_the_chinese_font(batch):
    assert any("Noto-Sans-CJK" in f for f in cover_fonts(booklets(batch, "en")["han-meimei"]))
    # Laid out in the same document, the others' covers do not carry that font with them.
    assert not any("Noto-Sans-CJK" in f for f in cover_fonts(booklets(batch, "en")["ana-silva"]))


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_contents_page_numbers_hold_in_every_booklet(batch, lang):
    reader = read_pdf(booklets(batch, lang)["ana-silva"])
    contents = page_text(reader, 2)
    title = "Why we exist" if lang == "en" else "我们为何存在"
    number = int(re.search(r"\d+", contents.split(title)[1]).group())
    assert title in page_text(reader, number - 1).replace("\xa0", " ")


def test_recipients_csv_lists_every_file_for_a_mail_merge(batch):
    folder = batch / "build" / "en" / "personalised"
    rows = list(csv.DictReader((folder / "recipients.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["recipient"] for r in rows] == ["Ana Silva", "韩梅梅", "José Núñez"]
    assert [r["email"] for r in rows] == ["ana@example.com", "han.meimei@example.com",
                                         "jose@example.com"]
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        assert (int(row["bytes"]), row["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        assert int(row["pages"]) == len(read_pdf(folder / row["file"]).pages)


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_one_print_file_holds_every_booklet_and_stores_shared_pages_once(batch, lang):
    combined = batch / "build" / lang / "print" / "personalised.pdf"
    reader = read_pdf(combined)
    pages = len(read_pdf(booklets(batch, lang)["ana-silva"]).pages)
    assert len(reader.pages) == 3 * pages
    for i, name in enumerate(["Ana Silva", "韩梅梅", "José Núñez"]):
        assert name in page_text(reader, i * pages)
        assert page_text(reader, i * pages + 4) == page_text(reader, 4)
    box = reader.pages[0]
    assert box.trimbox != box.mediabox and box.bleedbox != box.trimbox  # a print edition
    largest = max(p.stat().st_size for p in booklets(batch, lang).values())
    assert combined.stat().st_size < 2 * largest  # three booklets in less room than two


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_qpdf_finds_no_error_or_warning_in_the_spliced_booklets_or_the_print_file(batch, lang):
    """The booklets' objects and cross-reference streams are written by hand (splice.py): qpdf
    reads each file's structure, every object and every stream and reports what it would repair."""
    files = [*booklets(batch, lang).values(), batch / "build" / lang / "print" / "personalised.pdf"]
    for path in files:
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        said = result.stdout + result.stderr
        assert result.returncode == 0, f"{path.name}: {said}"  # 2: errors, 3: warnings
        assert "WARNING" not in said, said
        assert "No syntax or stream encoding errors found" in result.stdout, said


def test_a_batch_is_spliced_to_the_same_bytes_after_other_batches(batch):
    """A Splicer keeps what every batch shares (the shared booklet's objects, as bytes) from one
    batch to the next: a batch's booklets are the same bytes from a Splicer that has spliced another
    batch first as from a new one, and each is its recipient's."""
    import io

    from culturebook.build.making import read_people
    from culturebook.build.run import letters
    from culturebook.checks.project import check_project
    from culturebook.errors import Problems
    from culturebook.files import cache_dir
    from culturebook.pdf.splice import Splicer
    from culturebook.render.engine import Renderer

    checked = check_project(batch)
    renderer = Renderer(batch, checked.brand, cache_dir())
    edition = checked.content.edition("en")
    people = read_people(checked, PEOPLE, ["en"], Problems())
    rows, filled = [p.cells["name"] for p in people], letters(renderer, edition, people)
    first = renderer.personal_pages(edition, filled[:1], rows[:1])
    rest = renderer.personal_pages(edition, filled[1:], rows[1:])
    shared = renderer.booklet(edition, personalised=True).data
    used = Splicer(shared)
    used.booklets(first)
    head, tails = used.booklets(rest)
    assert (head, tails) == Splicer(shared).booklets(rest)
    covers = [page_text(PdfReader(io.BytesIO(head + tail)), 0) for tail in tails]
    assert ["韩梅梅" in covers[0], "José Núñez" in covers[1]] == [True, True]


def test_a_changed_row_remakes_only_the_booklets_of_its_batch(batch, tmp_path, monkeypatch):
    import culturebook.render.letters

    # Two recipients' pages to a document: Ana and Han Meimei share one, José has his own.
    monkeypatch.setattr(culturebook.render.letters, "BATCH", 2)
    build(batch, "personalised", recipients=PEOPLE, jobs=1, force=True)  # batches made anew
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE.read_text(encoding="utf-8").replace("Platform", "Platforms"),
                      encoding="utf-8")
    written, _ = build(batch, "personalised", recipients=people, jobs=1)
    assert sorted(a.path for a in written) == sorted(
        [f"{lang}/personalised/{slug}.pdf" for lang in ("en", "zh-Hans")
         for slug in ("ana-silva", "han-meimei")]
        + [f"{lang}/personalised/recipients.csv" for lang in ("en", "zh-Hans")]
        + [f"{lang}/print/personalised.pdf" for lang in ("en", "zh-Hans")])
    again, _ = build(batch, "personalised", recipients=people, jobs=1)
    assert again == []
    monkeypatch.undo()
    build(batch, "personalised", recipients=PEOPLE, jobs=2, force=True)  # as the other tests expect


def test_the_same_rows_give_the_same_bytes_in_another_folder(batch, tmp_path):
    other = make_project(tmp_path / "other", "personalised")
    build(other, "personalised", recipients=PEOPLE, jobs=1, editions=["en"])
    for slug, path in booklets(batch, "en").items():
        assert (other / "build" / "en" / "personalised" / f"{slug}.pdf").read_bytes() == \
            path.read_bytes(), slug


# --- bad input ------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project", "personalised")


@pytest.mark.slow
def test_bad_rows_are_reported_at_their_cell_and_the_good_rows_are_built(project):
    long_note = "We will do great things together. " * 60
    (project / "people.csv").write_text(
        "name,email,team,start-date,manager,manager-note\n"
        "Ana Silva,ana@example.com,Platform,2025-03-03,Li Lei,Hi\n"
        ",nobody@example.com,,,,\n"
        "Bo Chen,ANA@example.com,,,,\n"
        "Priya नमस्ते,priya@example.com,,,,\n"
        "Carl Berg,carl@example.com,,03/03/2025,,\n"
        f"Dana Ek,dana@example.com,,,Li Lei,{long_note}\n", encoding="utf-8")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "--edition", "en",
                     "-j", "1", cwd=project)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines()
              if line.startswith("people.csv:")]
    assert errors == [
        "people.csv:3:1: the name is empty",
        "people.csv:4:9: duplicate email 'ANA@example.com' (also on line 2)",
        "people.csv:5:7: no font in fonts/ sets Devanagari (6 characters in the name); add one "
        "and list it in theme.yaml",
        "people.csv:6:29: start-date '03/03/2025' is not a date written YYYY-MM-DD",
        "people.csv:7:1: Dana Ek: welcome.note runs the welcome letter onto 2 pages",
    ]
    assert result.stderr.splitlines()[-1] == \
        "5 recipients left out (see above); every other booklet was built"
    built = sorted(p.name for p in (project / "build" / "en" / "personalised").glob("*.pdf"))
    assert built == ["ana-silva.pdf"]


@pytest.mark.slow
def test_recipients_csv_is_read_back_as_written_with_formulas_made_text(project):
    """recipients.csv is opened in a spreadsheet for a mail merge: a cell that would run as a
    formula there gets a leading ', and a comma or a quote in a name stays in its cell."""
    (project / "people.csv").write_text(
        'name,email\n'
        '"=HYPERLINK(""http://example.com"")",hyper@example.com\n'
        '"Lee, Ann ""Annie""",=1+1@example.com\n'
        '"Fay\nNewline",fay@example.com\n'
        '-2+3,minus@example.com\n', encoding="utf-8")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "--edition", "en",
                     "--no-print-file", "-j", "1", cwd=project)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("people.csv:")]
    formula = "a spreadsheet would take it for a formula"
    assert lines == [
        "people.csv:2:1: warning: the name '=HYPERLINK(\"http://example.com\")' starts with '=': "
        + formula,
        f"people.csv:3:22: warning: the email '=1+1@example.com' starts with '=': {formula}",
        f"people.csv:6:1: warning: the name '-2+3' starts with '-': {formula}",
        "people.csv:4:1: the name 'Fay\\nNewline' holds a line break",  # the rows left out last
    ]
    assert result.stderr.splitlines()[-1] == \
        "1 recipient left out (see above); every other booklet was built"
    folder = project / "build" / "en" / "personalised"
    with open(folder / "recipients.csv", encoding="utf-8", newline="") as table:
        rows = list(csv.reader(table))
    assert [row[:3] for row in rows] == [
        ["recipient", "email", "file"],
        ["'=HYPERLINK(\"http://example.com\")", "hyper@example.com", "hyperlink-http-example-com.pdf"],
        ['Lee, Ann "Annie"', "'=1+1@example.com", "lee-ann-annie.pdf"],
        ["'-2+3", "minus@example.com", "2-3.pdf"],
    ]
    assert sorted(p.name for p in folder.glob("*.pdf")) == sorted(row[2] for row in rows[1:])


@pytest.mark.parametrize("text, message", [
    ("", "people.csv:1:1: the recipients file is empty"),
    ("name;email\nAna;ana@example.com\n", None),  # semicolons are read: it builds
    ("name,email\n\"Ana,ana@example.com\n", "people.csv:2:1: a quoted cell is not closed"),
])
@pytest.mark.slow
def test_a_file_that_cannot_be_read_is_one_line_and_nothing_is_written(project, text, message):
    (project / "people.csv").write_text(text, encoding="utf-8")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "--edition", "en",
                     "-j", "1", cwd=project)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == message
    assert result.stderr.splitlines()[-1].endswith("nothing was written")
    assert not (project / "build" / "en" / "personalised").exists()


@pytest.mark.slow
def test_no_recipients_and_no_letter_are_one_line_each(project):
    result = run_cli("build", "personalised", cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "content/publication.yaml: personalised booklets need a list of recipients",
        "    hint: give it with --recipients people.csv (make personalised RECIPIENTS=people.csv)"]
    for name in ("en.yaml", "zh-Hans.yaml"):
        path = project / "content" / name
        path.write_text(path.read_text(encoding="utf-8").split("\nwelcome:")[0], encoding="utf-8")
    shutil.copy(PEOPLE, project / "people.csv")
    result = run_cli("build", "personalised", "--recipients", "people.csv", cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "content/en.yaml: personalised booklets need a welcome letter: the content has no welcome:")


def test_a_placeholder_no_column_fills_is_an_error_at_its_field(project):
    en = project / "content" / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace("You join {team}", "You join {teem}"),
                  encoding="utf-8")
    result = run_cli("check", cwd=project)
    assert result.returncode == 1
    lines = en.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("  body:"))
    assert result.stderr.splitlines()[:2] == [
        f"content/en.yaml:{line}:9: welcome.body names '{{teem}}', which no recipients column fills",
        "    hint: the columns are: name, email, team, start-date, manager, manager-note; declare "
        "others under recipients: in publication.yaml"]


def test_declaring_a_built_in_column_is_an_error_at_its_key(project):
    settings = project / "content" / "publication.yaml"
    text = settings.read_text(encoding="utf-8").replace("  team: text\n", "  team: text\n  email: text\n")
    settings.write_text(text, encoding="utf-8")
    result = run_cli("check", cwd=project)
    assert result.returncode == 1
    line = text.splitlines().index("  email: text") + 1
    assert result.stderr.splitlines()[:2] == [
        f"content/publication.yaml:{line}:3: recipients: 'email' is a column every recipients CSV "
        "has; declare only the others",
        "    hint: remove it (name, email, slug, language need no declaring)"]


@pytest.mark.slow
def test_a_person_taken_off_the_list_loses_their_booklet(project):
    build(project, "personalised", recipients=PEOPLE, editions=["en"], jobs=1)
    folder = project / "build" / "en" / "personalised"
    assert (folder / "jose-nunez.pdf").is_file()
    fewer = project / "people.csv"
    fewer.write_text("".join(PEOPLE.read_text(encoding="utf-8").splitlines(True)[:3]),
                     encoding="utf-8")
    build(project, "personalised", recipients=fewer, editions=["en"], jobs=1)
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["ana-silva.pdf", "han-meimei.pdf"]
    listed = (project / "build" / "manifest.json").read_text(encoding="utf-8")
    assert "jose-nunez" not in listed
    assert "jose" not in (folder / "recipients.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("option", ["--recipients=people.csv", "--no-print-file"])
def test_a_personalised_option_for_another_target_is_a_usage_error(project, option):
    result = run_cli("build", "booklet", option, cwd=project)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (f"Error: Invalid value for {option.split('=')[0]}: "
                                              "is for 'build personalised', not 'build booklet'")
    assert not (project / "build").exists()


@pytest.mark.slow
def test_no_print_file_makes_the_booklets_and_their_list_only(project):
    shutil.copy(PEOPLE, project / "people.csv")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "--no-print-file",
                     "--edition", "en", "-j", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    folder = project / "build" / "en" / "personalised"
    assert sorted(p.name for p in folder.iterdir()) == [f"{slug}.pdf" for slug in SLUGS] + [
        "recipients.csv"]
    assert not (project / "build" / "en" / "print").exists()
    # No print edition made, so no word about the print editions' colour either.
    assert "CMYK" not in result.stderr


@pytest.mark.slow
def test_a_personal_layout_without_the_covers_is_one_line_and_nothing_is_written(project):
    shutil.copy(PEOPLE, project / "people.csv")
    layout = project / "layouts" / "default" / "personal.html"
    layout.write_text(layout.read_text(encoding="utf-8").replace("{{ pages.cover(recipient) }}", ""),
                      encoding="utf-8")
    result = run_cli("build", "personalised", "--recipients", "people.csv", "-j", "1", cwd=project)
    assert result.returncode == 1
    assert problem_lines(result)[:2] == [
        "layouts/default/personal.html: personal.html must lay out pages.cover(recipient) and "
        "pages.letter(recipient) for each of `recipients`, in order",
        "    hint: start from the default theme's personal.html"]
    assert "Traceback" not in result.stderr
    assert not list((project / "build").rglob("*.pdf"))


@pytest.mark.slow
def test_the_letters_colours_are_held_to_contrast_at_check_time(project):
    """`check` fills the cover and letter for a recipient with every column, so a colour only
    the letter uses (its note's byline) is held to WCAG AA like the booklet's."""
    css = project / "layouts" / "default" / "booklet.css"
    rule = ".letter-note footer { font-size: var(--type-small); color: var(--colour-muted); }"
    assert rule in css.read_text(encoding="utf-8")
    css.write_text(css.read_text(encoding="utf-8").replace(rule, rule.replace("muted", "rule")),
                   encoding="utf-8")
    theme = (project / "layouts" / "default" / "theme.yaml").read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(theme.splitlines(), 1) if text.startswith("  rule:"))
    result = run_cli("check", cwd=project)
    assert result.returncode == 1
    assert problem_lines(result)[0] == (
        f"layouts/default/theme.yaml:{line}:3: colour 'rule' (#C9CDD4) on 'paper' (#FFFFFF) has a "
        "contrast of 1.59:1; body text needs 4.5:1 (WCAG AA), e.g. .letter-note footer in "
        "personal.html")
    assert "Traceback" not in result.stderr and not (project / "build").exists()


def test_a_chinese_name_in_an_english_only_project_is_set_in_the_themes_chinese_font(english_only):
    """No edition is Chinese, but the theme declares a Chinese font: it sets the name (it once
    refused the row as 'not in the fonts', naming that very font), marked zh-Hans."""
    folder = english_only / "build" / "en" / "personalised"
    with open(folder / "recipients.csv", encoding="utf-8") as listing:
        assert [row["recipient"] for row in csv.DictReader(listing)] == ["Ana Silva", "王堃"]
    reader = read_pdf(folder / "wang-kun.pdf")
    assert "For 王堃" in page_text(reader, 0)
    assert "Welcome, 王堃" in page_text(reader, 1)
    fonts = {str(f["/BaseFont"]).split("+")[-1] for page in reader.pages[:2]
             for f in (page["/Resources"].get("/Font") or {}).values()
             for f in [f.get_object()]}
    assert "Noto-Sans-CJK-SC" in fonts
    structure = read_structure(reader)
    assert ("王堃", "zh-Hans") in structure.languages
    assert ("欢迎加入！", "zh-Hans") in structure.languages


def test_the_shared_pages_are_rendered_once_per_build_and_the_workers_change_no_byte(
        project, tmp_path, monkeypatch):
    import culturebook.render.letters
    from culturebook.render.engine import Renderer

    # One recipient to a batch: three batches per edition, shared out over two worker processes.
    monkeypatch.setattr(culturebook.render.letters, "BATCH", 1)
    made = tmp_path / "shared-booklets.txt"  # appended to by whichever process renders one
    booklet = Renderer.booklet

    def counted(self, edition, *args, **kwargs):
        if kwargs.get("personalised"):
            with made.open("a", encoding="utf-8") as out:
                out.write(f"{edition.lang} {'print' if kwargs.get('print_edition') else 'screen'}\n")
        return booklet(self, edition, *args, **kwargs)

    monkeypatch.setattr(Renderer, "booklet", counted)
    build(project, "personalised", recipients=PEOPLE, jobs=2)
    assert sorted(made.read_text(encoding="utf-8").splitlines()) == [
        "en print", "en screen", "zh-Hans print", "zh-Hans screen"]

    alone = make_project(tmp_path / "alone", "personalised")
    build(alone, "personalised", recipients=PEOPLE, jobs=1)
    for lang in ("en", "zh-Hans"):
        for name in [f"personalised/{slug}.pdf" for slug in SLUGS] + ["print/personalised.pdf"]:
            assert (project / "build" / lang / name).read_bytes() == \
                (alone / "build" / lang / name).read_bytes(), f"{lang}/{name}"
