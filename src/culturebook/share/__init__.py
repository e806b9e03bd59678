"""Sharing: PDFs made ready to email, drafts, and sending them.

In: a built project (build/ and its manifest), recipients.
Out: build/<lang>/share/ and sent messages with their log.
"""
