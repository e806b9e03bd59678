"""Operations on finished PDFs: merge, impose, tile, marks, splice, read back.

In: PDF bytes.
Out: PDF bytes, or what a PDF holds (fonts, images, boxes, structure).
"""
