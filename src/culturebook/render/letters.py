"""Personalised booklets' letters: what the cover and the welcome letter show."""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from culturebook.project.content import PLACEHOLDER
from culturebook.project.markup import render_markdown

# Recipients whose personal pages are laid out in one document (and share its fonts), cut from the
# CSV in order, so that a row added at the end or edited remakes one batch. A recipient's two pages
# cost about the same in a document of 20 as in one of 40 (60 ms with their booklet spliced); smaller
# documents spread more evenly over the workers (200 recipients: 10, five per core on two cores,
# where five of 40 left one core idle for the last) and each needs less memory to lay out.
BATCH = 20


def letter_for(recipient, welcome: dict, date_text: Callable) -> dict:
    """The plain data the layouts' cover and letter macros receive for one recipient, every text
    filled in and escaped. `date_text(date)` writes a date column in the edition's language. (A
    value in another script, a Chinese name in the English edition, is marked with its language
    where the whole page is: scripts.mark_languages.)"""
    values = {"name": recipient.name, "email": recipient.email}
    for column, value in recipient.values.items():
        if value is not None:
            values[column] = value if isinstance(value, str) else date_text(value)
    marked = {column: escape(value) for column, value in values.items()}

    def fill(text: str) -> Markup | None:
        """`text` with each {column} filled in; None when a column it names is empty, so the line
        is left out rather than printed with a gap."""
        if any(not values.get(n) for n in PLACEHOLDER.findall(text)):
            return None
        return Markup(PLACEHOLDER.sub(lambda m: str(marked[m.group(1)]), str(escape(text))))

    paragraphs = re.split(r"\n\s*\n", welcome.get("body") or "")
    kept = [p for p in paragraphs if all(values.get(n) for n in PLACEHOLDER.findall(p))]
    html = render_markdown("\n\n".join(kept))  # placeholders pass through Markdown as text
    body = PLACEHOLDER.sub(lambda m: str(marked.get(m.group(1), m.group(0))), html)
    return {
        "name": marked["name"],
        "plain_name": recipient.name,
        "cover": fill(welcome.get("cover") or "") or marked["name"],
        "title": fill(welcome.get("title") or "") or "",
        "body": Markup(body),
        "details": [(label, marked[column]) for column, label in (welcome.get("details") or {}).items()
                    if values.get(column)],
        "note": fill(welcome.get("note") or "") or "",
        "note_by": fill(welcome.get("note_by") or "") or "",
        "signature": welcome.get("signature") or "",
    }
