"""Bytes of an uploaded text export → str.

Deterministic checks first, guessing last (research/formats.md §5):
1. a byte-order mark says UTF-8 (Excel's "CSV UTF-8"), UTF-16 (Excel's "Unicode
   text", some Qualtrics TSVs) or UTF-32;
2. no mark but NUL bytes in every other position: UTF-16 without a mark;
3. strict UTF-8 (also covers ASCII): what every survey platform writes;
4. else an 8-bit Windows code page, cp1252 by default — what Excel's plain
   "CSV (Comma delimited)" writes on Western machines. Only when cp1252 cannot
   decode the bytes is charset-normalizer asked to choose among a few others.
The text is then refused if it holds binary data, and normalised to NFC so that
"é" typed on a Mac and on Windows compare equal.

`text_stream` streams the common case (UTF-8 or ASCII, NFC already, no stray
control characters) without holding the whole text: an 80 MB export would
otherwise be in memory as bytes, text and text with its line breaks fixed.
Anything else raises WholeText, and the caller decodes the whole file here.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from collections.abc import Iterator

from polls.importers.types import ImportProblem

ZIP_MAGIC = b"PK\x03\x04"
OTHER_8BIT = ["cp1250", "cp1251", "mac_roman", "latin_1"]
# Control characters that never occur in a text export (tab, CR and LF do).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BINARY_SAMPLE = 100_000
# More stray control characters than this share of a sample means binary data.
BINARY_SHARE = 0.01


CHUNK = 1 << 20  # bytes read at a time when streaming
# An NFC check of a chunk includes this much of the previous one, so that a
# combining mark that starts a chunk is checked with the letter it follows.
NFC_OVERLAP = 32


class WholeText(Exception):
    """The file needs `decode` on its whole text: another encoding, a NUL, text not in NFC…"""


def is_bytes(source) -> bool:
    return isinstance(source, bytes | bytearray | memoryview)


def whole(source) -> bytes:
    """All the bytes of a source: bytes, or a binary file object read from its start."""
    if is_bytes(source):
        return bytes(source)
    source.seek(0)
    return source.read()


def start_of(source, size: int) -> bytes:
    if is_bytes(source):
        return bytes(source[:size])
    source.seek(0)
    return source.read(size)


def byte_chunks(source, size: int | None = None) -> Iterator[bytes]:
    size = size or CHUNK
    if is_bytes(source):
        view = memoryview(source)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    source.seek(0)
    while chunk := source.read(size):
        yield chunk


def text_stream(source) -> io.TextIOWrapper:
    """The text of a UTF-8 source as a stream of lines, with line breaks as "\\n".

    Reading it raises WholeText (possibly after some lines) where `decode` must
    judge the file: a UTF-16/32 mark, invalid UTF-8, NUL bytes, any control
    character in the first BINARY_SAMPLE characters, or text that NFC would
    change.
    """
    raw = io.BufferedReader(_CheckedBytes(source), CHUNK)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline=None)


class _CheckedBytes(io.RawIOBase):
    """The bytes of a source, checked chunk by chunk for what only `decode` handles."""

    def __init__(self, source):
        self.chunks = byte_chunks(source)
        self.pending = memoryview(b"")
        self.started = False
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.sampled = 0
        self.tail = ""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.pending:
            chunk = next(self.chunks, b"")
            if not chunk:
                self._finish()
                return 0
            self._check(chunk)
            self.pending = memoryview(chunk)
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def _check(self, chunk: bytes) -> None:
        if not self.started:
            self.started = True
            marks = (
                codecs.BOM_UTF32_LE,
                codecs.BOM_UTF32_BE,
                codecs.BOM_UTF16_LE,
                codecs.BOM_UTF16_BE,
            )
            if chunk.startswith(marks) or _utf16_without_mark(chunk):
                raise WholeText
        if b"\x00" in chunk:
            raise WholeText
        try:
            text = self.decoder.decode(chunk)
        except UnicodeDecodeError:
            raise WholeText from None
        if self.sampled < BINARY_SAMPLE:  # the part `decode` samples for binary data
            sample = text[: BINARY_SAMPLE - self.sampled]
            self.sampled += len(sample)
            if CONTROL.search(sample):
                raise WholeText
        if not text.isascii() and not unicodedata.is_normalized("NFC", self.tail + text):
            raise WholeText
        self.tail = text[-NFC_OVERLAP:]

    def _finish(self) -> None:
        try:
            self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise WholeText from None


def decode(data: bytes, filename: str) -> str:
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8 + codecs.BOM_UTF16_LE):
        raise ImportProblem("the file is empty", file=filename)
    text = _decode(data, filename)
    _refuse_binary(text, data, filename)
    if not text.strip():
        raise ImportProblem("the file is empty", file=filename)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def _decode(data: bytes, filename: str) -> str:
    # UTF-32 LE's mark starts with UTF-16 LE's, so it is tested first.
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _strict(data, "utf-32", filename)
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", filename)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", filename)
    utf16 = _utf16_without_mark(data)
    if utf16:
        return _strict(data, utf16, filename)
    if b"\x00" in data:
        _binary(data, data.index(b"\x00"), filename)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _eight_bit(data, filename)


def _utf16_without_mark(data: bytes) -> str:
    """UTF-16 text of mostly Latin letters has a NUL in every other byte."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return ""
    even = sample[0 : pairs * 2 : 2].count(0) / pairs
    odd = sample[1 : pairs * 2 : 2].count(0) / pairs
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return ""


def _strict(data: bytes, encoding: str, filename: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].decode(encoding, errors="replace").count("\n") + 1
        raise ImportProblem(
            f"the file starts as {encoding.upper()} but byte {e.start} cannot be read as "
            f"{encoding.upper()} (is it cut short or a mix of encodings?); save it again as "
            '"CSV UTF-8"',
            file=filename,
            row=line,
        ) from None


def _eight_bit(data: bytes, filename: str) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass  # cp1252 leaves five bytes undefined; the file is in another code page
    from charset_normalizer import from_bytes  # rarely needed: not loaded with every worker

    best = from_bytes(data[:BINARY_SAMPLE], cp_isolation=OTHER_8BIT).best()
    if best is None:
        _binary(data, 0, filename)
    try:
        return data.decode(best.encoding)
    except UnicodeDecodeError:
        return data.decode("latin_1")  # decodes any byte; a last resort, never an error


def _refuse_binary(text: str, data: bytes, filename: str) -> None:
    if "\x00" in text:
        _binary_text(text, text.index("\x00"), data, filename)
    sample = text[:BINARY_SAMPLE]
    found = CONTROL.findall(sample)
    if len(found) > max(8, BINARY_SHARE * len(sample)):
        _binary_text(text, CONTROL.search(sample).start(), data, filename)


def _binary_text(text: str, position: int, data: bytes, filename: str) -> None:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    _raise_binary(data, line, column, f"U+{ord(text[position]):04X}", filename)


def _binary(data: bytes, position: int, filename: str) -> None:
    line = data.count(b"\n", 0, position) + 1
    column = position - (data.rfind(b"\n", 0, position) + 1) + 1
    byte = f"byte 0x{data[position]:02X}" if position < len(data) else "the end"
    _raise_binary(data, line, column, byte, filename)


def _raise_binary(data: bytes, line: int, column: int, what: str, filename: str) -> None:
    hint = (
        "it looks like an XLSX workbook: name it .xlsx or choose the xlsx format"
        if data.startswith(ZIP_MAGIC)
        else "upload the CSV, TSV or XLSX export itself"
    )
    raise ImportProblem(
        f"this is binary data, not a text export ({what} at character {column} of line "
        f"{line}); {hint}",
        file=filename,
        row=line,
    )
