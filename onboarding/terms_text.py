"""The terms text as readers see it: numbered sections with headings and stable anchors.

The stored text stays plain (it is the published evidence); sections are read from it at
render time. A section starts at a line of its own such as "4. Henkilötietojen käsittely",
so that OPH can point to "section 4" with `/terms/#section-4`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "4. Henkilötietojen käsittely": a number, a full stop, a short heading without the
# punctuation that ends a sentence or introduces a list.
_HEADING = re.compile(r"(?P<number>[1-9][0-9]?)\.[ \t]+(?P<heading>\S.{0,119})")
_NOT_A_HEADING_END = (".", ",", ":", ";", "!", "?")


@dataclass(frozen=True)
class TermsSection:
    number: int
    heading: str
    body: str
    anchor: str


@dataclass(frozen=True)
class TermsDocument:
    """What comes before the first section, then the sections in order."""

    preamble: str
    sections: tuple[TermsSection, ...]


def section_anchor(number: int, *, version: str | None = None) -> str:
    """`section-4`, or `v2023-1-section-4` where several versions share a page."""
    return f"section-{number}" if version is None else f"v{version}-section-{number}"


def terms_document(text: str, *, version: str | None = None) -> TermsDocument:
    """Split `text` at its numbered headings.

    Only the next number in order starts a section (1, 2, 3, ...), so anchors are unique and
    a numbered line inside a section, such as a list item, stays part of its text. A text
    without such headings is all preamble, shown as before.
    """
    preamble: list[str] = []
    sections: list[tuple[int, str, list[str]]] = []
    for line in text.splitlines():
        heading = _heading(line, expected=len(sections) + 1)
        if heading is not None:
            sections.append((len(sections) + 1, heading, []))
        elif sections:
            sections[-1][2].append(line)
        else:
            preamble.append(line)
    return TermsDocument(
        preamble="\n".join(preamble).strip(),
        sections=tuple(
            TermsSection(
                number=number,
                heading=heading,
                body="\n".join(body).strip(),
                anchor=section_anchor(number, version=version),
            )
            for number, heading, body in sections
        ),
    )


def _heading(line: str, *, expected: int) -> str | None:
    match = _HEADING.fullmatch(line.strip())
    if match is None or int(match["number"]) != expected:
        return None
    heading = match["heading"]
    return None if heading.endswith(_NOT_A_HEADING_END) else heading
