"""Filling the layouts: the context every layout receives, and the HTML of each document.

`Filling` is the part of `Renderer` (render.engine) that fills the Jinja templates and lays
nothing out; the Renderer sets what it reads (root, brand, cache, env and the caches _html,
_languages and _coverage). The booklet's HTML takes its values grid from `Measuring.values_grid`
(render.measure), which lays the values out to measure them.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import version
from pathlib import Path

import jinja2
from markupsafe import Markup

from culturebook.errors import Location, Problem, ProjectError
from culturebook.project.brand import POSTER_SIZES_MM, length_mm
from culturebook.project.content import Edition
from culturebook.project.glyphs import own_coverage
from culturebook.project.scripts import mark_languages, script_name
from culturebook.render import copyfit, paginate
from culturebook.render.templates import (
    _template_frame,
    format_date,
    mark_untranslated,
    poster_subjects,
    title_lines,
    untranslated_note,
)

PADDING_CANDIDATES = 3  # a booklet is padded with 0-3 pages to a multiple of 4

# What the shared booklet of personalised booklets has on its personal pages, which every
# recipient's own pages replace: the same one page each, with nothing of anyone's.
PLACEHOLDER_RECIPIENT = {"index": 0, "name": "", "plain_name": "", "cover": "", "title": "", "body": "",
                         "details": [], "note": "", "note_by": "", "signature": ""}


class Filling:
    """The layouts filled for one project (a part of `Renderer`)."""

    def asset(self, name: str) -> str:
        """The URL of a theme file (stylesheet, image): the first theme in the `extends` chain that
        has it, so a theme that extends another only holds the files it changes."""
        for directory in self.brand.dirs:
            path = (directory / name).resolve()
            if path.is_relative_to(directory.resolve()) and path.is_file():
                return path.as_uri()
        names = " or ".join(str(d / name) for d in self.brand.dirs)
        raise jinja2.TemplateError(f"theme file '{name}' not found (looked for {names})")

    # --- the template context ---------------------------------------------------------------

    def context(self, edition: Edition, print_edition: bool = False) -> dict:
        """The one documented context every layout receives (plain data only)."""
        data = edition.data
        labels = self.brand.edition_labels(edition).words
        values = [{**v, "number": f"{i:02d}"} for i, v in enumerate(data.get("values") or [], 1)]
        return {
            "pub": data,
            "lang": edition.lang,
            "source_lang": edition.source_lang,
            "native_lang": edition.native_lang,
            "script": "cjk" if _cjk(edition.lang) else "latin",
            "labels": labels,
            "date": format_date(edition.date, labels),
            "date_iso": edition.date.isoformat(),
            "created_iso": edition.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "values": values,
            "title_lines": title_lines(data.get("title", "")),
            "translation_note": (data.get("translation") or {}).get("note") or "",
            "untranslated_note": untranslated_note(edition, labels),
            "theme_css": Markup(self.brand.font_face_css()
                                + self.brand.css_properties(print_edition)
                                + (self.profile_css() if print_edition else "")),
            "print_edition": print_edition,
            "bleed": f"{self.brand.print_mm('bleed'):g}mm" if print_edition else "0mm",
            "booklet": self.brand.booklet,
        }

    # --- the documents' HTML --------------------------------------------------------------

    def booklet_html(self, edition: Edition, print_edition: bool = False,
                     personalised: bool = False, every_frontispiece: bool = False) -> str:
        """The booklet's HTML as first laid out: with its inputs, what decides its PDF.

        With `every_frontispiece`, every chapter opens on a right-hand page with the frontispiece
        a later pass may give it, and the sections after the chapters on pages of their own: the
        HTML that shows every element the booklet can have, for checking the styles without
        laying it out."""
        key = ("booklet", edition.lang, print_edition, personalised, every_frontispiece)
        if key not in self._html:
            plan = paginate.Plan()
            if every_frontispiece:
                chapters = [f"chapter-{c.get('id')}" for c in edition.data.get("chapters") or []]
                highlights = len(edition.data.get("highlights") or [])
                plan = paginate.Plan(True, recto=frozenset(chapters),
                                     frontispieces=tuple(chapters[:highlights]))
            self._html[key] = self.html(
                "booklet.html", edition, print_edition, padding=PADDING_CANDIDATES,
                plan=plan.context(), values_grid=self._any_values_grid(edition),
                recipient=PLACEHOLDER_RECIPIENT if personalised else None)
        return self._html[key]

    def poster_html(self, edition: Edition, subject: dict, size: str,
                    print_edition: bool = False, fit: dict | None = None) -> str:
        """A poster's HTML, its type scaled to the sheet (theme sizes are given for A2); `fit`
        as copyfitting set it (without, the fitted texts at their largest, unbroken)."""
        key = ("poster", edition.lang, print_edition, size, repr(subject), repr(fit))
        if key not in self._html:
            if fit is None:
                roles = self.fit_roles(edition, size)
                fit = {"css": self._fit_css({n: r.largest for n, r in roles.items()})}
            self._html[key] = self.html("poster.html", edition, print_edition, subject=subject,
                                        sheet=self._sheet(size), fit=fit)
        return self._html[key]

    @staticmethod
    def _sheet(size: str) -> dict:
        width, height = POSTER_SIZES_MM[size]
        return {"name": size, "width": width, "height": height,
                "scale": min(width / 420, height / 594)}

    def personal_html(self, edition: Edition, letters: list[dict],
                      print_edition: bool = False) -> str:
        """The personal pages (cover and welcome letter) of these recipients, in one document."""
        letters = [{**letter, "index": i} for i, letter in enumerate(letters)]
        return self.html("personal.html", edition, print_edition, recipients=letters)

    def poster_subjects(self, edition: Edition) -> list[tuple[str, str, dict]]:
        """(slug, outline title, template subject) for the mission/vision poster and each value,
        with the edition's labels."""
        return poster_subjects(edition, self.context(edition)["labels"])

    def fit_roles(self, edition: Edition, size: str) -> dict[str, copyfit.Role]:
        """The theme's fitted-text roles for this edition, in px on this sheet."""
        scale = self._sheet(size)["scale"]
        px = 96 / 25.4 * scale
        return {name: copyfit.Role(name, length_mm(spec["max"]) * px, length_mm(spec["min"]) * px,
                                   int(spec.get("lines") or 0))
                for name, spec in self.brand.fit_roles(edition.lang).items()}

    def _fit_css(self, sizes: dict[str, float]) -> Markup:
        return Markup(" ".join(f"--fit-{role}: {size / copyfit.PX_PER_PT:.2f}pt;"
                               for role, size in sorted(sizes.items())).join((":root { ", " }")))

    def profile_css(self) -> str:
        """The output profile as WeasyPrint's device-cmyk colour profile (PDF/X output intent)."""
        profile = self.brand.output_profile()
        if profile is None:
            return ""
        return (f"@color-profile device-cmyk {{ src: url({profile.as_uri()}); "
                "components: cyan, magenta, yellow, black; }\n")

    @functools.cached_property
    def theme_stamp(self) -> str:
        """What measurements and layout checks depend on besides the HTML: the theme's files, the
        fonts, WeasyPrint and culturebook's own code."""

        # the code that lays out and checks: any change to culturebook measures and checks anew
        code = sorted(Path(__file__).parents[1].rglob("*.py"))
        parts = [version("weasyprint"), *(p.read_text(encoding="utf-8") for p in code)]
        for directory in self.brand.dirs:
            parts += [hashlib.sha256(path.read_bytes()).hexdigest()
                      for path in sorted(p for p in directory.rglob("*") if p.is_file())]
        for face in self.brand.faces:
            info = face.file.stat()
            parts.append(f"{face.file}:{info.st_size}:{info.st_mtime_ns}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    # --- filling a layout ----------------------------------------------------------------

    def html(self, template: str, edition: Edition, print_edition: bool = False, **extra) -> str:
        """Fill a layout template; template errors name the template file and line."""
        extra.setdefault("recipient", None)
        extra.setdefault("fit", None)
        try:
            context = self.context(edition, print_edition)
            html = self.env.get_template(template).render(**context, **extra)
            html = mark_untranslated(html, edition)
        except jinja2.TemplateSyntaxError as exc:
            path = Path(exc.filename or self.brand.dirs[0] / (exc.name or template))
            raise ProjectError([Problem(Location(path, exc.lineno or 0, 1),
                                        f"template error: {exc.message}")]) from None
        except jinja2.TemplateNotFound as exc:
            raise ProjectError([Problem(Location(self.brand.dirs[0] / template),
                                        f"template not found: {exc.name}")]) from None
        except Exception as exc:  # noqa: BLE001 - any runtime error inside a template (undefined names, ...)
            loc = _template_frame(exc, self.brand.dirs) or Location(self.brand.dirs[0] / template)
            message = getattr(exc, "message", None) or str(exc)
            raise ProjectError([Problem(loc, f"template error: {message}")]) from None
        latin = None if _cjk(edition.source_lang) else edition.source_lang

        def language_of(ch: str, lang: str) -> str | None:
            # Latin words in CJK text (a product name in the Chinese edition) are in the source
            # language, when it is written in Latin letters: marked so, they are read in its voice
            # and set in its fonts.
            if latin and _cjk(lang) and script_name(ch) == "Latin":
                return latin
            return self.language_of(ch, lang)

        return mark_languages(html, language_of)

    def language_of(self, ch: str, lang: str) -> str | None:
        """The language to mark `ch` with inside an element in `lang`: None when `lang`'s own
        fonts have it, else the first other stack's language whose fonts
        have it (Han in the English edition: zh-Hans). `default` names no language: what only
        it sets is set by the fallback chain, unmarked."""
        key = (ch, lang)
        if key not in self._languages:
            found = None
            code = ord(ch)
            own = self.brand.stack_language(lang)
            if code not in self._own(own, own_coverage):
                found = next((other for other in self.brand.stacks
                              if other not in ("default", own)
                              and code in self._own(other, own_coverage)), None)
            self._languages[key] = found
        return self._languages[key]

    def _own(self, stack: str, own_coverage) -> frozenset[int]:
        if stack not in self._coverage:
            self._coverage[stack] = own_coverage(self.brand, stack, self.cache / "cmaps")
        return self._coverage[stack]


def _cjk(lang: str | None) -> bool:
    """Whether a language is Chinese, Japanese or Korean (by its primary subtag)."""
    return bool(lang) and lang.split("-")[0].lower() in ("zh", "ja", "ko")
