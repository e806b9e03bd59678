"""The build: what to make, making it (here, in worker processes or on a cluster), publishing it.

In: a project folder and a target.
Out: build/ with its PDFs, preflight reports and manifest, written as one transaction.
"""
