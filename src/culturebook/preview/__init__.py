"""The live preview: a local web page that rebuilds as the content changes.

In: a project folder.
Out: pages served on 127.0.0.1, each change pushed to the page as it is made.
"""
