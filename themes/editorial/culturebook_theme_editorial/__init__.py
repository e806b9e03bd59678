"""The editorial theme for culturebook: theme.yaml, stylesheets and fonts in this folder.

culturebook finds the folder through the `culturebook.themes` entry point without importing it;
there is no code here.
"""
