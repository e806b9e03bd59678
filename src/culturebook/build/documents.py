"""An edition's documents: what a build of some parts (pipeline.PARTS) writes for it, each with its
path under build/ and its title. The build plans these, share picks the screen editions among them
to send, and the preview shows them.

Personalised booklets are not listed here: they depend on a recipients CSV as well as the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from culturebook.render.templates import poster_subjects

if TYPE_CHECKING:
    from culturebook.project.brand import Brand
    from culturebook.project.content import Edition

SCREEN = ("booklet", "poster", "bundle")  # the kinds of the screen editions, in the order listed


@dataclass(frozen=True)
class Document:
    """One document an edition's build writes."""

    part: str  # the part of a build that writes it: booklet, posters, bundle, print or archive
    kind: str  # as build/manifest.json names it
    path: str  # under build/
    title: str  # the edition's title; a poster's (and its print edition's and tiles'): its own
    slug: str = ""  # a poster's
    name: str = ""  # a poster's name in a file name: "Mission-Vision" where the title has a dot


def edition_documents(brand: Brand, edition: Edition, parts: set[str]) -> list[Document]:
    """The documents a build of `parts` writes for `edition`, in the order the build makes them:
    booklet, posters (mission and vision first, then the values, as the booklet has them), the
    bundle of both, the print editions (booklet, posters, the booklet imposed, the posters tiled)
    and the archival booklet."""
    labels = brand.edition_labels(edition).words
    lang, title = edition.lang, edition.data["title"]
    posters = []
    for slug, poster, _ in poster_subjects(edition, labels):
        name = poster
        if slug == "mission-vision" and edition.data.get("vision"):
            name = f"{labels['mission']}-{labels['vision']}"
        posters.append((slug, poster, name))
    documents = []
    if "booklet" in parts:
        documents.append(Document("booklet", "booklet", f"{lang}/booklet.pdf", title))
    if "posters" in parts:
        documents += [Document("posters", "poster", f"{lang}/posters/{slug}.pdf", poster, slug, name)
                      for slug, poster, name in posters]
    if "bundle" in parts:
        documents.append(Document("bundle", "bundle", f"{lang}/culture-kit.pdf", title))
    if "print" in parts:
        documents.append(Document("print", "print-booklet", f"{lang}/print/booklet.pdf", title))
        documents += [Document("print", "print-poster", f"{lang}/print/posters/{slug}.pdf", poster,
                               slug, name) for slug, poster, name in posters]
        documents.append(Document("print", "imposed", f"{lang}/print/booklet-imposed.pdf", title))
        documents += [Document("print", "tiles", f"{lang}/print/tiles/{slug}.pdf", poster, slug,
                               name) for slug, poster, name in posters]
    if "archive" in parts:
        documents.append(Document("archive", "archive", f"{lang}/archive/booklet.pdf", title))
    return documents
