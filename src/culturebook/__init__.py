"""culturebook: a company's culture statement, from YAML content to branded PDF booklets and posters."""

__version__ = "0.1.0"

# The Python packages a PDF's bytes depend on besides culturebook (a build's stamp; --version).
ENGINES = ("weasyprint", "pydyf", "pypdf", "fonttools")
