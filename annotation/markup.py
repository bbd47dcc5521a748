"""Guidelines are Markdown written by managers; this renders them to HTML that cannot carry markup of its own.

markdown-it-py's CommonMark preset with `html` off escapes every raw HTML block and inline tag, so a guideline
holding `<script>` or `<img onerror=...>` shows those characters as text. Its link validator refuses
`javascript:`, `vbscript:`, `file:` and non-image `data:` URLs (such links stay plain text). Images are not
rendered (they would load from other sites; the pages' Content-Security-Policy would block them anyway), and links
open without sending a referrer.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_renderer.disable("image")


def _link_open(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


_renderer.add_render_rule("link_open", _link_open)


def render_markdown_safely(text: str) -> str:
    """Render Markdown to HTML with raw HTML escaped and unsafe link schemes refused; safe to mark as safe."""
    return _renderer.render(text or "")
