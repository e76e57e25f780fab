"""Loading: discover entry files, split front matter, parse each body once."""

from kbctl.load.loader import load_kb

__all__ = ["load_kb"]
