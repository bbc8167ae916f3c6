"""A document as Word (.docx), laid out like the handbook's tables (python-docx)."""

from io import BytesIO

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from engine.documents.model import Document, Grid

# Word picks the East Asian font from w:eastAsia; without it Chinese falls back to whatever the reader has.
_EAST_ASIAN_FONT = "Noto Sans CJK SC"


def render_docx(document: Document) -> bytes:
    out = docx.Document()
    _set_default_font(out)
    if any(isinstance(s.body, Grid) and len(s.body.headers) > 4 for s in document.sections):
        page = out.sections[0]
        page.orientation = WD_ORIENT.LANDSCAPE
        page.page_width, page.page_height = page.page_height, page.page_width
    out.core_properties.title = document.title
    out.add_heading(document.title, level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if document.subtitle:
        out.add_paragraph(document.subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    out.add_paragraph(document.caption).runs[0].bold = True
    for section in document.sections:
        if isinstance(section.body, Grid):
            table = out.add_table(rows=1, cols=len(section.body.headers))
            table.style = "Table Grid"
            for cell, header in zip(table.rows[0].cells, section.body.headers, strict=True):
                cell.text = header
                cell.paragraphs[0].runs[0].bold = True
            for cells in section.body.rows:
                for cell, text in zip(table.add_row().cells, cells, strict=True):
                    cell.text = text
        else:
            table = out.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for row in section.body:
                label, value = table.add_row().cells
                label.text = row.label
                label.paragraphs[0].runs[0].bold = True
                value.text = row.value
        out.add_paragraph()
    buffer = BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _set_default_font(out: docx.document.Document) -> None:
    normal = out.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _EAST_ASIAN_FONT)
