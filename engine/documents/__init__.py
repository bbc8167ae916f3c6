"""The handbook's documents (Table 2-1 kick-off minutes, Table 2-2 diagnosis report, the review), built from
an instance's data and written as Word or PDF."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.documents.docx import render_docx
from engine.documents.model import KINDS, Document, Language, build
from engine.documents.pdf import render_pdf
from engine.errors import InvalidInput

Format = Literal["docx", "pdf"]

MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class RenderedDocument:
    filename: str
    media_type: str
    content: bytes


def render(
    kind: str,
    fmt: str,
    variables: dict[str, Any],
    *,
    business_key: str | None,
    lang: Language,
    font: Path,
) -> RenderedDocument:
    if fmt not in MEDIA_TYPES:
        raise InvalidInput(f"unknown document format {fmt!r}; known: {', '.join(MEDIA_TYPES)}")
    document = build(kind, variables, business_key=business_key, lang=lang)
    content = render_docx(document) if fmt == "docx" else render_pdf(document, font)
    # A business key is the client's text: keep letters, digits, dot, dash and underscore in the file name.
    name = re.sub(r"[^\w.-]+", "_", "-".join(part for part in (business_key, kind) if part))
    return RenderedDocument(f"{name}.{fmt}", MEDIA_TYPES[fmt], content)


__all__ = ["KINDS", "MEDIA_TYPES", "Document", "RenderedDocument", "render"]
