"""Content-based checking of uploaded documents (photos and scans of medical records).

A file is judged by its bytes, never by its name or the browser's content type: JPEG, PNG and PDF
are accepted, everything else is refused with a message that names the file and the reason.
The checks are cheap on purpose (they run inside the request): image dimensions are read from the
header *before* any pixel is decoded, so a decompression bomb costs a few bytes of reading.
Heavy work (re-encoding, thumbnails) happens later in a Celery task, see ``image_processing``.

Other apps (household proof files) call ``upload_inspect`` too; keep its name and signature.
"""
from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Pillow is imported lazily-safe at module level: it is a hard dependency of the project.
from PIL import Image

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# 50 megapixels covers current phone cameras (8160 x 6120); a PNG "bomb" declares far more.
DEFAULT_MAX_PIXELS = 50_000_000

JPEG = "jpeg"
PNG = "png"
PDF = "pdf"
CONTENT_TYPES = {JPEG: "image/jpeg", PNG: "image/png", PDF: "application/pdf"}
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Scanned documents never need active content; its presence means the file is not what it claims.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])")
_PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


class UploadRejected(ValidationError):
    """The file is not accepted. The message is for the citizen: it names the file and says why."""


@dataclass(frozen=True)
class InspectedUpload:
    kind: str  # "jpeg" | "png" | "pdf"
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.kind in (JPEG, PNG)


def upload_max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_max_pixels() -> int:
    return int(getattr(settings, "UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def display_name(name: str | None) -> str:
    """The original file name as the citizen knows it, stripped of any path, for messages/lists."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    # Control characters would garble logs and the PDF receipt.
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:120] or _("未命名文件")


def _reject(name: str, reason: str, code: str) -> UploadRejected:
    return UploadRejected(
        _("文件“%(name)s”未能上传：%(reason)s") % {"name": name, "reason": reason},
        code=code,
    )


def _sniff_other(head: bytes) -> str:
    """A human name for what a refused file really is, so the message helps the citizen."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _("这是 GIF 动图")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _("这是 WebP 图片")
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypavif"):
        return _("这是 HEIC/AVIF 照片，请在手机相机设置中选择“兼容性最佳”或截图后上传")
    if head.startswith(b"BM"):
        return _("这是 BMP 图片")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return _("这是 TIFF 图片")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _("这是压缩包或 Office 文档")
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF") or head[:4] in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return _("这是可执行程序")
    if b"<svg" in stripped[:1024]:
        return _("这是 SVG 图形")
    if stripped.startswith((b"<!doctype", b"<html", b"<?xml", b"<script", b"<?php", b"<")):
        return _("这是网页或脚本文件")
    if head.startswith(b"Rar!") or head.startswith(b"\x1f\x8b") or head.startswith(b"7z\xbc\xaf"):
        return _("这是压缩包")
    return _("无法识别的文件类型")


def _size_of(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _sha256(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _inspect_image(file: IO[bytes], kind: str, name: str) -> tuple[int, int]:
    max_pixels = upload_max_pixels()
    unreadable = _reject(name, _("图片已损坏或不完整，请重新拍照或导出后上传"), "image_broken")
    too_large = _reject(
        name, _("图片像素过大（上限约 %(mp)d 百万像素），请缩小后上传") % {"mp": max_pixels // 1_000_000}, "image_pixels"
    )
    file.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; our own limit decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            # open() reads the header only: the dimensions are known before anything is decoded.
            with Image.open(file, formats=["JPEG" if kind == JPEG else "PNG"]) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise unreadable
                if width * height > max_pixels:
                    raise too_large
                if kind == PNG:
                    # Walks every chunk and checks its CRC up to IEND: catches truncation/tampering.
                    image.verify()
        except Image.DecompressionBombError:
            raise too_large from None
        except UploadRejected:
            raise
        except Exception:  # noqa: BLE001 - any decoder complaint means "not a usable image"
            raise unreadable from None

        # verify() leaves the image unusable; decode once more to prove the pixel data is complete.
        file.seek(0)
        try:
            with Image.open(file, formats=["JPEG" if kind == JPEG else "PNG"]) as image:
                if kind == JPEG:
                    # DCT scaling decodes at 1/8 size: every byte of scan data is still read (so a
                    # truncated photo fails) but memory stays small.
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
        except Exception:  # noqa: BLE001
            raise unreadable from None
    file.seek(0)
    return width, height


def _inspect_pdf(file: IO[bytes], size: int, name: str) -> None:
    broken = _reject(name, _("PDF 文件已损坏或不完整，请重新导出后上传"), "pdf_broken")
    file.seek(max(0, size - 2048))
    tail = file.read()
    # A PDF ends with "startxref <n> %%EOF" (plus optional whitespace). Bytes after that are what
    # polyglots and appended archives hide in, so anything beyond a few bytes is refused.
    eof = tail.rfind(b"%%EOF")
    if eof < 0 or b"startxref" not in tail or tail[eof + 5 :].strip(b"\r\n\t \x00"):
        raise broken
    file.seek(0)
    data = file.read()
    file.seek(0)
    # Stream bodies are compressed binary: a short name like "/JS" occurs in them by chance, so the
    # dictionary syntax is searched with the streams cut out. (Names hidden inside compressed
    # object streams are not seen; the reviewer's viewer must not run PDF scripts anyway.)
    syntax = _PDF_STREAM.sub(b"stream endstream", data)
    found_object = _PDF_OBJECT.search(syntax) is not None
    if _PDF_ACTIVE.search(syntax):
        raise _reject(name, _("PDF 中含有脚本或嵌入文件，请使用扫描件或重新打印为 PDF"), "pdf_active")
    if not found_object:
        raise broken


def upload_inspect(file: IO[bytes], *, max_bytes: int | None = None) -> InspectedUpload:
    """Decide whether an uploaded file is an acceptable JPEG, PNG or PDF; raise ``UploadRejected``.

    ``file`` is a Django ``UploadedFile`` or any seekable binary file with a ``name``.
    The file position is back at 0 afterwards so the caller can store it as is.
    """
    name = display_name(getattr(file, "name", ""))
    limit = max_bytes or upload_max_bytes()
    size = _size_of(file)
    if size == 0:
        raise _reject(name, _("文件是空的（0 字节）"), "empty")
    if size > limit:
        raise _reject(
            name,
            _("文件大小 %(size)s，超过单个文件上限 %(limit)s") % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            "too_big",
        )
    file.seek(0)
    head = file.read(64)
    file.seek(0)

    width = height = None
    if head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
        width, height = _inspect_image(file, kind, name)
    elif head.startswith(_PNG_MAGIC):
        kind = PNG
        width, height = _inspect_image(file, kind, name)
    elif head.startswith(b"%PDF-"):
        kind = PDF
        _inspect_pdf(file, size, name)
    else:
        raise _reject(
            name,
            _("仅支持 JPG、PNG 照片或 PDF 文件（%(what)s）") % {"what": _sniff_other(head)},
            "unsupported_type",
        )

    return InspectedUpload(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        extension=EXTENSIONS[kind],
        size=size,
        sha256=_sha256(file),
        original_name=name,
        width=width,
        height=height,
    )
