"""The project as the author writes it: content, theme, recipients, read and checked.

In: the files under content/ and layouts/ (YAML, CSV, images, fonts).
Out: `Content`, `Brand` and `Recipient` values, or problems at their file, line and column.
"""
