"""A document as PDF, laid out like the handbook's tables, with a CJK font embedded (subset) so that it
reads the same on any machine. fpdf2 embeds the font; the font file comes from the system (Debian's
fonts-noto-cjk, installed by `make setup`)."""

from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout

from engine.documents.model import Document, Grid
from engine.errors import Conflict

# NotoSansCJK-Regular.ttc holds JP, KR, SC, TC and HK faces; the third is Simplified Chinese.
_SIMPLIFIED_CHINESE_FACE = 2


def render_pdf(document: Document, font: Path) -> bytes:
    if not font.is_file():
        raise Conflict(f"PDF documents need a CJK font at {font} (Debian: apt-get install fonts-noto-cjk)")
    pdf = FPDF(orientation="L" if _is_wide(document) else "P", format="A4")
    pdf.set_title(document.title)
    pdf.set_creator("opsflow")
    face = _SIMPLIFIED_CHINESE_FACE if font.suffix == ".ttc" else 0  # 0: a font file's only face
    pdf.add_font("cjk", fname=str(font), collection_font_number=face)
    bold = font.with_name(font.name.replace("Regular", "Bold"))
    headings = FontFace(
        emphasis="BOLD" if bold.is_file() and bold != font else None, fill_color=(235, 235, 235)
    )
    if headings.emphasis:
        pdf.add_font("cjk", style="B", fname=str(bold), collection_font_number=face)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    if document.subtitle:
        pdf.multi_cell(0, 6, document.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 6, document.caption, new_x="LMARGIN", new_y="NEXT")
    for section in document.sections:
        pdf.ln(3)
        if isinstance(section.body, Grid):
            with pdf.table(
                borders_layout=TableBordersLayout.ALL, line_height=5.5, headings_style=headings
            ) as table:
                table.row(section.body.headers)
                for cells in section.body.rows:
                    table.row(cells)
        else:
            with pdf.table(col_widths=(1, 3), first_row_as_headings=False, line_height=6) as table:
                for row in section.body:
                    table.row((row.label, row.value))
    return bytes(pdf.output())


def _is_wide(document: Document) -> bool:
    return any(isinstance(s.body, Grid) and len(s.body.headers) > 4 for s in document.sections)
