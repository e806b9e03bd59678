"""A laid-out WeasyPrint document -> tagged PDF (PDF/UA-1 or PDF/A-3a), with what WeasyPrint 70
leaves out.

WeasyPrint's `pdf/ua-1` variant writes a structure tree that follows the HTML (headings, lists,
links, figures, reading order = document order) and marks backgrounds and borders as artifacts.
What a screen reader needs and WeasyPrint leaves out, `tagged()` adds while the PDF is written:

- a passage's language: an element with a `lang` attribute gets `/Lang` on its structure element;
- running heads and folios (page-margin boxes) become artifacts; WeasyPrint tags their text as
  spans that belong to no structure element, which a reader cannot reach and a checker flags;
- the dot leaders of the contents become artifacts (a reader would read every dot, right to left);
- decorative elements (`aria-hidden="true"`, or `role="presentation"` on a decorative image) become
  artifacts, so a reader skips ornaments such as a large chapter number;
- `data-actual-text` on an element becomes its /ActualText: what a reader reads instead of the
  drawn text (a title broken into lines with its comma dropped is read whole);
- a definition list's term and definition are one list item, the term its label (Lbl) and the
  definition its body (LBody); WeasyPrint makes each of them an item of its own.

For PDF/A-3 it also lists each associated file once in the catalog's /AF (WeasyPrint 70 lists
every embedded file twice there), and closes the sRGB profile it reads for the output intent.

It does so by wrapping four internals for the duration of one `write_pdf` call (the stream's
`marked` and the tag tree builder): there is no public hook. The wrapped names are checked on
import of WeasyPrint's version, so another version fails loudly rather than tagging wrongly.
"""

from __future__ import annotations

import contextlib
import io

DECORATIVE = (("aria-hidden", "true"), ("role", "presentation"))
TESTED_WEASYPRINT = "70."


def _decorative(element) -> bool:
    return element is not None and any(element.get(k) == v for k, v in DECORATIVE)


def _join(pdf, item, other) -> None:
    """Move the children of the list item `other` (a <dd>'s) into `item` (its <dt>'s), so that a
    term and its definition are one item: Lbl, then LBody. `other` is left out of the tree."""
    for reference in other["K"]:
        number = int(reference.split()[0]) if isinstance(reference, bytes) else None
        child = pdf.objects[number] if number is not None else None
        if child is not None and hasattr(child, "get") and child.get("P") == other.reference:
            child["P"] = item.reference
        item["K"].append(reference)
    other["K"].clear()
    other["S"] = "/NonStruct"


def _artifact_boxes(document) -> set[int]:
    """ids of the text and image boxes drawn as artifacts: in page-margin boxes or decorative."""
    from weasyprint.formatting_structure import boxes

    found: set[int] = set()

    def collect(box, inside: bool) -> None:
        inside = (inside or isinstance(box, boxes.MarginBox) or box.is_leader
                  or _decorative(getattr(box, "element", None)))
        if inside and isinstance(box, (boxes.TextBox, boxes.ReplacedBox)):
            found.add(id(box))
        for child in getattr(box, "children", ()):
            collect(child, inside)

    for page in document.pages:
        collect(page._page_box, False)
    return found


@contextlib.contextmanager
def tagged(document):
    """While this is active, `document.write_pdf(pdf_variant="pdf/ua-1")` writes the languages of
    passages and the artifacts above into the structure tree."""
    import pydyf
    import weasyprint
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import stream as stream_module
    from weasyprint.pdf import tags as tags_module

    if not weasyprint.__version__.startswith(TESTED_WEASYPRINT):
        raise RuntimeError(f"culturebook's tagging is written for WeasyPrint {TESTED_WEASYPRINT}x, "
                           f"not {weasyprint.__version__}")
    artifacts = _artifact_boxes(document)
    marked = stream_module.Stream.marked
    build_tree = tags_module._build_box_tree

    def marked_or_artifact(self, box, tag):
        if id(box) in artifacts:
            return self.artifact()
        return marked(self, box, tag)

    building: list = []  # the HTML elements of the boxes being built, outermost first
    terms: dict[bytes, object] = {}  # a definition list's reference -> the item of its last <dt>

    def build_tree_with_languages(box, parent, pdf, page_number, nums, annotations, tags):
        element = getattr(box, "element", None)
        if isinstance(box, boxes.MarginBox) or box.is_leader or _decorative(element):
            # Drawn as artifacts: no structure element, no marked content to map. A link drawn
            # there (a contents entry's leader) still belongs to its parent, the Link element.
            _keep_links(box, parent, pdf, page_number, annotations)
            return
        # An anonymous box inside an element's box (a heading's line wrapper, say) would repeat
        # the element's tag: a second H2 inside the H2. It is a neutral grouping instead.
        repeated = element is not None and bool(building) and building[-1] is element
        lang = element.get("lang") if element is not None and element.tag != "html" else None
        actual = element.get("data-actual-text") if element is not None else None
        building.append(element)
        try:
            for pdf_element in build_tree(box, parent, pdf, page_number, nums, annotations, tags):
                tag = element.tag if element is not None else None
                if repeated and tag == "dt" and pdf_element["S"] == "/LBody":
                    pdf_element["S"] = "/Lbl"  # a term is its item's label
                elif not repeated and tag in ("dt", "dd") and pdf_element["S"] == "/LI":
                    if tag == "dt":
                        terms[parent.reference] = pdf_element
                    elif parent.reference in terms:  # a definition joins its term's item
                        _join(pdf, terms[parent.reference], pdf_element)
                        continue
                if repeated and pdf_element["S"] not in ("/LI", "/LBody", "/Lbl", "/Link"):
                    pdf_element["S"] = "/NonStruct"
                else:
                    if lang and "Lang" not in pdf_element:
                        pdf_element["Lang"] = pydyf.String(lang)
                    if actual:
                        pdf_element["ActualText"] = pydyf.String(actual)
                yield pdf_element
        finally:
            building.pop()

    import weasyprint.pdf as pdf_module
    from weasyprint.pdf import VARIANTS

    archive_variant = VARIANTS["pdf/a-3a"]
    colour_profile = pdf_module.ColorProfile

    def closed_colour_profile(file_object, *args):
        # PDF/A's sRGB output intent: WeasyPrint opens its ICC file and never closes it.
        with file_object:
            data = file_object.read()
        return colour_profile(io.BytesIO(data), *args)

    def pdfa3_once(pdf, *args, **kwargs):
        archive_variant[0](pdf, *args, **kwargs)
        if "AF" in pdf.catalog:
            pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))

    def _keep_links(box, parent, pdf, page_number, annotations) -> None:
        stack, seen = [box], set()
        while stack:
            inner = stack.pop()
            annotation = getattr(inner, "link_annotation", None)
            if annotation is not None and id(annotation) not in seen:
                seen.add(id(annotation))
                reference = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference,
                                              "Pg": pdf.page_references[page_number]})
                pdf.add_object(reference)
                annotations.append((parent.reference, annotation))
                parent["K"].append(reference.reference)
            stack += reversed(getattr(inner, "children", ()))

    stream_module.Stream.marked = marked_or_artifact
    tags_module._build_box_tree = build_tree_with_languages
    VARIANTS["pdf/a-3a"] = (pdfa3_once, archive_variant[1])
    pdf_module.ColorProfile = closed_colour_profile
    try:
        yield
    finally:
        stream_module.Stream.marked = marked
        tags_module._build_box_tree = build_tree
        VARIANTS["pdf/a-3a"] = archive_variant
        pdf_module.ColorProfile = colour_profile
