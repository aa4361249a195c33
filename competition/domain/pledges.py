"""An agency's pledges as plain text (what registrations and the `commitments` import hold) and as
the rich text of its commitment page.

Plain text becomes paragraphs (a blank line between two) with line breaks inside them, every
character escaped; rich text becomes plain text again the same way, so that text → rich text →
text gives the text back (normalised). Formatting an editor adds in the page editor (bold, links,
lists) is not in the plain text: the import compares plain texts and leaves a page whose text did
not change as it is, formatting included."""

import re

from bs4 import BeautifulSoup
from django.utils.html import linebreaks

BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")


def normalise(text):
    """Line endings as \\n, no trailing spaces, paragraphs separated by exactly one blank line."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def to_rich_text(text):
    """Plain text as the HTML of a rich text field: <p> per paragraph, <br> per line break."""
    text = normalise(text)
    return linebreaks(text, autoescape=True) if text else ""


def to_plain_text(html):
    """The text of rich text: one paragraph per block (list items too), <br> as line breaks."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = soup.find_all(BLOCKS)
    if not blocks:
        return normalise(soup.get_text())
    paragraphs = []
    for block in blocks:
        if block.find(BLOCKS):  # a block holding blocks (a quote of paragraphs): its children count
            continue
        paragraphs.append(normalise(block.get_text()))
    return normalise("\n\n".join(paragraph for paragraph in paragraphs if paragraph))
