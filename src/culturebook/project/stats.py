"""What `culturebook check` says of each edition besides its problems: the fields still waiting for
a translation, and how long each chapter is to read."""

from __future__ import annotations

import re
from dataclasses import dataclass

from culturebook.project.content import Edition
from culturebook.project.markup import render_markdown

WORDS_A_MINUTE = 230  # a common figure for reading English prose attentively
CHARACTERS_A_MINUTE = 400  # the same for Chinese, counted in characters
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Length:
    words: int  # words of scripts that space them
    characters: int  # Chinese characters, each read as a word is

    @property
    def minutes(self) -> float:
        return self.words / WORDS_A_MINUTE + self.characters / CHARACTERS_A_MINUTE

    def __str__(self) -> str:
        def count(n: int, noun: str) -> str:
            return f"{n:,} {noun}{'s' * (n != 1)}"

        parts = [count(self.words, "word")] * bool(self.words or not self.characters)
        parts += [count(self.characters, "character")] * bool(self.characters)
        return ", ".join(parts)


def length(text: str) -> Length:
    """The length of a text (Markdown or plain) as a reader meets it."""
    plain = _TAG.sub(" ", render_markdown(text))
    characters = len(_HAN.findall(plain))
    return Length(len(_WORD.findall(_HAN.sub(" ", plain))), characters)


@dataclass(frozen=True)
class EditionStats:
    lang: str
    untranslated: tuple[str, ...]
    chapters: tuple[tuple[str, Length], ...]  # (title, length of title, pull quote and body)
    posters: tuple[tuple[str, Length, float | None], ...]  # (value name, length of its statement,
    #   the share of the poster's frame its text took when last built, if it was)
    pages: tuple[tuple[str, float], ...] = ()  # the booklet's pages when last built: (named page,
    #   how far down its text area the content reaches), render.Rendered.fill

    @property
    def total(self) -> Length:
        return Length(sum(n.words for _, n in self.chapters),
                      sum(n.characters for _, n in self.chapters))


def edition_stats(edition: Edition, fills: dict[str, float] | None = None,
                  pages: list | None = None) -> EditionStats:
    """`fills`: {poster slug (a value's id): share of its frame}, and `pages`, the booklet's
    pages (built_pages), from the last build's manifest."""
    data = edition.data
    fills = fills or {}
    chapters = tuple(
        (c["title"], length("\n\n".join(filter(None, (c["title"], c.get("pull_quote"), c["body"])))))
        for c in data.get("chapters") or [])
    posters = tuple((v["name"], length(v["statement"]), fills.get(v["id"])) for v in data["values"])
    return EditionStats(edition.lang, edition.untranslated, chapters, posters,
                        tuple((str(kind), float(fill)) for kind, fill in pages or ()))


def built_fills(manifest: dict[str, dict], lang: str) -> dict[str, float]:
    """{poster slug: share of its frame its text takes} of an edition's screen posters, as the
    last build (build/manifest.json's entries, by path) measured them."""
    prefix = f"{lang}/posters/"
    return {path[len(prefix):-4]: entry["fill"] for path, entry in manifest.items()
            if path.startswith(prefix) and path.endswith(".pdf") and entry.get("fill") is not None}


def built_pages(manifest: dict[str, dict], lang: str) -> list:
    """The screen booklet's [named page, fill] per page as the last build measured them."""
    fill = (manifest.get(f"{lang}/booklet.pdf") or {}).get("fill")
    return fill if isinstance(fill, list) else []
