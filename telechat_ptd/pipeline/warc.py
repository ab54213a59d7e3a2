"""Web crawls: WARC and WET records to documents. Pure Python (no Beam); ``readers.py`` turns
what this yields into the reader's ``doc`` / ``rejected`` / ``error`` items.

Which records are documents
---------------------------
* A WARC ``response`` to an http(s) request with HTTP status 200 and an HTML content type
  (``text/html``, ``application/xhtml+xml``; or no content type and a body that starts like
  HTML) is a web page: its main text is extracted with trafilatura (navigation, footers,
  comments dropped; tables kept). When trafilatura finds no main text, a plain-text extraction
  of the page is used if it holds at least ``FALLBACK_MIN_CHARS`` non-space characters;
  otherwise the page is *rejected* (stage ``read``, reason ``no_main_text``, its URL in
  ``detail``) so that no page disappears silently.
* A ``response`` with status 200 and ``text/plain`` is taken as text, decoded as below.
* A ``resource`` record with an http(s) URI and an HTML or plain-text content type is treated
  like a response (some crawlers store fetched pages that way); wget's own ``resource`` records
  (``metadata://`` URIs: its log and arguments) are not.
* A WET ``conversion`` record (Common Crawl's extracted text) is taken as is (UTF-8).

Everything else is not a document and is skipped, counted in the caller's ``skipped``
counter by reason: the record type (``warcinfo``, ``request``, ``metadata``, ``revisit``,
``resource``, ...), ``status_<code>`` for responses that are not 200 (redirects, 404s, ...),
``content_type`` for 200 responses that are not text (images, PDF, JSON, scripts, ...),
``not_http`` for responses to other schemes (``dns:``, ...).

Decoding a page
---------------
The charset comes from the HTTP ``Content-Type`` header, else from ``<meta charset>`` /
``<meta http-equiv content="...charset=...">`` in the first ``META_SCAN_BYTES`` bytes, else from
detection with charset-normalizer. Chinese labels decode with their supersets: GB2312 and GBK
(and cp936, EUC-CN) as GB18030, Big5 (and cp950) as Big5-HKSCS; ISO-8859-1 and US-ASCII as
windows-1252 (what browsers do). A declared non-UTF-8 charset on a body that is valid UTF-8
(with non-ASCII bytes) is taken to be wrong: the page is UTF-8. Each candidate is tried
strictly, in that order; only when the declared charsets are wrong and detection fails too is
the page decoded with ``errors="replace"`` (U+FFFD, which the ``garbage_chars`` filter judges),
and when more than ``MAX_REPLACED_SHARE`` of it would be replacement characters the record is
an error instead.

Errors
------
A truncated record (the file ends inside it: a cut gzip member or a cut uncompressed file), a
record whose headers do not parse, a body that cannot be decompressed (Content-Encoding) or
decoded, or a page whose extraction raised is an error with the record's byte offset in the
file (``ArchiveIterator.get_record_offset()``: the compressed offset for .gz files), its URL and
the message. After a malformed record the reader resynchronizes at the next record that starts
cleanly (the next gzip member that decompresses to ``WARC/``, or the next ``WARC/1.x`` line of
an uncompressed file) and goes on; after a truncated file nothing more can be read. A whole-file
gzip (``gzip x.warc`` rather than a gzip member per record) is read through one decompressed
stream; offsets are then positions in the decompressed stream.
"""

from __future__ import annotations

import codecs
import gzip
import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
META_SCAN_BYTES = 4096
FALLBACK_MIN_CHARS = 200
MAX_REPLACED_SHARE = 0.02
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
RAW_BYTES = 1200  # bytes of a bad record handed to errors/ (the reader keeps 300 characters)

# Python codec name -> the codec that decodes it (a superset, or what browsers use).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
    "utf_16": "utf-8",  # a <meta> cannot truthfully declare UTF-16 (browsers read UTF-8)
    "utf_16_le": "utf-8",
    "utf_16_be": "utf-8",
}
_EXTRA_LABELS = {"x-gbk": "gbk", "gb_2312-80": "gb2312", "csgb2312": "gb2312", "x-x-big5": "big5",
                 "csbig5": "big5", "cn-big5": "big5", "x-sjis": "shift_jis", "x-euc-jp": "euc_jp"}

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.I)
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"\nWARC/1\.[01]\r?\n")


@dataclass
class WebRecord:
    """A document (``reason`` None) or a rejected page (``reason`` set, ``text`` maybe empty)."""

    record_id: str | None
    offset: int
    url: str | None
    date: str | None
    content_type: str | None
    text: str
    charset: str | None = None
    reason: str | None = None
    detail: str | None = None

    def metadata(self) -> dict:
        meta = {"url": self.url, "date": self.date, "content_type": self.content_type}
        if self.charset:
            meta["charset"] = self.charset
        return meta


@dataclass
class WebError:
    offset: int | None
    url: str | None
    message: str
    raw: bytes = b""
    record_id: str | None = None


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


class BodyError(ValueError):
    """A body that cannot be turned into text; the message goes to errors/."""


# --- charsets ------------------------------------------------------------------------------


def codec_for(label: str | bytes | None) -> str | None:
    """The Python codec that decodes a charset label, with the superset rule; None if unknown."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    label = label.strip().strip("\"'").lower()
    label = _EXTRA_LABELS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return _SUPERSETS.get(name, name)


def _param(content_type: str | None, key: str) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == key and value.strip():
            return value.strip().strip("\"'")
    return None


def media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:META_SCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return codec_for(best.encoding) if best is not None else None


def decode_body(body: bytes, header_charset: str | None = None, html: bool = True) -> tuple[str, str]:
    """(text, codec used): see the module docstring for the order. Raises BodyError."""
    if body.isascii():
        return body.decode("ascii"), "ascii"
    declared = []
    for label in (header_charset, meta_charset(body) if html else None):
        codec = codec_for(label)
        if codec and codec not in declared:
            declared.append(codec)
    if declared and declared[0] != "utf_8":
        try:
            return body.decode("utf-8"), "utf_8"  # valid UTF-8 beats a non-UTF-8 declaration
        except UnicodeDecodeError:
            pass
    for codec in declared:
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    tried = list(declared)
    detected = _detect(body)
    for codec in (detected, "utf_8"):
        if codec and codec not in tried:
            tried.append(codec)
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                continue
    codec = declared[0] if declared else "utf_8"
    text = body.decode(codec, "replace")
    bad = text.count("\ufffd")
    if bad > MAX_REPLACED_SHARE * len(text):
        raise BodyError(
            f"body does not decode: {bad} invalid sequences as {codec} "
            f"(declared: {', '.join(declared) or 'none'}; detected: {detected or 'nothing'})"
        )
    return text, f"{codec} (replace)"


# --- main text -----------------------------------------------------------------------------


def extract_main_text(html: str, url: str | None = None) -> tuple[str | None, str]:
    """(text or None, how): trafilatura's main text, else a plain-text fallback when it is
    long enough to be worth judging by the filters."""
    import trafilatura

    if not html.strip():
        return None, "empty page"
    # trafilatura logs every page it finds no text in; here each such page is accounted for
    # (rejected no_main_text), so its log lines would only flood the workers' logs
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_recall=True,
        include_links=False, include_images=False, deduplicate=False, with_metadata=False,
    )
    if text and text.strip():
        return text.strip(), "trafilatura"
    fallback = (trafilatura.html2txt(html) or "").strip()
    if sum(not c.isspace() for c in fallback) >= FALLBACK_MIN_CHARS:
        return fallback, "plain-text fallback"
    return None, "trafilatura found no main text" + (f" (plain-text fallback: {len(fallback)} chars)" if fallback else "")


# --- records -------------------------------------------------------------------------------


def _header(record, name: str) -> str | None:
    value = record.rec_headers.get_header(name)
    return value.strip() if isinstance(value, str) else value


def _record_id(record) -> str | None:
    value = _header(record, "WARC-Record-ID")
    return value.strip("<>") if value else None


def _classify(record) -> tuple[str | None, str | None]:
    """(kind, content type) for a document record (kind "html", "text" or "wet"); (None,
    skip reason) for the rest."""
    rec_type = (record.rec_type or "unknown").lower()
    url = _header(record, "WARC-Target-URI") or ""
    if rec_type == "conversion":
        return "wet", media_type(record.content_type) or "text/plain"
    if rec_type not in ("response", "resource"):
        return None, rec_type
    if not url.lower().startswith(("http:", "https:")):
        return None, "resource" if rec_type == "resource" else "not_http"
    if rec_type == "response":
        if record.http_headers is None:
            return None, "not_http"
        status = (record.http_headers.get_statuscode() or "").strip()
        if status != "200":
            return None, f"status_{status or 'none'}"
        ctype = media_type(record.http_headers.get_header("Content-Type"))
    else:
        ctype = media_type(record.content_type)
    if ctype in HTML_TYPES:
        return "html", ctype
    if ctype in TEXT_TYPES:
        return "text", ctype
    if ctype is None:
        return "sniff", None
    return None, "content_type"


def _read_body(record, max_bytes: int) -> bytes | WebError:
    """At most ``max_bytes + 1`` bytes of the payload (de-chunked, Content-Encoding undone)."""
    try:
        return record.content_stream().read(max_bytes + 1)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        return WebError(None, _header(record, "WARC-Target-URI"), f"unreadable body: {type(exc).__name__}: {exc}",
                        record_id=_record_id(record))


def _to_item(record, kind: str, ctype: str | None, offset: int, body: bytes | WebError, max_bytes: int):
    if isinstance(body, WebError):
        return body
    url = _header(record, "WARC-Target-URI")
    rid = _record_id(record)
    date = _header(record, "WARC-Date")
    if kind == "sniff":
        if not _HTML_START.match(body[:1024]):
            return None  # not a page: counted by the caller as content_type
        kind, ctype = "html", "text/html"

    def rejected(reason: str, detail: str, charset=None) -> WebRecord:
        return WebRecord(rid, offset, url, date, ctype, "", charset, reason, detail)

    if len(body) > max_bytes:
        return rejected("too_large", f"body bytes > {max_bytes} (url={url})")
    header_type = record.http_headers.get_header("Content-Type") if record.http_headers else record.content_type
    try:
        if kind == "wet":
            text, charset = decode_body(body, "utf-8", html=False)
        else:
            text, charset = decode_body(body, _param(header_type, "charset"), html=kind == "html")
    except BodyError as exc:
        return WebError(offset, url, str(exc), body[:RAW_BYTES], rid)
    if kind == "html":
        try:
            main, how = extract_main_text(text, url)
        except Exception as exc:  # lxml/trafilatura on hostile HTML: one page, not the file
            return WebError(offset, url, f"HTML extraction failed: {type(exc).__name__}: {exc}", body[:RAW_BYTES], rid)
        if main is None:
            return rejected("no_main_text", f"{how}; url={url}", charset)
        text = main
    else:
        text = text.strip()
        if not text:
            return rejected("no_main_text", f"empty {kind} record; url={url}", charset)
    return WebRecord(rid, offset, url, date, ctype, text, charset)


def _drain(it: ArchiveIterator, record) -> None:
    """Read the record to its end; raise _Truncated when the file ends inside it."""
    it.read_to_end()
    left = getattr(record.raw_stream, "limit", 0) or 0
    if left > 0:
        raise _Truncated(f"truncated record: the file ends {left} bytes before the end of the record"
                         f" (Content-Length {record.length})")


def _resync(fileobj, after: int) -> int | None:
    """Offset of the next record that starts cleanly after byte ``after``, or None."""
    fileobj.seek(0)
    gz = fileobj.read(2) == _GZIP_MAGIC[:2]
    pos = after
    overlap = 64
    while True:
        fileobj.seek(pos)
        chunk = fileobj.read(1 << 20)
        if len(chunk) <= 1:
            return None
        if gz:
            i = chunk.find(_GZIP_MAGIC)
            while i >= 0:
                fileobj.seek(pos + i)
                try:
                    head = zlib.decompressobj(31).decompress(fileobj.read(1 << 16), 16)
                except zlib.error:
                    head = b""
                if head.startswith(b"WARC/1."):
                    return pos + i
                i = chunk.find(_GZIP_MAGIC, i + 1)
        else:
            match = _WARC_LINE.search(chunk)
            if match:
                return pos + match.start() + 1
        if len(chunk) < (1 << 20):
            return None
        pos += len(chunk) - overlap


def _member_complete(fileobj, offset: int) -> bool:
    """Whether the gzip member starting at ``offset`` ends before the file does."""
    fileobj.seek(offset)
    d = zlib.decompressobj(31)
    try:
        while not d.eof:
            chunk = fileobj.read(1 << 20)
            if not chunk:
                return False
            while chunk and not d.eof:
                d.decompress(chunk, 1 << 22)
                chunk = d.unconsumed_tail
    except zlib.error:
        return False
    return True


def _unread_tail(fileobj, end: int) -> int | None:
    """Where bytes other than blank lines follow ``end`` (warcio stops silently at a record cut
    inside its headers), else None."""
    fileobj.seek(end)
    pos = end
    while True:
        chunk = fileobj.read(1 << 16)
        if not chunk:
            return None
        if chunk.strip():
            return pos + len(chunk) - len(chunk.lstrip())  # where the cut record starts
        pos += len(chunk)


def iter_records(fileobj, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, skipped: Counter | None = None) -> Iterator[WebRecord | WebError]:
    """Documents, rejected pages and errors of one WARC/WET file (a seekable binary file object,
    the raw file: warcio decompresses per gzip member itself)."""
    skipped = skipped if skipped is not None else Counter()
    start = fileobj.tell()
    gz = fileobj.read(2) == _GZIP_MAGIC[:2]
    fileobj.seek(start)
    seen = 0  # records read from the start of the file (for the whole-file gzip fallback)
    resynced = decompressed = False
    skip_until = 0
    stream = fileobj
    pending = None  # the last record's item: held until the file is known to go on past it
    last = None  # (offset, url, record id) of the last record read
    while True:
        it = ArchiveIterator(stream)
        record = None
        offset = it.offset
        try:
            for record in it:
                if pending is not None:
                    yield pending
                    pending = None
                offset = it.offset  # the record's start; get_record_offset() reads it to its end
                seen += 1
                if decompressed and seen <= skip_until:
                    record = None
                    continue
                length = (record.rec_headers.get_header("Content-Length") or "").strip()
                if not length.isdigit() or record.rec_type is None:
                    # warcio yields a record whose header block the file cut short
                    raise _Malformed("record without WARC-Type or a valid Content-Length (truncated or malformed headers)")
                kind, what = _classify(record)
                body = _read_body(record, max_body_bytes) if kind else None
                _drain(it, record)  # before any work on the body: a cut record is an error
                offset = it.get_record_offset()
                item = _to_item(record, kind, what, offset, body, max_body_bytes) if kind else None
                last = (offset, _header(record, "WARC-Target-URI"), _record_id(record), offset + it.get_record_length())
                if item is not None:
                    item.offset = offset
                    pending = item
                else:
                    skipped[what if kind is None else "content_type"] += 1
                record = None
            tail = None if decompressed else _unread_tail(fileobj, last[3] if last else start)
            if tail is not None:
                # bytes after the last whole record that are no record: the file ends inside one
                if pending is not None:
                    yield pending
                yield WebError(tail, None, f"truncated file: the bytes from {tail} on hold no complete record")
            elif gz and not decompressed and last is not None and not _member_complete(fileobj, last[0]):
                # the file ends inside the last gzip member, after the record's bytes: the
                # record may be whole, the file is not
                yield WebError(last[0], last[1], "truncated gzip member: the file ends inside the last record's"
                               " gzip member", record_id=last[2])
            elif pending is not None:
                yield pending
            return
        except _Truncated as exc:
            yield WebError(offset, _header(record, "WARC-Target-URI"), str(exc), record_id=_record_id(record))
            return
        except _Malformed as exc:
            error = WebError(it.offset, _url_of(record), f"malformed record: {exc}")
        except ArchiveLoadFailed as exc:
            message = " ".join(str(exc).split())
            if "non-chunked gzip" in message and not resynced and not decompressed:
                # a whole-file gzip: read it again through one decompressed stream
                if pending is not None:
                    yield pending
                    pending = None
                fileobj.seek(start)
                stream = gzip.GzipFile(fileobj=fileobj, mode="rb")
                decompressed, skip_until, seen = True, seen, 0
                continue
            error = WebError(it.offset, None, f"malformed record: {message}")
        except (StatusAndHeadersParserException, ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
            error = WebError(it.offset, _url_of(record), f"malformed record: {type(exc).__name__}: {exc}")
        except (OSError, EOFError, zlib.error) as exc:
            error = WebError(it.offset, _url_of(record), f"unreadable record: {type(exc).__name__}: {exc}")
        # it.offset: where the failing record starts (the iterator moves it past a record only
        # once that record was read to its end)
        if pending is not None:
            yield pending
            pending = None
        yield error
        if decompressed:
            return  # no resynchronizing inside one gzip stream
        nxt = _resync(fileobj, (error.offset or 0) + 1)
        if nxt is None:
            return
        fileobj.seek(nxt)
        resynced = True


def _url_of(record) -> str | None:
    try:
        return _header(record, "WARC-Target-URI") if record is not None else None
    except Exception:
        return None
