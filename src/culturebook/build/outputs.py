"""A build's outputs: preflighted, then published with the manifest in one transaction."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from culturebook.errors import Location, Problems
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import REPORT, Finding, expect_for, settings_from, with_fills
from culturebook.publish import MANIFEST, publish

if TYPE_CHECKING:
    from culturebook.project.content import Image
from culturebook.build.plan import Output
from culturebook.checks.project import Checked
from culturebook.publish import load_manifest


@dataclass(frozen=True)
class Artifact:
    """One written file, as listed in build/manifest.json."""

    kind: str
    edition: str
    path: str
    pages: int
    bytes: int
    sha256: str
    inputs: str = ""  # hash of everything the file was made from; unchanged inputs, no rebuild
    # A poster: the share of its frame its text takes; a booklet: [named page, fill] per page
    # (render.Rendered.fill). `check` shows them; preflight holds booklets to the fill rule.
    fill: float | list | None = None


def previous_findings(out: Path, editions) -> dict:
    """The preflight findings of the last build's reports, so a report still lists the files this
    build did not need to make again."""

    found = {}
    for edition in editions:
        try:
            report = json.loads((out / edition / REPORT).read_text(encoding="utf-8"))
            for entry in report["files"]:
                found[entry["path"]] = [
                    Finding(f["check"], f["error"], f["page"], f["message"],
                            tuple(f["pixels"]) if f.get("pixels") else None)
                    for f in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def preflight_outputs(root: Path, checked: Checked, outputs, strict: bool, earlier: dict):
    """Preflight every rendered PDF before anything is written: an error stops the build (nothing
    is written), a warning is reported (and stops it under --strict). A document reused unchanged
    reports the findings it had (`earlier`, by path under build/)."""

    out = root / "build"
    languages = [e.lang for e in checked.content.editions]
    settings = settings_from(checked.brand, checked.content.editions[0].poster_size, languages,
                             root / "fonts")
    findings, problems = {}, Problems()
    for output in outputs:
        if not output.preflight:
            continue
        kind, lang, path, data = output.kind, output.edition, output.path, output.data
        key = path.relative_to(out).as_posix()
        if output.fresh and output.findings is not None:
            findings[key] = list(output.findings)
        elif output.fresh or key not in earlier:
            expect = with_fills(expect_for(key, settings, kind, lang), output.fill)
            findings[key] = preflight_pdf(data, expect)
        else:
            findings[key] = earlier[key]
        images = checked.content.edition(lang).images
        for finding in findings[key]:
            report = problems.error if finding.error else problems.warn
            source = _source_image(finding, images) if finding.pixels else None
            if source is not None:  # name the content image, where the content refers to it
                what = re.sub(r"image \S+( \(object \d+\))?", "the image", finding.message, count=1)
                report(source.loc, f"image '{source.src}' in {key}: {what}",
                       "use a larger image, or place it smaller" if finding.check == "images"
                       else "")
            else:
                report(Location(path), f"preflight {finding.check}: {finding.message}")
    problems.raise_if_errors(strict)
    return findings, problems.warnings


def _source_image(finding, images: tuple[Image, ...]) -> Image | None:
    """The content image a preflight finding is about. WeasyPrint names an image in the PDF
    i<MD5 of its URL><0|1>, so the name tells two images of one pixel size apart (three photos
    from one camera); where a name is lost (a page imposed or tiled), the pixel size decides,
    if only one image has it."""
    named = re.search(r"\bimage i([0-9a-f]{32})[01]\b", finding.message)
    if named:
        for image in images:
            if hashlib.md5(image.file.as_uri().encode(), usedforsecurity=False).hexdigest() == named[1]:
                return image
    sized = [i for i in images if _pixel_size(i.file) == finding.pixels]
    return sized[0] if len(sized) == 1 else None


def _pixel_size(file: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(file) as image:
            return image.size
    except OSError:
        return None


def write_outputs(out: Path, outputs: list[Output], extra: dict[Path, bytes] | None = None,
                  remove: list[Path] = ()) -> list[Artifact]:
    """Publish every fresh output, the `extra` files (the preflight reports) and the manifest
    (listing the outputs reused unchanged too, and no longer the files in `remove`, which go) as
    one transaction (publish.publish): build/ is the whole old build or the whole new one. Return
    what was written."""
    written, entries, writes = [], {}, {}
    for output in outputs:
        artifact = Artifact(output.kind, output.edition, output.path.relative_to(out).as_posix(),
                            output.pages, len(output.data), hashlib.sha256(output.data).hexdigest(),
                            output.inputs, output.fill)
        if output.fresh:
            writes[output.path] = output.data
            written.append(artifact)
        entries[artifact.path] = asdict(artifact)
    remove = [p for p in remove if p.is_file()]
    if not written and not remove:
        return written
    gone = {p.relative_to(out).as_posix() for p in remove}
    previous = {p: a for p, a in load_manifest(out).items()
                if p not in gone and (out / p).is_file()}
    previous.update(entries)
    manifest = {"artifacts": [previous[p] for p in sorted(previous)]}
    writes.update(extra or {})
    writes[out / MANIFEST] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    publish(out, writes, remove)
    return written
