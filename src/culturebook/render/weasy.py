"""WeasyPrint set up for culturebook: imported quickly, its fonts only the project's, its URL
fetcher confined to the project, what it logs captured to be reported as problems."""

from __future__ import annotations

import ctypes.util
import functools
import hashlib
import logging
import mimetypes
import os
import re
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from urllib.request import url2pathname

import tinycss2

from culturebook.errors import Location, Problems
from culturebook.files import cache_dir
from culturebook.render.hyphens import keep_patterns


def font_copies_folder(cache: Path) -> Path:
    """A new folder for this process's copies of the theme's font files, under `cache`; first,
    the folders of processes that no longer run (killed before they could clean up) go."""

    root = cache / "font-copies"
    root.mkdir(parents=True, exist_ok=True)
    for folder in root.iterdir():
        pid = folder.name.split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def setup_fontconfig(fonts_dir: Path | list[Path], cache_dir: Path) -> Path:
    """Point fontconfig at a configuration that lists only the project's fonts (the folders given)
    before Pango loads; return the configuration file."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    conf = cache_dir / "fonts.conf"
    folders = [fonts_dir] if isinstance(fonts_dir, Path) else fonts_dir
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        + "".join(f"  <dir>{_xml(str(folder.resolve()))}</dir>\n" for folder in folders) +
        f"  <cachedir>{_xml(str((cache_dir / 'cache').resolve()))}</cachedir>\n"
        "</fontconfig>\n"
    )
    if not conf.is_file() or conf.read_text() != text:
        conf.write_text(text)
    os.environ["FONTCONFIG_FILE"] = str(conf)
    os.environ.pop("FONTCONFIG_PATH", None)
    return conf


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class LogCapture(logging.Handler):
    """Collects what WeasyPrint logs while in a `with` block (and keeps it off the terminal):
    WeasyPrint logs and carries on where culturebook must report and stop."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger("weasyprint")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, skip_urls: list[str]) -> list[str]:
        """First lines of the captured records, leaving out those about refused URLs."""
        lines = [record.getMessage().splitlines()[0] for record in self.records]
        return [m for m in lines if not any(url in m for url in skip_urls)]

    def __enter__(self) -> LogCapture:
        self.saved = self.logger.level, self.logger.propagate
        self.logger.addHandler(self)
        self.logger.setLevel(logging.WARNING)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.level, self.logger.propagate = self.saved


def report_refused(problems: Problems, location: Location, url: str) -> None:
    problems.error(location, f"refused to load '{url}': only files inside the project are used",
                   "nothing is fetched from the network or from outside the project")


def load_weasyprint() -> None:
    """Import WeasyPrint (once), without the slow part of finding its libraries on Linux.

    WeasyPrint tries several names for each library it loads (Pango, HarfBuzz, fontconfig...);
    for a name that is not a file name, cffi asks ctypes.util.find_library, which on Linux runs
    ldconfig, gcc and ld in subprocesses. That took 0.3-0.5 s of a 0.9-1.1 s import here, on
    every build that renders. While WeasyPrint imports, those lookups answer "not found", so it
    goes on to the sonames it also tries (libpango-1.0.so.0, ...), which the dynamic loader
    opens directly, as it would have in the end (LD_LIBRARY_PATH is honoured either way).

    From then on, the process parses each stylesheet once (keep_parsed_stylesheets) and reads
    hyphenation patterns from culturebook's cache (render.hyphens)."""

    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        find_library = ctypes.util.find_library
        ctypes.util.find_library = lambda name: None
        try:
            import weasyprint  # noqa: F401
        finally:
            ctypes.util.find_library = find_library
    import pydyf

    if not isinstance(pydyf.zlib, _RepeatedStreams):
        pydyf.zlib = _RepeatedStreams()
    keep_parsed_stylesheets()
    keep_patterns(cache_dir() / "hyphenation")


LARGE_STREAM = 64 * 1024  # bytes: smaller streams are deflated afresh every time


class _RepeatedStreams:
    """The zlib WeasyPrint's PDF writer (pydyf) deflates its streams with, which remembers the
    last few large streams it deflated. Every print file embeds the theme's output profile
    (hundreds of KB), which pydyf deflates at level 9 each time: about 0.45 s a document here, a
    third of the time a batch of twenty recipients' print pages takes. The same bytes deflate to
    the same bytes, so the output is unchanged; a process deflates its profile once."""

    def __init__(self, most: int = 8) -> None:
        self.known: dict[tuple[int, bytes], bytes] = {}  # oldest use first
        self.most = most

    def __getattr__(self, name: str):
        return getattr(zlib, name)

    def compressobj(self, level: int = -1, *args, **kwargs):
        if args or kwargs:
            return zlib.compressobj(level, *args, **kwargs)
        return _Deflate(self, level)

    def deflate(self, data: bytes, level: int) -> bytes:
        """`data` deflated as zlib.compressobj(level) does, taken from memory when it was lately."""
        if len(data) < LARGE_STREAM:
            return _deflated(data, level)
        key = (level, hashlib.sha256(data).digest())
        packed = self.known.pop(key, None)
        if packed is None:
            packed = _deflated(data, level)
        self.known[key] = packed
        while len(self.known) > self.most:
            del self.known[next(iter(self.known))]
        return packed


class _Deflate:
    """A compressobj that deflates all it was given at once, when flushed."""

    def __init__(self, streams: _RepeatedStreams, level: int) -> None:
        self.streams, self.level, self.parts = streams, level, []

    def compress(self, data: bytes) -> bytes:
        self.parts.append(bytes(data))
        return b""

    def flush(self, *args) -> bytes:
        return self.streams.deflate(b"".join(self.parts), self.level)


def _deflated(data: bytes, level: int) -> bytes:
    deflate = zlib.compressobj(level)
    return deflate.compress(data) + deflate.flush()


class ConfinedFetcher:
    """A WeasyPrint URL fetcher that serves files inside the project (and the folders of its
    brand's themes and font files, wherever they are installed) and refuses everything else."""

    def __new__(cls, root: Path, brand=None):
        roots = (root, *_brand_folders(brand))
        load_weasyprint()
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class _Fetcher(URLFetcher):
            def __init__(self) -> None:
                super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
                self.refused: list[str] = []

            def fetch(self, url, headers=None):
                if url.startswith("data:"):
                    return super().fetch(url, headers)
                path = file_path(url)
                if path is None or not any(path.resolve().is_relative_to(r) for r in roots):
                    self.refused.append(url)
                    raise ValueError(f"refused: {url}")
                data = path.read_bytes()
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, data, {"Content-Type": mime})

        return _Fetcher()


def _brand_folders(brand) -> tuple[Path, ...]:
    """The folders of a Brand's themes and font files, resolved (a shipped theme is a symlink in
    a development install)."""
    if brand is None:
        return ()
    folders = [d.resolve() for d in brand.dirs] + [face.file.resolve().parent for face in brand.faces]
    return tuple(dict.fromkeys(folders))


def file_path(url: str) -> Path | None:
    if not url.startswith("file:"):
        return None

    return Path(url2pathname(re.sub(r"^file://(localhost)?", "", url.split("?")[0])))


# --- what a process keeps from one document (and one build) to the next --------------------------

_KEPT_FONTS: dict[str, object] = {}  # the latest set of fonts' FontConfiguration


def keep_parsed_stylesheets() -> None:
    """From now on, in this process, parse each stylesheet text once, rather than at every
    layout of every document (WeasyPrint parses every stylesheet of every document it lays out):
    the check's layouts and the build's share one parse, as do a batch's personalised booklets
    and the preview's builds one after another. The parsed rules are handed out as a new list
    each time and never changed, so a layout gets what a fresh parse of the same text gives."""
    if getattr(tinycss2.parse_stylesheet, "kept", False):
        return
    parse, parse_bytes = tinycss2.parse_stylesheet, tinycss2.parse_stylesheet_bytes

    @functools.lru_cache(maxsize=256)
    def parsed(css: str, skip_comments: bool, skip_whitespace: bool) -> tuple:
        return tuple(parse(css, skip_comments, skip_whitespace))

    @functools.lru_cache(maxsize=64)
    def parsed_bytes(css: bytes, protocol: str | None, environment: object,
                     skip_comments: bool, skip_whitespace: bool) -> tuple:
        rules, encoding = parse_bytes(css, protocol, environment, skip_comments, skip_whitespace)
        return tuple(rules), encoding

    def parse_stylesheet(css, skip_comments=False, skip_whitespace=False):
        return list(parsed(css, skip_comments, skip_whitespace))

    def parse_stylesheet_bytes(css_bytes, protocol_encoding=None, environment_encoding=None,
                               skip_comments=False, skip_whitespace=False):
        rules, encoding = parsed_bytes(css_bytes, protocol_encoding, environment_encoding,
                                       skip_comments, skip_whitespace)
        return list(rules), encoding

    parse_stylesheet.kept = True  # type: ignore[attr-defined]
    tinycss2.parse_stylesheet = parse_stylesheet
    tinycss2.parse_stylesheet_bytes = parse_stylesheet_bytes


def kept_font_config(fonts, make):
    """The FontConfiguration made last in this process for the same fonts (`fonts()` names them),
    or a new one made by `make`; only the latest set of fonts is kept.

    Every Renderer of a process shares it: the check's layouts and the build's documents in one
    command, each of the preview's builds while the theme's fonts stay the same (a colour edit
    neither copies the font files again nor empties Pango's caches of them). A layout gets the
    same fonts as from a fresh configuration: the preview's tests compare its PDFs with a cold
    build's, byte for byte."""
    key = fonts()
    if key not in _KEPT_FONTS:
        _KEPT_FONTS.clear()  # its folder of font copies goes with it, when nothing uses it
        _KEPT_FONTS[key] = make()
    return _KEPT_FONTS[key]
