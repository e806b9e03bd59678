"""culturebook share (share/drafts.py, share/message.py): the screen editions prepared for email under names a
person keeps, the cover thumbnail, the .eml drafts parsed back with Python's `email` package, the size budget
(an error, or numbered messages), and every bad setting as one located line."""

from __future__ import annotations

import re
import shutil
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import outline, read_pdf
from culturebook.pdf.scan import Document
from culturebook.share.drafts import file_stem
from culturebook.share.message import (
    Attachment,
    Envelope,
    Letter,
    OverBudget,
    UnsafeHeader,
    compose,
    encoded_size,
    human_size,
    plan_messages,
    subject_line,
)
from projectkit import assert_refused, edit, run_cli, snapshot, where
from smtpkit import line_faults

EN_FILES = ["Example-Co-Culture-Booklet-2024-en.pdf",
            "Example-Co-Culture-Poster-Mission-Vision-2024-en.pdf",
            "Example-Co-Culture-Poster-Care-2024-en.pdf",
            "Example-Co-Culture-Poster-Candour-2024-en.pdf",
            "Example-Co-Culture-Poster-Craft-2024-en.pdf"]
ZH_FILES = ["示例公司文化-手册-2024-zh-Hans.pdf", "示例公司文化-海报-使命-愿景-2024-zh-Hans.pdf",
            "示例公司文化-海报-用心-2024-zh-Hans.pdf", "示例公司文化-海报-坦诚-2024-zh-Hans.pdf",
            "示例公司文化-海报-匠心-2024-zh-Hans.pdf"]
KITS = {"en": "Example-Co-Culture-Kit-2024-en.pdf", "zh-Hans": "示例公司文化-合集-2024-zh-Hans.pdf"}
STEMS = {"en": "Example-Co-Culture-2024-en", "zh-Hans": "示例公司文化-2024-zh-Hans"}
FILES = {"en": EN_FILES, "zh-Hans": ZH_FILES}
PUB = "content/publication.yaml"


def share_dir(root: Path, lang: str) -> Path:
    return root / "build" / lang / "share"


# --- the share build ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_share_folder_holds_files_a_person_would_keep(shared, lang):
    names = sorted(p.name for p in share_dir(shared, lang).iterdir() if not p.name.startswith("."))
    assert names == sorted([*FILES[lang], KITS[lang], f"{STEMS[lang]}-cover.png",
                            f"{STEMS[lang]}.eml", "personalised"])
    personal = sorted(p.name for p in (share_dir(shared, lang) / "personalised").iterdir())
    assert personal == ["ana-silva.pdf", "han-meimei.pdf", "jose-nunez.pdf"]


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_prepared_pdfs_show_their_title_and_bookmarks_and_keep_every_page(shared, lang):
    screen = read_pdf(shared / "build" / lang / "booklet.pdf")
    prepared = read_pdf(share_dir(shared, lang) / FILES[lang][0])
    title = "Small Things, Done Well" if lang == "en" else "小事，做好"
    assert prepared.metadata.title == title
    assert prepared.viewer_preferences.display_doctitle  # a BooleanObject: False is falsy
    assert prepared.page_mode == "/UseOutlines"
    assert len(prepared.pages) == len(screen.pages)
    assert outline(prepared) == outline(screen)
    for page in prepared.pages:  # a screen edition: no bleed, no marks
        assert page.trimbox == page.mediabox == screen.pages[0].mediabox
    poster = read_pdf(share_dir(shared, lang) / FILES[lang][2])
    value = "Care" if lang == "en" else "用心"
    assert poster.metadata.title == f"{title}: {value}"


def image_ppi(path: Path) -> list[float]:
    """The resolution of every image drawn in a PDF, at the size it is drawn."""
    scans = Document(path.read_bytes()).scans
    return [w / (w_pt / 72) for scan in scans for _, w, _, w_pt, _ in scan.images]


def test_a_600_ppi_photograph_is_sent_at_150_ppi(shared):
    screen = shared / "build" / "en" / "booklet.pdf"
    prepared = share_dir(shared, "en") / EN_FILES[0]
    assert [round(p) for p in image_ppi(screen)] == [604]
    assert [round(p) for p in image_ppi(prepared)] == [150]
    assert prepared.stat().st_size < screen.stat().st_size / 3
    kit = share_dir(shared, "en") / KITS["en"]
    assert [round(p) for p in image_ppi(kit)] == [150]


def test_pdfs_without_large_images_only_gain_their_settings(shared):
    # No image to resample: the PDF is WeasyPrint's, with title and viewer settings appended.
    screen = (shared / "build" / "zh-Hans" / "booklet.pdf").read_bytes()
    prepared = (share_dir(shared, "zh-Hans") / ZH_FILES[0]).read_bytes()
    assert prepared.startswith(screen)
    assert len(prepared) - len(screen) < 2048


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_share_copies_keep_the_screen_editions_tags(shared, lang):
    """A screen reader reads the copy people are sent: rewritten (en: its photograph resampled)
    or not, it keeps the structure tree, every page's link to it and the figure's alt text."""
    screen = PdfReader(shared / "build" / lang / "booklet.pdf")
    prepared = PdfReader(share_dir(shared, lang) / FILES[lang][0])
    assert prepared.root_object["/MarkInfo"]["/Marked"]  # a BooleanObject: False is falsy
    assert "/StructTreeRoot" in prepared.root_object
    assert prepared.root_object.get("/Lang") == screen.root_object.get("/Lang")
    assert [page.get("/StructParents") for page in prepared.pages] == [
        page.get("/StructParents") for page in screen.pages]

    def alts(reader) -> list[str]:
        found, todo = [], [reader.root_object["/StructTreeRoot"]]
        while todo:
            node = todo.pop().get_object()
            if isinstance(node, dict):
                if node.get("/S") == "/Figure":
                    found.append(str(node.get("/Alt")))
                kids = node.get("/K")
                todo += kids if isinstance(kids, list) else [kids] if kids is not None else []
        return sorted(found)

    assert alts(prepared) == alts(screen) == (["Our workshop"] if lang == "en" else [])


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_thumbnail_is_the_cover(shared, lang):
    with Image.open(share_dir(shared, lang) / f"{STEMS[lang]}-cover.png") as png:
        assert png.format == "PNG"
        assert png.width == 480 and round(png.height / png.width, 2) == round(210 / 148, 2)
        r, g, b = png.convert("RGB").getpixel((png.width // 2, png.height // 2))
    assert (abs(r - 0x00) < 8, abs(g - 0x52) < 8, abs(b - 0xD9) < 8) == (True, True, True)


# --- the drafts -----------------------------------------------------------------------------------


def parse(path: Path):
    return message_from_bytes(path.read_bytes(), policy=default)


@pytest.mark.parametrize("lang, subject, text", [
    ("en", "Our culture", "Here is *Small Things, Done Well*, our culture booklet, with its posters."),
    ("zh-Hans", "示例公司文化", "随信附上《小事，做好》文化手册及海报。"),
])
def test_the_draft_opens_ready_to_send(shared, lang, subject, text):
    draft = parse(share_dir(shared, lang) / f"{STEMS[lang]}.eml")
    assert draft["X-Unsent"] == "1" and draft["To"] is None
    assert draft["From"] == "Example Co Culture <culture@example.com>"
    assert draft["Subject"] == subject  # the {name} part is left out until there is a name
    plain = draft.get_body(("plain",)).get_content()
    assert text in plain and "{name}" not in plain and "Dear" not in plain and "你好" not in plain
    html = draft.get_body(("html",))
    cid = re.search(r'src="cid:([^"]+)"', html.get_content())[1]
    cover = next(p for p in draft.walk() if p["Content-ID"] == f"<{cid}>")
    assert cover.get_content_type() == "image/png"
    assert cover.get_content() == (share_dir(shared, lang) / f"{STEMS[lang]}-cover.png").read_bytes()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_drafts_attachments_are_the_share_files_byte_for_byte(shared, lang):
    draft = parse(share_dir(shared, lang) / f"{STEMS[lang]}.eml")
    attached = [(a.get_filename(), a.get_content_type(), a.get_content())
                for a in draft.iter_attachments() if a.get_content_type() == "application/pdf"]
    assert [(n, t) for n, t, _ in attached] == [(n, "application/pdf") for n in FILES[lang]]
    for name, _, data in attached:
        assert data == (share_dir(shared, lang) / name).read_bytes()


def test_chinese_file_names_are_written_for_every_mail_client(shared):
    raw = (share_dir(shared, "zh-Hans") / f"{STEMS['zh-Hans']}.eml").read_bytes().decode("ascii")
    part = raw[raw.index("Content-Type: application/pdf"):]
    headers = part[:part.index("\r\n\r\n")] if "\r\n\r\n" in part else part[:part.index("\n\n")]
    unfolded = re.sub(r"\r?\n[ \t]", " ", headers)
    # RFC 2231, read by Apple Mail, Thunderbird, Gmail and current Outlook ...
    continued = re.findall(r"filename\*(\d+)\*=(?:UTF-8'')?([^;\s]+)", unfolded)
    from urllib.parse import unquote

    assert unquote("".join(value for _, value in continued)) == ZH_FILES[0]
    # ... and RFC 2047 words in filename= and name=, which older Outlook and web mail read.
    for key in ("filename", "name"):
        words = re.search(rf'\b{key}="([^"]+)"', unfolded)[1]
        assert str(make_header(decode_header(words))) == ZH_FILES[0]
    assert all(len(line) <= 78 for line in raw.splitlines())


def test_every_line_of_every_draft_is_within_what_strict_servers_accept(shared):
    drafts = sorted((shared / "build").glob("*/share/*.eml"))
    assert len(drafts) == 2
    for draft in drafts:
        assert line_faults(draft.read_bytes()) == [], draft.name


LONG_ZH = "示例公司文化：我们的使命、愿景与价值观，以及我们每天如何一起把小事做好" * 3
LONG_NAME = "欧阳娜娜·阿卜杜拉·买买提·司马相如"


def page(body_html, cover_cid, lang, files) -> str:
    return f"<html><body>{body_html}<img src='cid:{cover_cid}'></body></html>"


@pytest.mark.parametrize("to", ["", "nana@example.com"])  # a draft, and a message sent
def test_long_chinese_subjects_names_and_file_names_stay_within_the_line_limits(to):
    body = ("{name}，你好：\n\n" + "这是一段很长的文字，" * 40 + "\n\n"
            + "A line of English that runs on well past the width of any mail client. " * 6)
    letter = Letter(LONG_ZH + "：送给{name}", body, "zh-Hans")
    files = [Attachment(LONG_ZH.replace("：", "-").replace("，", "-") + ".pdf", b"%PDF" * 3000),
             Attachment("Example-Co-Culture-Poster-Mission-Vision-and-What-We-Do-Every-Day-2024-"
                        "en.pdf", b"%PDF" * 10)]
    envelope = Envelope(sender='"示例公司文化团队（人力资源部）" <culture@example.com>', to=to,
                        name=LONG_NAME if to else "", message_id="<1.share@example.com>" if to else "",
                        date="Sat, 05 Dec 2026 01:00:00 +0000" if to else "")
    data = compose(letter, files, b"\x89PNG", page, envelope).as_bytes()
    assert line_faults(data) == []
    parsed = message_from_bytes(data, policy=default)
    assert parsed["Subject"] == (f"{LONG_ZH}：送给{LONG_NAME}" if to else LONG_ZH)
    assert [a.get_filename() for a in parsed.iter_attachments()
            if a.get_content_type() == "application/pdf"] == [f.name for f in files]
    plain = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")  # soft breaks gone
    assert "这是一段很长的文字，" * 40 + "\n\nA line of English" in plain
    assert plain.endswith("the width of any mail client.\n")


@pytest.mark.parametrize("name, to, expected", [
    ("Eve\nBcc: someone@example.com", "eve@example.com",
     "the To header would hold a line break: 'Eve\\nBcc: someone@example.com'"),
    ("Eve", "eve@example.com\r\nBcc: someone@example.com",
     "the To header would hold a line break: 'eve@example.com\\r\\nBcc: someone@example....'"),
])
def test_a_header_value_with_a_line_break_is_refused_before_the_email_package_sees_it(name, to,
                                                                                      expected):
    letter = Letter("Our culture, for {name}", "Dear {name},", "en")
    with pytest.raises(UnsafeHeader) as info:
        compose(letter, [], b"\x89PNG", page, Envelope(sender="c@example.com", to=to, name=name))
    assert str(info.value) == expected


def test_the_draft_is_the_same_bytes_when_made_again(shared):
    before = snapshot(shared / "build")
    result = run_cli("share", cwd=shared)
    assert result.returncode == 0, result.stderr
    assert snapshot(shared / "build") == before


# --- the budget -----------------------------------------------------------------------------------


def att(name: str, size: int) -> Attachment:
    return Attachment(name, b"x" * size)


def test_base64_adds_a_third_and_a_line_end_every_76_characters():
    assert encoded_size(0) == 0
    assert encoded_size(57) == 76 + 2
    assert encoded_size(3 * 1024 * 1024) == 4 * 1024 * 1024 + 2 * 55189
    assert 1.36 < encoded_size(10_000_000) / 10_000_000 < 1.38


@pytest.mark.parametrize("sizes, budget, split, expected", [
    ([100, 200], 10_000, False, [["a", "b"]]),
    ([2500, 2500, 2500], 10_000, True, [["a", "b"], ["c"]]),
    ([5000, 100, 100], 10_000, True, [["a", "b", "c"]]),
    ([5000, 5000, 200], 10_000, True, [["a"], ["b", "c"]]),
])
def test_attachments_are_spread_over_numbered_messages_in_order(sizes, budget, split, expected):
    files = [att(n, s) for n, s in zip("abc", sizes, strict=False)]
    plan = plan_messages(files, 1000, budget, split)
    assert [[a.name for a in message] for message in plan] == expected


def test_over_budget_names_the_largest_files_and_what_would_fit():
    files = [att("booklet.pdf", 3000), att("poster.pdf", 2000), att("kit.pdf", 5000)]
    with pytest.raises(OverBudget) as caught:
        plan_messages(files, 1000, 10_000, split=False)
    over = caught.value
    assert [n for n, _ in over.largest] == ["kit.pdf", "booklet.pdf", "poster.pdf"]
    assert over.fits == ["booklet.pdf", "poster.pdf"] and over.alone == ""
    with pytest.raises(OverBudget) as caught:  # one file alone: no split can help
        plan_messages([*files, att("photos.pdf", 9000)], 1000, 10_000, split=True)
    assert caught.value.alone == "photos.pdf"


@pytest.mark.parametrize("pattern, values, stem", [
    ("{organisation}-Culture-{document}-{year}-{lang}",
     {"organisation": "Tencent", "document": "Booklet", "year": "2019", "lang": "en"},
     "Tencent-Culture-Booklet-2019-en"),
    ("{organisation}文化-{document}-{year}-{lang}",
     {"organisation": "腾讯", "document": "海报-使命 · 愿景", "year": "2019", "lang": "zh-Hans"},
     "腾讯文化-海报-使命-愿景-2019-zh-Hans"),
    ("{organisation}: {document}/{year}", {"organisation": "A/B Co", "document": "", "year": "1"},
     "A-B-Co-1"),
])
def test_file_names_are_safe_everywhere(pattern, values, stem):
    assert file_stem(pattern, **values) == stem


@pytest.mark.parametrize("subject, name, shown", [
    ("Our culture, for {name}", "", "Our culture"),
    ("Our culture, for {name}", "Ana", "Our culture, for Ana"),
    ("示例公司文化：送给{name}", "", "示例公司文化"),
    ("{name}: our culture", "", "our culture"),
])
def test_a_draft_subject_leaves_out_the_part_that_names_the_recipient(subject, name, shown):
    assert subject_line(Letter(subject, "", "en"), Envelope(name=name, to="a@b.example")) == shown


@pytest.fixture
def budget_project(shared) -> Path:
    """The shared project, whose publication.yaml a test may change: put back afterwards, with
    build/<lang>/share/ made again as it was."""
    settings = shared / PUB
    text = settings.read_text(encoding="utf-8")
    yield shared
    settings.write_text(text, encoding="utf-8")
    assert run_cli("share", cwd=shared).returncode == 0


def test_over_budget_is_one_line_at_the_budget_and_nothing_is_written(budget_project):
    root = budget_project
    text = edit(root / "content" / "publication.yaml", "budget: 10 MB", "budget: 320 KB")
    before = snapshot(root / "build")
    result = run_cli("share", cwd=root)
    lines = assert_refused(result, None)
    folder = share_dir(root, "en")
    sizes = sorted(((n, encoded_size((folder / n).stat().st_size) + 400) for n in EN_FILES),
                   key=lambda x: -x[1])
    largest = ", ".join(f"{n} {human_size(s)}" for n, s in sizes[:3])
    start = f"{PUB}:{where(text, '320 KB')}: en: the message is "
    rest = (f" as sent, over the share budget of 320 KB; largest: {largest}; 2 of the 5 files would "
            f"fit ({EN_FILES[0]}, {EN_FILES[1]})")
    assert re.fullmatch(re.escape(start) + r"\d+ KB" + re.escape(rest), lines[0]), lines[0]
    assert lines[1] == ("    hint: set share: split: true to send the files over numbered messages, "
                        "or attach fewer (share: attach:)")
    assert snapshot(root / "build") == before


def test_split_sends_the_files_over_numbered_messages_each_within_budget(budget_project):
    root = budget_project
    edit(root / "content" / "publication.yaml", "  budget: 10 MB\n", "  budget: 320 KB\n  split: true\n")
    result = run_cli("share", "--edition", "en", cwd=root)
    assert result.returncode == 0, result.stderr
    folder = share_dir(root, "en")
    drafts = sorted(folder.glob("*.eml"))
    assert [d.name for d in drafts] == [f"{STEMS['en']}-{i}.eml" for i in (1, 2)]
    names = []
    for i, path in enumerate(drafts, 1):
        assert path.stat().st_size <= 320 * 1024
        message = parse(path)
        assert message["Subject"] == f"Our culture ({i}/2)"
        names += [a.get_filename() for a in message.iter_attachments()
                  if a.get_content_type() == "application/pdf"]
    assert names == EN_FILES
    assert not (folder / f"{STEMS['en']}.eml").exists()  # the single draft of before is gone


# --- bad settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, needle, message, hint", [
    ("budget: 10 MB", "budget: ten megabytes", "ten megabytes",
     "share.budget must be a size with its unit, e.g. 10 MB", "write the number and KB, MB or GB"),
    ("budget: 10 MB", "budget: 2 KB", "2 KB", "share.budget of 2 KB is too small for any message",
     "mail servers accept 10 MB (Exchange) to 25 MB (Gmail, Microsoft 365)"),
    ("security: none", "security: ssl", "ssl", "share.smtp.security must be one of starttls, tls, "
     "none", None),
    ("port: 2525", "port: 99999", "99999", "share.smtp.port is 99999; it must be between 1 and 65535",
     None),
    ('from: "Example Co Culture <culture@example.com>"', "from: culture at example", "culture at",
     "share.from: 'culture at example' is not an email address",
     'write it as name@example.com or "Name <name@example.com>"'),
    ('from: "Example Co Culture <culture@example.com>"',
     'from: "Example Co\\nBcc: all@example.com <culture@example.com>"', '"Example Co\\n',
     "share.from: 'Example Co\\nBcc: all@example.com <culture@example.com>' is not an email address",
     'write it as name@example.com or "Name <name@example.com>"'),
    ("  budget: 10 MB\n", "  budget: 10 MB\n  split: maybe\n", "maybe",
     "share.split must be true or false", None),
    ("  budget: 10 MB\n", "  budget: 10 MB\n  rate: -5\n", "-5",
     "share.rate is -5; it must be between 0 and 10000", None),
    ("attach: [booklet, posters]", "attach: [booklet, poster]", "poster]",
     "share.attach[2] must be one of booklet, posters, culture-kit", "did you mean 'posters'?"),
])
def test_a_bad_share_setting_is_one_line_at_its_place(shared, tmp_path, old, new, needle, message,
                                                      hint):
    root = _content_copy(shared, tmp_path)
    text = edit(root / PUB, old, new)
    result = run_cli("share", cwd=root)
    assert_refused(result, f"{PUB}:{where(text, needle)}: {message}", hint)
    assert not (root / "build").exists()


def test_a_placeholder_share_cannot_fill_is_one_line_at_its_place(shared, tmp_path):
    root = _content_copy(shared, tmp_path)
    text = edit(root / "content" / "en.yaml", '"{organisation}-Culture-{document}-{year}-{lang}"',
                '"{organisation}-{documnet}-{year}"')
    assert_refused(run_cli("share", cwd=root),
                   f"content/en.yaml:{where(text, '{organisation}-{documnet}', -1)}: email.file_name "
                   "names '{documnet}', which share does not fill in",
                   "email.file_name may use {organisation}, {document}, {year}, {lang}")


def test_a_subject_with_a_line_break_is_one_line_at_its_place(shared, tmp_path):
    root = _content_copy(shared, tmp_path)
    text = edit(root / "content" / "en.yaml", '"Our culture, for {name}"',
                '"Our culture, for {name}\\nBcc: someone@example.com"')
    assert_refused(run_cli("share", cwd=root),
                   f"content/en.yaml:{where(text, 'Our culture, for', -1)}: email.subject holds a "
                   "line break: a subject is one line of a mail header",
                   "write it on one line (in YAML, a | block keeps its line breaks and \\n in "
                   "double quotes is one)")


def test_content_without_an_email_text_is_one_line(shared, tmp_path):
    root = _content_copy(shared, tmp_path)
    for lang in ("en", "zh-Hans"):
        path = root / "content" / f"{lang}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text[:text.index("\nemail:")] + "\n", encoding="utf-8")
    assert_refused(run_cli("share", "--edition", "en", cwd=root),
                   "content/en.yaml: share needs the message's text: no email: with subject and "
                   "body in content/en.yaml",
                   "add email: with subject, body and file_name, as in docs/sharing.md")


def _content_copy(shared: Path, tmp_path: Path) -> Path:
    """The shared project's content, layouts and fonts without its build."""
    from projectkit import make_project

    root = make_project(tmp_path / "project", "share")
    shutil.copytree(shared / "content" / "images", root / "content" / "images")
    shutil.copy(shared / "content" / "en.yaml", root / "content" / "en.yaml")
    return root
