"""An allow-list HTML cleaner for documents shown inside pages.

Documents and plans are rendered by the engine with autoescaping, so whatever a person typed is already text. This is
a second line of defence before their HTML goes into a page: only structural and text tags and a few harmless
attributes are kept; scripts, styles, event handlers, forms, frames and non-http links are removed.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "a", "abbr", "article", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i",
    "ins", "li", "main", "nav", "ol", "p", "pre", "s", "section", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
})
VOID_TAGS = frozenset({"br", "hr", "col"})
DROP_CONTENT = frozenset({"script", "style", "template", "iframe", "object", "embed", "noscript", "textarea", "select",
                          "svg", "math", "title", "head"})
ALLOWED_ATTRIBUTES = frozenset({"class", "id", "lang", "title", "colspan", "rowspan", "scope", "headers", "datetime",
                                "role", "href", "open"})
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "#", "/")


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            if tag not in VOID_TAGS:
                self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            name = name.lower()
            if not (name in ALLOWED_ATTRIBUTES or name.startswith("aria-")):
                continue
            value = value or ""
            if name == "href":
                compact = "".join(value.split()).lower()
                if not compact.startswith(SAFE_SCHEMES) or compact.startswith("//"):
                    continue
            kept.append(f' {name}="{escape(value, quote=True)}"')
        if tag == "a":
            kept.append(' rel="noopener noreferrer"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and tag in ALLOWED_TAGS and not self.dropping and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in ALLOWED_TAGS or tag in VOID_TAGS or tag not in self.open:
            return
        while self.open:
            closing = self.open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    def close(self) -> None:
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def clean_html(html: str) -> Markup:
    cleaner = _Cleaner()
    cleaner.feed(html or "")
    cleaner.close()
    return Markup("".join(cleaner.out))
