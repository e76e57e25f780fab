"""Colours for a theme: the shades the stylesheet needs, derived from one primary colour, and
WCAG 2 contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio)."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
AA_CONTRAST = 4.5  # WCAG AA for normal text


def parse_hex(text: str) -> RGB:
    """`#rgb` or `#rrggbb` (the schema holds the form)."""
    digits = text.lstrip("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def mix(color: RGB, other: RGB, weight: float) -> RGB:
    """`color` moved `weight` (0..1) of the way towards `other`."""
    r, g, b = (round(c + (o - c) * weight) for c, o in zip(color, other))
    return (r, g, b)


def luminance(rgb: RGB) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class Palette:
    """The custom properties site/site.css reads, as `#rrggbb`."""

    primary: str  # header, buttons, accents
    primary_dark: str  # hover states and links on white
    primary_light: str  # the far end of the home page's gradient
    on_primary: str  # text drawn on the primary colour
    link: str  # links and buttons on white: the primary darkened until it reads (AA)

    def css(self) -> str:
        """The rules setting the stylesheet's properties (appended after site.css); accents
        and buttons follow the brand."""
        return (":root {\n"
                f"  --primary: {self.primary};\n"
                f"  --primary-dark: {self.primary_dark};\n"
                f"  --primary-light: {self.primary_light};\n"
                f"  --on-primary: {self.on_primary};\n"
                f"  --accent: {self.link};\n"
                f"  --accent-ink: {self.link};\n"
                "}\n"
                ".hero-sub { color: var(--on-primary); }\n"
                ".search-form button, .button, .search-form button:hover, .button:hover { color: #ffffff; }\n"
                # the header's button is the brand colour on the brand colour: outline it
                ".site-header .search-form button { box-shadow: inset 0 0 0 1px var(--on-primary); }\n")


def palette(primary: str, on_primary: str | None = None) -> Palette:
    """The shades of `primary`: darker by a quarter towards black, lighter by a sixth towards
    white (keeps white text readable on the gradient for most brand colours)."""
    base = parse_hex(primary)
    text = parse_hex(on_primary) if on_primary else WHITE
    return Palette(to_hex(base), to_hex(mix(base, BLACK, 0.25)), to_hex(mix(base, WHITE, 1 / 6)), to_hex(text),
                   to_hex(readable_on_white(base)))


def readable_on_white(color: RGB) -> RGB:
    """`color`, or the first of its darker shades, that reads on white at WCAG AA."""
    for weight in (0.0, 0.15, 0.3, 0.45, 0.6, 0.75):
        shade = mix(color, BLACK, weight)
        if contrast(shade, WHITE) >= AA_CONTRAST:
            return shade
    return BLACK
