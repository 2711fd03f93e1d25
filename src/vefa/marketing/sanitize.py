"""Sanitising message HTML and deriving its plain-text part.

A message's HTML is cleaned after its merge fields are filled in, so neither the template's
author nor a customer's data can put a script, an event handler, a ``javascript:`` link, a
form or a remote style sheet into a message. What stays is the markup e-mail clients render:
text formatting, tables, images over http(s), links over http(s) and ``mailto:``/``tel:``,
and inline styles limited to presentational properties (no ``url(…)``, no ``@import``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

TAGS = frozenset(
    {
        "a", "abbr", "address", "b", "blockquote", "br", "caption", "center", "code", "col",
        "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip

# Removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "title", "head", "noscript", "template"})

ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "dir", "lang", "title", "align", "class"},
    "a": {"href", "target", "name"},
    "img": {"src", "alt", "width", "height", "border"},
    "table": {"width", "cellpadding", "cellspacing", "border", "bgcolor", "role"},
    "td": {"width", "height", "colspan", "rowspan", "valign", "bgcolor"},
    "th": {"width", "height", "colspan", "rowspan", "valign", "bgcolor", "scope"},
    "tr": {"valign", "bgcolor"},
    "col": {"width", "span"},
    "colgroup": {"width", "span"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "li": {"value"},
}

URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size", "font-style",
        "font-weight", "line-height", "letter-spacing", "text-align", "text-decoration",
        "text-transform", "vertical-align", "white-space", "direction", "width", "max-width",
        "min-width", "height", "max-height", "min-height", "margin", "margin-top",
        "margin-bottom", "margin-left", "margin-right", "margin-inline-start",
        "margin-inline-end", "padding", "padding-top", "padding-bottom", "padding-left",
        "padding-right", "padding-inline-start", "padding-inline-end", "border",
        "border-top", "border-bottom", "border-left", "border-right", "border-color",
        "border-style", "border-width", "border-radius", "border-collapse", "display",
    }
)  # fmt: skip

# A style value that loads something (url(), image-set(), expression(), @import) is dropped.
_LOADING_STYLE = re.compile(r"url\s*\(|image-set|expression\s*\(|@import|\\", re.IGNORECASE)

AttributeFilter = Callable[[str, str, str], str | None]


def _filter(rewrite: AttributeFilter | None) -> AttributeFilter:
    def check(element: str, attribute: str, value: str) -> str | None:
        if attribute == "style" and _LOADING_STYLE.search(value):
            return None
        if rewrite is not None:
            return rewrite(element, attribute, value)
        return value

    return check


def clean_html(text: str, *, rewrite: AttributeFilter | None = None) -> str:
    """The HTML with everything unsafe removed; ``rewrite(element, attribute, value)`` may
    change or drop (``None``) each remaining attribute value (link tracking uses it)."""
    if not text:
        return ""
    return nh3.clean(
        text,
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ATTRIBUTES,
        attribute_filter=_filter(rewrite),
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_BLOCK_END = re.compile(
    r"</(p|div|h[1-6]|li|tr|table|blockquote|pre|ul|ol|dl|dt|dd|address)\s*>|<br\s*/?>|<hr\s*/?>",
    re.IGNORECASE,
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_LINK = re.compile(r"<a\b[^>]*\bhref=\"([^\"]*)\"[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def html_to_text(cleaned: str) -> str:
    """A readable plain-text version of cleaned HTML: paragraphs and lines kept, a link's
    address written after its text."""
    if not cleaned:
        return ""

    def link(match: re.Match[str]) -> str:
        label = _TAG.sub("", match.group(2)).strip()
        target = match.group(1)
        if not label:
            return target
        if html.unescape(label) == html.unescape(target):
            return label
        return f"{label} ({target})"

    text = _LINK.sub(link, cleaned)
    text = _BLOCK_END.sub("\n", text)
    text = _CELL_END.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()
