"""XML from outside the casebook, read safely into a small tree of elements with their lines.

E-invoices and bank statements come from other programs and other people: they are read with
`defusedxml`'s SAX parser, which refuses a DOCTYPE, entity declarations and external references
(a billion-laughs or XXE file is one `XmlError`, and nothing is expanded or fetched). Elements are
named by their local name whatever their namespace prefix, since real files use `p:`, `ns2:` or
none, and some carry `xmlns=""` on inner elements. Bytes before the first `<` (a stray byte-order
mark, a line of transport header) and after the root's end are ignored.

This module knows nothing of FatturaPA or ISO 20022; it never touches a file.
"""

from __future__ import annotations

import io
import xml.sax
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml
from defusedxml.expatreader import DefusedExpatParser


class XmlError(Exception):
    """The bytes are not XML this module will read; `line` and `col` are 1-based."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


@dataclass(slots=True, eq=False)
class Element:
    """One element: its local name, attributes (local names), text, children and position."""

    name: str
    attrs: dict[str, str]
    line: int
    col: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, path: str) -> Element | None:
        """The first element at `path` ("A/B/C", local names) below this one, or None."""
        return next(self._walk(path.split("/")), None)

    def findall(self, path: str) -> list[Element]:
        """Every element at `path` below this one, in document order."""
        return list(self._walk(path.split("/")))

    def text_at(self, path: str) -> str | None:
        """The stripped text of the first element at `path`, or None when there is none or it
        is empty."""
        found = self.find(path)
        if found is None:
            return None
        return found.text.strip() or None

    def iter(self, name: str) -> Iterator[Element]:
        """This element and every descendant named `name`, in document order."""
        if self.name == name:
            yield self
        for child in self.children:
            yield from child.iter(name)

    def _walk(self, names: list[str]) -> Iterator[Element]:
        head, rest = names[0], names[1:]
        for child in self.children:
            if child.name == head:
                if rest:
                    yield from child._walk(rest)
                else:
                    yield child


def _local(qname: str) -> str:
    return qname.rpartition(":")[2]


class _Builder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: Element | None = None
        self.stack: list[Element] = []
        self.texts: list[list[str]] = []
        self.locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def position(self) -> tuple[int, int]:
        if self.locator is None:
            return 1, 1
        return self.locator.getLineNumber() or 1, (self.locator.getColumnNumber() or 0) + 1

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        line, col = self.position()
        element = Element(_local(name), {_local(k): v for k, v in attrs.items()}, line, col)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)
        self.texts.append([])

    def endElement(self, name: str) -> None:
        element = self.stack.pop()
        element.text = "".join(self.texts.pop())

    def characters(self, content: str) -> None:
        if self.texts:
            self.texts[-1].append(content)


def parse(data: bytes) -> Element:
    """The root element of `data`; raises XmlError for anything that is not plain, safe XML."""
    start = data.find(b"<")
    end = data.rfind(b">")
    if start < 0 or end < start:
        raise XmlError("this is not XML: no element in it")
    builder = _Builder()
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(builder)
    try:
        parser.parse(io.BytesIO(data[start:end + 1]))
    except LookupError as e:  # an encoding Python does not know, declared in <?xml …?>
        raise XmlError(f"the file declares an encoding that cannot be read ({e})") from None
    except xml.sax.SAXParseException as e:
        raise XmlError(f"not well-formed XML: {e.getMessage()}", e.getLineNumber() or 1,
                       (e.getColumnNumber() or 0) + 1) from None
    except defusedxml.DTDForbidden:
        raise XmlError("refused: the file declares a DOCTYPE, which casebook never reads "
                       "(entity expansion and external references are a known attack)",
                       *builder.position()) from None
    except defusedxml.DefusedXmlException as e:
        raise XmlError(f"refused: the file declares entities or external references ({e})",
                       *builder.position()) from None
    except ValueError as e:  # an encoding expat cannot read ("multi-byte encodings are not
        # supported"); after defusedxml's refusals, which are ValueErrors too
        raise XmlError(f"the file declares an encoding that cannot be read ({e})") from None
    if builder.root is None:
        raise XmlError("this is not XML: no element in it")
    return builder.root
