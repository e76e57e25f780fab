"""Loading: discover entry files, split front matter, parse each body once."""

from __future__ import annotations


def __getattr__(name: str):
    # Lazy: `kbctl.load.discover` alone (a no-change rebuild) must not import the parsers.
    if name == "load_kb":
        from kbctl.load.loader import load_kb

        return load_kb
    raise AttributeError(name)


__all__ = ["load_kb"]
