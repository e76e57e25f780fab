"""kbctl: the compiler and linter of a knowledge base kept as code."""

__version__ = "0.1.0"
