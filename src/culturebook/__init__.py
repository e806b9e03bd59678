"""culturebook: a company's culture statement, from YAML content to branded PDF booklets and posters."""

__version__ = "0.1.0"
