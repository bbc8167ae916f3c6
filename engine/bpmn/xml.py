"""Safe XML reading: no DTDs, no entities, no network, bounded size."""

import re

from lxml import etree

from engine.errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

MAX_XML_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(r"""^\ufeff?(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
)


class UnsafeXml(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse_xml(content: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML, refusing DOCTYPEs (external entities, entity expansion) and huge files."""
    if len(content) > MAX_XML_BYTES:
        raise UnsafeXml(Problem(f"file is larger than {MAX_XML_BYTES} bytes", file=filename))
    if _DOCTYPE.search(_ascii_view(content[:8192])):
        # Refused before parsing: a DTD is how external entities and entity expansion come in.
        text = _ascii_view(content)
        found = _DOCTYPE.search(text)
        line = text[: found.start()].count(b"\n") + 1 if found else 1
        raise UnsafeXml(Problem("DOCTYPE declarations are not allowed", file=filename, line=line))
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        raise UnsafeXml(Problem(f"XML syntax error: {exc.msg}", file=filename, line=line)) from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXml(Problem("DOCTYPE declarations are not allowed", file=filename, line=1))
    return root


def as_utf8_text(content: bytes, root: etree._Element, filename: str) -> str:
    """The document as text, as it is stored and parsed again later (from its UTF-8 bytes): decoded
    from the encoding it declares (UTF-16, ISO-8859-1, ...), its declaration then naming UTF-8."""
    encoding = root.getroottree().docinfo.encoding or "UTF-8"
    try:
        text = content.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:  # libxml2 read it, Python cannot: say so
        problem = Problem(f"cannot read the file as {encoding}: {exc}", file=filename, line=1)
        raise UnsafeXml(problem) from None
    return _DECLARED_ENCODING.sub(r"\1\2UTF-8\2", text.removeprefix("\ufeff"), count=1)


def _ascii_view(content: bytes) -> bytes:
    """UTF-16 text with its zero bytes dropped, so that ASCII markup (<!DOCTYPE) is found in any of the
    encodings XML allows; other text unchanged."""
    if content[:2] in (b"\xff\xfe", b"\xfe\xff") or content[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return content.replace(b"\x00", b"")
    return content


def line_of(root: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def camunda(element: etree._Element, attribute: str) -> str | None:
    value = element.get(f"{{{CAMUNDA_NS}}}{attribute}")
    return value.strip() if value and value.strip() else None


def camunda_properties(element: etree._Element) -> dict[str, str]:
    """`<camunda:properties>` of an element: what Camunda Modeler calls extension properties."""
    props = {}
    for prop in element.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS):
        if prop.get("name"):
            props[prop.get("name")] = prop.get("value", "")
    return props


def local_name(element: etree._Element) -> str:
    name: str = etree.QName(element).localname
    return name
