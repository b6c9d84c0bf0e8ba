"""reportgen's version (a leaf module: the report and the command line read it without importing the
pipeline)."""

__version__ = "0.1.0"
