"""Opening what the user hands to an import: folders, zip archives and signed (.p7m) envelopes.

Owns finding the files (folders read recursively, in sorted order), the limits on what is read (no
file or zip member larger than `MAX_BYTES`, read in a bounded way; archives inside archives are not
opened) and taking the XML out of a CAdES envelope: DER, BER with indefinite lengths, base64 with or
without a PEM header, signed twice, or malformed in ways real issuers' files are. What a file is
comes from its bytes, not its name: XML named `.p7m` is read as XML.

It never checks a signature, never parses XML and knows nothing of FatturaPA: it hands bytes on,
with a diagnostic for everything it could not open.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from asn1crypto import cms

from casebook.diagnostics import Diagnostic, Severity

MAX_BYTES = 20 * 1024 * 1024
SUFFIXES = (".xml", ".p7m", ".zip")
_MEMBER_SUFFIXES = (".xml", ".p7m")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_MAX_LAYERS = 4  # base64 around a signature around a signature: real files stop at three
_DATA_OID = bytes.fromhex("06092a864886f70d010701")  # id-data, 1.2.840.113549.1.7.1
_PEM_LINE = re.compile(rb"^-----(BEGIN|END)[^\n]*-----\s*$", re.MULTILINE)
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+=*")
_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document"),
    (b"PK\x03\x04", "a zip archive"),
)


@dataclass(frozen=True, kw_only=True)
class Received:
    """One file as received: `name` for the user, `filename` to store it under."""

    name: str  # the path as given; "path/to.zip!member.xml" for a zip member
    filename: str  # the base name of the file or member
    data: bytes


class EnvelopeError(Exception):
    """The bytes hold no XML this module can find; `code` is the diagnostic's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def gather(paths: Sequence[Path], limit: int = MAX_BYTES) -> Iterator[Received | Diagnostic]:
    """Every file in `paths` (folders read recursively, taking `SUFFIXES` whatever their case),
    zip archives opened into their members, and a diagnostic for each file that cannot be read."""
    for path in paths:
        files = _walk(path) if path.is_dir() else [path]
        for file in files:
            yield from _open(file, limit)


def xml_of(data: bytes, *, signed: bool) -> tuple[bytes, int]:
    """The XML in `data` (the bytes themselves, or what a signed envelope holds) and how many
    lines of stray bytes stand before it in `data` (0 for an envelope's content). `signed` (the
    file is named .p7m) only chooses the words of the error; raises EnvelopeError."""
    start = _xml_start(data)
    if start is not None:
        return data[start:], data[:start].count(b"\n")
    found = _unwrap(data, 0)
    if found is not None:
        return found, 0
    what = _what(data)
    if signed:
        raise EnvelopeError("bad-p7m", f"not a signed e-invoice: {what}")
    raise EnvelopeError("not-xml", f"not an XML e-invoice: {what}")


def _walk(folder: Path) -> list[Path]:
    found = [
        path for path in folder.rglob("*")
        if path.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.is_file()
    ]
    return sorted(found, key=lambda path: path.relative_to(folder).parts)


def _open(path: Path, limit: int) -> Iterator[Received | Diagnostic]:
    name = str(path)
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as e:
        yield _error(name, "unreadable", f"cannot read the file: {e.strerror or e}")
        return
    if len(data) > limit:
        yield _too_large(name, limit)
    elif data.startswith(_ZIP_MAGIC) or path.suffix.lower() == ".zip":
        yield from _members(name, data, limit)
    else:
        yield Received(name=name, filename=path.name, data=data)


def _members(name: str, data: bytes, limit: int) -> Iterator[Received | Diagnostic]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = sorted((i for i in archive.infolist() if _wanted(i)), key=lambda i: i.filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        yield _error(name, "bad-zip", f"not a readable zip archive: {e}")
        return
    if not infos:
        yield _warning(name, "empty-zip", "the zip archive holds no .xml or .p7m file")
    for info in infos:
        yield _member(archive, info, f"{name}!{info.filename}", limit)


def _wanted(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    return (not info.is_dir() and "__MACOSX" not in path.parts and not path.name.startswith(".")
            and path.suffix.lower() in SUFFIXES)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
            limit: int) -> Received | Diagnostic:
    if info.filename.lower().endswith(".zip"):
        return _warning(name, "nested-zip", "a zip archive inside a zip archive is not opened; "
                        "extract it and import it on its own")
    if info.file_size > limit:
        return _too_large(name, limit)
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)  # the declared size may lie: never read past the limit
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError,
            ValueError) as e:
        return _error(name, "bad-zip", f"this zip member cannot be extracted: {e}")
    if len(data) > limit:
        return _too_large(name, limit)
    return Received(name=name, filename=PurePosixPath(info.filename.replace("\\", "/")).name,
                    data=data)


def _unwrap(data: bytes, depth: int) -> bytes | None:
    """The XML in `data`, peeling signed envelopes and base64 layers; None when there is none."""
    start = _xml_start(data)
    if start is not None:
        return data[start:]
    if depth >= _MAX_LAYERS:
        return None
    if data[:1] == b"\x30":
        return _unwrap(_signed_content(data), depth + 1)
    decoded = _base64(data)
    return None if decoded is None else _unwrap(decoded, depth + 1)


def _xml_start(data: bytes) -> int | None:
    """Where the XML starts: after white space and a byte-order mark, or at `<?xml` after a few
    stray bytes (a transport header, garbage from a mail client)."""
    stripped = data.lstrip(b" \t\r\n")
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if stripped.startswith(b"<"):
        return len(data) - len(stripped)
    if stripped[:1] == b"\x30":  # DER: its content holds `<?xml` too, inside the envelope
        return None
    start = data.find(b"<?xml", 0, 1024)
    return start if start >= 0 else None


def _base64(data: bytes) -> bytes | None:
    compact = b"".join(_PEM_LINE.sub(b"", data).split())
    if not _BASE64.fullmatch(compact):
        return None
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _signed_content(der: bytes) -> bytes:
    """The content of a CMS envelope, read by asn1crypto or, for envelopes it refuses, by
    `_scan`; raises EnvelopeError."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"a CMS {info['content_type'].native} envelope, not signed data")
        content = info["content"]["encap_content_info"]["content"].native
    except Exception as e:  # asn1crypto raises ValueError, TypeError and more on bad input
        content = _scan(der)
        if content is None:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise EnvelopeError("bad-p7m",
                                f"the signed envelope cannot be read: {reason}") from None
    if content is None:
        raise EnvelopeError("bad-p7m", "the signature is detached: the envelope holds no invoice")
    if not isinstance(content, bytes):
        raise EnvelopeError("bad-p7m", "the signed envelope holds no data")
    return content


def _scan(der: bytes) -> bytes | None:
    """The OCTET STRING after the first id-data identifier, read leniently: some issuers' envelopes
    are not valid CMS, yet hold the content where CMS puts it (`eContent [0]`, whole or chunked)."""
    at = der.find(_DATA_OID)
    if at < 0:
        return None
    head = _header(der, at + len(_DATA_OID))
    if head is None or head[0] != 0xA0:
        return None
    chunks: list[bytes] = []
    if _octets(der, head[2], chunks, 0) is None:
        return None
    return b"".join(chunks) or None


def _header(data: bytes, pos: int) -> tuple[int, int | None, int] | None:
    """(tag, length or None when indefinite, offset of the contents) of the BER element at pos."""
    if pos + 2 > len(data):
        return None
    tag, first, pos = data[pos], data[pos + 1], pos + 2
    if first < 0x80:
        return tag, first, pos
    if first == 0x80:
        return tag, None, pos
    count = first & 0x7F
    if count > 4 or pos + count > len(data):
        return None
    return tag, int.from_bytes(data[pos:pos + count], "big"), pos + count


def _octets(data: bytes, pos: int, out: list[bytes], depth: int) -> int | None:
    """Append the bytes of the OCTET STRING at pos (primitive or constructed) to `out`; the offset
    after it, or None when it is not one."""
    head = _header(data, pos)
    if head is None or depth > 8:
        return None
    tag, length, pos = head
    if tag == 0x04 and length is not None:
        if pos + length > len(data):
            return None
        out.append(data[pos:pos + length])
        return pos + length
    if tag != 0x24:
        return None
    end = None if length is None else pos + length
    while True:
        if end is not None and pos >= end:
            return pos
        if end is None and data[pos:pos + 2] == b"\x00\x00":
            return pos + 2
        found = _octets(data, pos, out, depth + 1)
        if found is None:
            return None
        pos = found


def _what(data: bytes) -> str:
    if not data.strip():
        return "the file is empty"
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return f"this is {what}"
    return "neither XML nor a signed envelope (CMS in DER, BER or base64)"


def _too_large(name: str, limit: int) -> Diagnostic:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return _error(name, "too-large", f"larger than {size}: not read "
                  "(an e-invoice is far smaller; this may be a zip bomb)")


def _error(name: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(name, 1, 1, Severity.ERROR, code, message)


def _warning(name: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(name, 1, 1, Severity.WARNING, code, message)
