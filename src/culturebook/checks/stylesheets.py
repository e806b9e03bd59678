"""The theme's stylesheets, parsed as WeasyPrint will, with every problem at its line."""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from culturebook.errors import Location, Problems
from culturebook.project.brand import Brand
from culturebook.render.weasy import ConfinedFetcher, LogCapture, load_weasyprint, report_refused


def check_stylesheets(brand: Brand, problems: Problems, strict: bool,
                      cache: Path | None = None) -> None:
    """Parse every stylesheet of the theme; CSS WeasyPrint ignores is a warning (error if strict).

    What WeasyPrint says of a stylesheet is cached by its text (and WeasyPrint's version), so a
    check or a build with nothing to do need not import WeasyPrint at all."""

    for directory in brand.dirs:
        root = Path(directory).resolve().parent.parent
        for sheet in sorted(directory.rglob("*.css")):
            text = sheet.read_text(encoding="utf-8")
            key = hashlib.sha256(f"{version('weasyprint')}\0{root}\0{text}".encode()).hexdigest()
            stored = cache / "css" / f"{key}.json" if cache is not None else None
            try:
                said = json.loads(stored.read_text()) if stored else None
            except (OSError, ValueError):
                said = None
            if said is None:
                said = _parse_stylesheet(sheet, text, root, brand)
                if stored is not None:
                    stored.parent.mkdir(parents=True, exist_ok=True)
                    stored.write_text(json.dumps(said))
            refused, messages = said
            # An @import from outside the project is an error, as it is in a build, not a CSS warning.
            for url in refused:
                n, source = next(((n, s) for n, s in enumerate(text.splitlines(), 1) if url in s),
                                 (0, ""))
                report_refused(problems, Location(sheet, n, source.find(url) + 1), url)
            for message in messages:
                match = re.search(r" at (\d+):(\d+)", message)
                line, col = (int(match[1]), int(match[2])) if match else (0, 0)
                what = re.sub(r" at \d+:\d+", "", message).rstrip(".")
                report = problems.error if strict else problems.warn
                report(Location(sheet, line, col), f"CSS: {what}",
                       "WeasyPrint does not understand this; it is left out")


def _parse_stylesheet(sheet: Path, text: str, root: Path, brand: Brand) -> tuple[list[str], list[str]]:
    """The URLs WeasyPrint was refused and the messages it logged while parsing a stylesheet."""
    load_weasyprint()
    from weasyprint import CSS

    fetcher: Any = ConfinedFetcher(root, brand)  # WeasyPrint's URLFetcher, made by ConfinedFetcher.__new__
    with LogCapture() as capture:
        CSS(string=text, base_url=str(sheet), url_fetcher=fetcher)
    return list(fetcher.refused), capture.messages(fetcher.refused)
