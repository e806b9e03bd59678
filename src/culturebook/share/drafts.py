"""Screen PDFs -> PDFs prepared for email, a cover thumbnail and ready-to-open drafts: build/<lang>/share/.

- `prepare_pdf` (pure): images downsampled to 150 ppi at the largest size they are drawn at, the
  title shown in the viewer's title bar, the bookmarks panel open.
- `thumbnail`, `file_stem` (pure): the cover as PNG; file names a person would keep.
- `write_share`: reads the built screen editions, prepares them, composes the drafts (message.py)
  within the size budget, and writes build/<lang>/share/ all at once. Sending is mail.py's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from culturebook import __version__
from culturebook.build.documents import edition_documents
from culturebook.errors import Location, Problems
from culturebook.files import cache_dir
from culturebook.pdf.scan import Document
from culturebook.project.recipients import from_csv_cell
from culturebook.project.yamlsource import load_yaml
from culturebook.publish import build_lock, load_manifest, publish
from culturebook.render.templates import template_environment
from culturebook.share.message import (
    Attachment,
    Envelope,
    Letter,
    OverBudget,
    UnsafeHeader,
    compose,
    human_size,
    plan_messages,
)

SCREEN_PPI = 150
SLACK = 1.2  # an image is resampled only when it has 20 % more pixels than SCREEN_PPI needs
THUMBNAIL_WIDTH = 480  # px: shown 240 px wide in the message, sharp on high-density screens


@dataclass(frozen=True)
class Prepared:
    """A PDF prepared for email, and what preparing it did."""

    data: bytes
    images_resampled: int


# --- preparing PDFs -------------------------------------------------------------------------------


def prepare_pdf(data: bytes, title: str, ppi: int = SCREEN_PPI) -> Prepared:
    """The screen PDF `data` made ready to send: images no finer than `ppi` at their placed size,
    identical objects stored once, `title` in the metadata and shown in the title bar, the bookmarks
    panel open. The same input gives the same bytes.

    pypdf writes no object streams, so a PDF it writes anew is some 5-10 % larger than WeasyPrint's
    own. A PDF is therefore written anew only when resampling its images makes it smaller; otherwise
    the title and viewer settings are appended to it as an incremental update (about 600 bytes)."""

    document = Document(data)
    placed: dict[int, tuple[float, float]] = {}
    for scan in document.scans:
        for number, (w, h) in scan.placed.items():
            old = placed.get(number, (0.0, 0.0))
            placed[number] = (max(old[0], w), max(old[1], h))
    appended = _with_settings(data, title)
    resampled = sum(_resample(document.reader.get_object(number), w, h, ppi)
                    for number, (w, h) in sorted(placed.items()))
    if not resampled:
        return Prepared(appended, 0)
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    writer = PdfWriter(clone_from=document.reader)
    _settings(writer, title)
    digest = hashlib.md5(data + title.encode()).digest()  # a file identifier from the input
    # pypdf 7 sets a file identifier only at random (generate_file_identifiers): _ID takes ours
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    if len(out.getvalue()) >= len(appended):
        return Prepared(appended, 0)
    return Prepared(out.getvalue(), resampled)


def _settings(writer, title: str) -> None:
    writer.add_metadata({"/Title": title})
    writer.create_viewer_preferences()
    writer.viewer_preferences.display_doctitle = True
    writer.page_mode = "/UseOutlines"


def _with_settings(data: bytes, title: str) -> bytes:
    """`data` with the title and viewer settings appended as an incremental update."""
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    _settings(writer, title)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _resample(image, w_pt: float, h_pt: float, ppi: int) -> int:
    """Resample the image XObject `image` (in place) to `ppi` at its placed size of w_pt × h_pt;
    1 when it did, 0 when it was fine as it was or is a kind it leaves alone."""
    from PIL import Image
    from pypdf.generic import NameObject, NumberObject

    try:
        width, height = int(image["/Width"]), int(image["/Height"])
    except (KeyError, TypeError, ValueError):
        return 0
    need_w = max(1, math.ceil(w_pt / 72 * ppi))
    need_h = max(1, math.ceil(h_pt / 72 * ppi))
    if image.get("/ImageMask") or width <= need_w * SLACK or height <= need_h * SLACK:
        return 0
    scale = max(need_w / width, need_h / height)  # the same in both directions: never squashed
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    try:
        picture = image.decode_as_image()
    except Exception:  # noqa: BLE001 - a colour space or filter Pillow cannot read: leave it
        return 0
    if picture is None:
        return 0
    lossy = _filters(image) == ["/DCTDecode"]
    mode = {"L": "L", "1": "L", "CMYK": "CMYK"}.get(picture.mode, "RGB")
    picture = picture.convert(mode).resize(size, Image.Resampling.LANCZOS)
    space = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}[mode]
    if lossy and mode != "CMYK":
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85, optimize=True)
        encoded, name = buffer.getvalue(), "/DCTDecode"
    else:
        encoded, name = zlib.compress(picture.tobytes(), 9), "/FlateDecode"
    _replace_stream(image, encoded, name, size)
    original = image.get("/ColorSpace")
    original = original.get_object() if original is not None else None
    if not _same_components(original, mode):
        image[NameObject("/ColorSpace")] = NameObject(space)
        if "/Decode" in image:
            del image["/Decode"]
    image[NameObject("/BitsPerComponent")] = NumberObject(8)
    mask = image.get("/SMask")
    if mask is not None:  # the transparency, resampled to the same size (always lossless)
        mask = mask.get_object()
        try:
            alpha = mask.decode_as_image().convert("L").resize(size, Image.Resampling.LANCZOS)
        except Exception:  # noqa: BLE001 - unreadable: drop the resampling of this image's mask
            return 1
        _replace_stream(mask, zlib.compress(alpha.tobytes(), 9), "/FlateDecode", size)
        mask[NameObject("/BitsPerComponent")] = NumberObject(8)
    return 1


def _filters(stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _same_components(space, mode: str) -> bool:
    """Whether the colour space `space` takes pixels of Pillow's `mode` as they are."""
    components = {"L": 1, "RGB": 3, "CMYK": 4}[mode]
    if space in ("/DeviceGray", "/DeviceRGB", "/DeviceCMYK"):
        return {"/DeviceGray": 1, "/DeviceRGB": 3, "/DeviceCMYK": 4}[space] == components
    if isinstance(space, list) and len(space) == 2 and space[0] == "/ICCBased":
        return int(space[1].get_object().get("/N", 0)) == components
    return False


def _replace_stream(stream, data: bytes, name: str, size: tuple[int, int]) -> None:
    from pypdf.generic import NameObject, NumberObject, StreamObject

    StreamObject.set_data(stream, data)  # the bytes as encoded, past pypdf's own re-encoding
    if hasattr(stream, "decoded_self"):
        stream.decoded_self = None
    stream[NameObject("/Filter")] = NameObject(name)
    if "/DecodeParms" in stream:
        del stream["/DecodeParms"]
    stream[NameObject("/Width")] = NumberObject(size[0])
    stream[NameObject("/Height")] = NumberObject(size[1])


def thumbnail(pdf: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """The first page of `pdf`, drawn `width` pixels wide, as PNG bytes."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale, draw_annots=False).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


# --- names ----------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def file_stem(pattern: str, **values: str) -> str:
    """A file name a person would keep: `pattern`'s {placeholders} filled in, spaces and the
    characters file systems refuse turned into hyphens, runs of hyphens made one."""
    text = re.sub(r"\{([a-z]+)\}", lambda m: values.get(m.group(1), ""), pattern)
    text = _UNSAFE.sub("-", text)
    text = re.sub(r"[\s·・•]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-. ")
    return text or "culture"


# --- the share build: build/<lang>/share/ -----------------------------------------------------------

SHARE_DIR = "share"
PREPARED = ".prepared.json"  # what each prepared PDF was made from, so unchanged ones are kept
HEADERS_ROOM = 1024  # To, Date and Message-ID, which a draft does not have yet


@dataclass(frozen=True)
class Settings:
    """The share: block of publication.yaml, with its defaults."""

    attach: tuple[str, ...] = ("booklet", "posters")
    budget: int = 10 * 1024**2
    split: bool = False
    sender: str = ""
    host: str = ""
    port: int = 587
    security: str = "starttls"
    rate: float = 0


def settings_from(publication: dict) -> Settings:
    """The share settings of a project's validated publication.yaml."""
    share = publication.get("share") or {}
    smtp = share.get("smtp") or {}
    defaults = Settings()
    return Settings(
        attach=tuple(dict.fromkeys(share.get("attach") or defaults.attach)),
        budget=share.get("budget") or defaults.budget,
        split=bool(share.get("split", defaults.split)),
        sender=share.get("from") or "",
        host=smtp.get("host") or "",
        port=smtp.get("port") or defaults.port,
        security=smtp.get("security") or defaults.security,
        rate=share.get("rate") or 0,
    )


@dataclass(frozen=True)
class EditionShare:
    """One edition made ready to send: its text, its attachments (prepared, as written under
    build/<lang>/share/), each recipient's own booklet where personalised ones were built, the
    cover thumbnail, and the drafts written."""

    lang: str
    letter: Letter
    attachments: tuple[Attachment, ...]
    personal: dict  # email (lower case) -> Attachment replacing the booklet
    cover: bytes
    page: object  # page(body_html, cover_cid, lang, files) -> the HTML part
    stem: str  # the message's name: drafts are <stem>.eml (or <stem>-1.eml, ... when split)
    drafts: tuple[str, ...]  # paths under build/
    screen_bytes: int  # the screen PDFs' sizes, for comparison
    images_resampled: int

    booklet: int | None  # the booklet's index among the attachments, if it is attached
    personalised: bool = False  # personalised booklets were built: `personal` lists who has one

    def for_recipient(self, email: str) -> list[Attachment]:
        """What `email` receives: their own booklet in place of the booklet, when they have one."""
        files = list(self.attachments)
        own = self.personal.get(email.strip().lower())
        if own is not None and self.booklet is not None:
            files[self.booklet] = own
        return files


DEFAULT_WORDS = {"booklet": "Booklet", "culture-kit": "Kit", "poster": "Poster-{poster}"}
DEFAULT_PATTERN = "{organisation}-{document}-{year}-{lang}"


def write_share(root: Path, checked, langs: list[str] | None,
                progress=lambda *_: None) -> list[EditionShare]:
    """Prepare the built screen editions of each edition for email and write build/<lang>/share/:
    the PDFs under names a person keeps, personalised booklets under personalised/, the cover
    thumbnail and the drafts (.eml). Everything is made in memory first: a problem (no email text,
    over budget) writes nothing."""

    settings = settings_from(checked.content.settings)
    out = root / "build"
    page = _email_page(checked)
    problems = Problems()
    shares, writes = [], {}
    built = load_manifest(out)
    for edition in checked.content.editions:
        if langs is not None and edition.lang not in langs:
            continue
        made = _share_edition(root, checked, edition, settings, page, problems, progress, built)
        if made is not None:
            share, files = made
            shares.append(share)
            writes.update(files)
    problems.raise_if_errors()
    with build_lock(out):  # the changed files and what an earlier share left, all or nothing
        changed = {path: data for path, data in writes.items()
                   if not path.is_file() or path.read_bytes() != data}
        gone = [old for share in shares
                for old in [*(out / share.lang / SHARE_DIR).glob("*"),
                            *(out / share.lang / SHARE_DIR).glob("personalised/*")]
                if old.is_file() and old.suffix in (".pdf", ".eml", ".png") and old not in writes]
        if changed or gone:
            publish(out, changed, gone)
    return shares


def _share_edition(root: Path, checked, edition, settings: Settings, page, problems: Problems,
                   progress, built: dict):
    """One edition's share (and the files to write), or None with a problem added. `built` is
    build/manifest.json's artifacts by path: a PDF whose bytes are not the ones it lists is not
    prepared, let alone sent."""

    data, lang = edition.data, edition.lang
    email = data.get("email")
    if not email or not email.get("subject") or not email.get("body"):
        problems.error(Location(edition.files[-1]), "share needs the message's text: no email: "
                       f"with subject and body in content/{lang}.yaml",
                       "add email: with subject, body and file_name, as in "
                       "docs/sharing.md")
        return None
    folder = root / "build" / lang
    target = folder / SHARE_DIR
    words = {**DEFAULT_WORDS, **{k: v for k, v in (email.get("documents") or {}).items() if v}}
    pattern = email.get("file_name") or DEFAULT_PATTERN
    year = str(edition.date.year)

    def name(document: str) -> str:
        return file_stem(pattern, organisation=data["organisation"], document=document,
                         year=year, lang=lang)

    title = data["title"]
    sources = []  # (what share: attach: calls it, the built file, the file name, the PDF's title)
    for document in edition_documents(checked.brand, edition, {"booklet", "posters", "bundle"}):
        source = root / "build" / document.path
        if document.kind == "poster":
            sources.append(("posters", source, name(words["poster"].replace("{poster}", document.name)),
                            f"{title}: {document.name}"))
        else:
            word = "booklet" if document.kind == "booklet" else "culture-kit"
            sources.append((word, source, name(words[word]), document.title))
    missing = [s for s in sources if not s[1].is_file()]
    if missing:
        problems.error(Location(missing[0][1]), "not built: share sends the screen editions",
                       "run culturebook build bundle first")
        return None
    cache = _load_prepared(target)
    writes, screen, resampled, booklet = {}, 0, 0, None
    attachments: list[Attachment] = []
    record: dict = {}
    for kind, source, stem, pdf_title in sources:
        path = target / f"{stem}.pdf"
        pdf = _as_built(root, source, built, problems)
        if pdf is None:
            continue
        prepared, count = _prepare_cached(pdf, path, pdf_title, cache, record, progress)
        writes[path] = prepared
        resampled += count
        if kind in settings.attach:
            if kind == "booklet":
                booklet = len(attachments)
            screen += source.stat().st_size
            attachments.append(Attachment(f"{stem}.pdf", prepared,
                                          path.relative_to(root / "build").as_posix()))
    personal = {}
    listing = folder / "personalised" / "recipients.csv"
    if listing.is_file():

        with open(listing, encoding="utf-8", newline="") as table:
            rows = list(csv.DictReader(table))
        for row in rows:
            source = folder / "personalised" / (row.get("file") or "")
            address = from_csv_cell(row.get("email") or "")
            if not address or not source.is_file():
                continue
            path = target / "personalised" / source.name
            pdf = _as_built(root, source, built, problems)
            if pdf is None:
                continue
            prepared, _ = _prepare_cached(pdf, path, title, cache, record, progress)
            writes[path] = prepared
            personal[address.strip().lower()] = Attachment(
                name(words["booklet"]) + ".pdf", prepared, path.relative_to(root / "build").as_posix())
    if problems.errors:
        return None
    cover = thumbnail(writes[target / f"{name(words['booklet'])}.pdf"])
    stem = name("")
    writes[target / f"{stem}-cover.png"] = cover
    letter = Letter(email["subject"], email["body"], lang)
    share = EditionShare(lang, letter, tuple(attachments), personal, cover, page, stem, (),
                         screen, resampled, booklet, listing.is_file())
    try:
        groups = plan_for(share, settings, attachments)
    except UnsafeHeader as unsafe:  # the content's check stops a subject with a line break first
        problems.error(Location(edition.files[-1]), f"share: {unsafe}",
                       "write the email subject and share: from: on one line")
        return None
    except OverBudget as over:
        problems.error(_budget_location(root), over_budget_message(lang, over, settings),
                       "set share: split: true to send the files over numbered messages, or attach "
                       "fewer (share: attach:)" if not over.alone else
                       f"{over.alone} alone is over the budget: raise share: budget: or leave it "
                       "out of share: attach:")
        return None
    drafts = []
    for number, group in enumerate(groups, 1):
        envelope = Envelope(sender=settings.sender, part=number, parts=len(groups))
        message = compose(letter, group, cover, page, envelope)
        path = target / (f"{stem}.eml" if len(groups) == 1 else f"{stem}-{number}.eml")
        writes[path] = message.as_bytes()
        drafts.append(path.relative_to(root / "build").as_posix())
    writes[target / PREPARED] = (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
    share = EditionShare(lang, letter, tuple(attachments), personal, cover, page, stem,
                         tuple(drafts), screen, resampled, booklet, listing.is_file())
    return share, writes


def plan_for(share: EditionShare, settings: Settings,
             attachments: list[Attachment]) -> list[list[Attachment]]:
    """The messages `attachments` need under the settings' budget (OverBudget if they cannot)."""
    empty = compose(share.letter, [], share.cover, share.page, Envelope(sender=settings.sender))
    overhead = len(empty.as_bytes()) + HEADERS_ROOM
    return plan_messages(attachments, overhead, settings.budget, settings.split)


def over_budget_message(lang: str, over: OverBudget, settings: Settings) -> str:
    """One line: how big the message is, the largest files, and what would fit."""
    largest = ", ".join(f"{name} {human_size(size)}" for name, size in over.largest[:3])
    fits = (f"; {len(over.fits)} of the {len(over.largest)} files would fit "
            f"({', '.join(over.fits)})" if over.fits else "; none of the files fits")
    return (f"{lang}: the message is {human_size(over.total)} as sent, over the share budget of "
            f"{human_size(over.budget)}; largest: {largest}{fits}")


def _budget_location(root: Path):
    """Where share: budget: is written (or share:, or the file)."""

    path = root / "content" / "publication.yaml"
    node = load_yaml(path)
    share = node.value.get("share") if isinstance(node.value, dict) else None
    if share is None:
        return Location(path)
    budget = share.value.get("budget") if isinstance(share.value, dict) else None
    return budget.loc if budget is not None else (share.key_loc or share.loc)


def _load_prepared(folder: Path) -> dict:
    try:
        return json.loads((folder / PREPARED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _as_built(root: Path, source: Path, built: dict, problems: Problems) -> bytes | None:
    """The bytes of the built PDF `source` if they are the ones build/manifest.json lists for it;
    else None, with a problem: a file changed (or put there) since the build is not sent."""

    data = source.read_bytes()
    rel = source.relative_to(root / "build").as_posix()
    entry = built.get(rel)
    hint = ("build it again: culturebook build personalised --recipients with your CSV"
            if source.parent.name == "personalised" else "build it again: culturebook build bundle")
    if entry is None:
        problems.error(Location(source), "is not in build/manifest.json: share sends only what "
                       "the build made", hint)
    elif hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        problems.error(Location(source), "has changed since it was built (its sha256 is not the "
                       "one in build/manifest.json); it is not sent", hint)
    else:
        return data
    return None


def _prepare_cached(data: bytes, path: Path, title: str, cache: dict, record: dict,
                    progress) -> tuple[bytes, int]:
    """The prepared PDF for the built `data`: the file already at `path` when it was prepared from
    these same bytes and title (by this version), else prepared now. Notes it in `record`."""

    key = hashlib.sha256(data + title.encode() + __version__.encode()).hexdigest()
    entry = cache.get(path.name if path.parent.name != "personalised" else
                      f"personalised/{path.name}")
    rel = path.name if path.parent.name != "personalised" else f"personalised/{path.name}"
    if entry and entry.get("source") == key and path.is_file():
        existing = path.read_bytes()
        if hashlib.sha256(existing).hexdigest() == entry.get("sha256"):
            record[rel] = entry
            return existing, entry.get("resampled", 0)
    progress(f"preparing build/{path.as_posix().rsplit('/build/', 1)[-1]}")
    prepared = prepare_pdf(data, title)
    record[rel] = {"source": key, "sha256": hashlib.sha256(prepared.data).hexdigest(),
                   "resampled": prepared.images_resampled}
    return prepared.data, prepared.images_resampled


def _email_page(checked):
    """page(body_html, cover_cid, lang, files): the theme's email.html, filled in."""


    template = template_environment(checked.brand, cache_dir()).get_template("email.html")
    editions = {e.lang: e for e in checked.content.editions}

    def page(body_html: str, cover_cid: str, lang: str, files: list[dict]) -> str:
        data = editions[lang].data
        return template.render(lang=lang, title=data["title"], subtitle=data.get("subtitle") or "",
                               organisation=data["organisation"], body=Markup(body_html),
                               cover_cid=cover_cid, files=files, colours=checked.brand.colours)

    return page
