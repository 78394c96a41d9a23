"""Generated test files: good documents and a hostile-upload corpus (nothing is checked in)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image, ImageDraw


def jpeg_bytes(size=(640, 480), *, exif: bytes | None = None, comment: bytes | None = None, sharp: bool = True) -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    if sharp:
        # Fine black/white text-like detail: a high Laplacian variance, like a readable scan.
        for y in range(0, size[1], 8):
            for x in range(0, size[0], 8):
                if (x // 8 + y // 8) % 2:
                    draw.rectangle([x, y, x + 3, y + 3], fill="black")
    if not sharp:
        # The same page photographed out of focus.
        from PIL import ImageFilter

        for y in range(0, size[1], 8):
            for x in range(0, size[0], 8):
                if (x // 8 + y // 8) % 2:
                    draw.rectangle([x, y, x + 3, y + 3], fill="black")
        image = image.filter(ImageFilter.GaussianBlur(4))
    out = io.BytesIO()
    kwargs = {"quality": 90}
    if exif is not None:
        kwargs["exif"] = exif
    if comment is not None:
        kwargs["comment"] = comment
    image.save(out, "JPEG", **kwargs)
    return out.getvalue()


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (28.0, 14.0, 30.0), 3: "E", 4: (111.0, 28.0, 12.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    return exif.tobytes()


def png_bytes(size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes(extra_dict: bytes = b"") -> bytes:
    """A minimal but well-formed one-page PDF with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_dict + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_bomb(width=30000, height=30000) -> bytes:
    """A tiny file that declares 900 megapixels: decoding it would need gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    raw = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # a few rows are enough to look real
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", raw) + _png_chunk(b"IEND", b"")


def png_bad_crc() -> bytes:
    good = png_bytes()
    # Flip the CRC of the IHDR chunk (bytes 29..32).
    return good[:29] + bytes(b ^ 0xFF for b in good[29:33]) + good[33:]


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "hello")
    return out.getvalue()


def hostile_corpus() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name as uploaded, bytes, expected outcome: a rejection code or "neutralise")."""
    jpeg = jpeg_bytes()
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    return {
        "jpeg_with_html_appended": ("scan.jpg", jpeg + html, "neutralise"),
        "jpeg_with_php_comment": ("photo.jpg", jpeg_bytes(comment=b"<?php system($_GET['c']); ?>"), "neutralise"),
        "jpeg_with_gps_exif": ("gps.jpg", jpeg_bytes(exif=gps_exif()), "neutralise"),
        "jpeg_zip_polyglot": ("poly.jpg", jpeg + zip_bytes(), "neutralise"),
        "png_bomb": ("bomb.png", png_bomb(), "image_pixels"),
        "svg": ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>', "unsupported_type"),
        "svg_named_jpg": ("drawing.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "unsupported_type"),
        "html_named_jpg": ("report.jpg", html, "unsupported_type"),
        "truncated_jpeg": ("cut.jpg", jpeg[: len(jpeg) // 2], "image_broken"),
        "zero_bytes": ("empty.jpg", b"", "empty"),
        "oversize": ("huge.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1), "too_big"),
        "zip_named_pdf": ("record.pdf", zip_bytes(), "unsupported_type"),
        "gif": ("anim.gif", _gif_bytes(), "unsupported_type"),
        "webp": ("photo.webp", _webp_bytes(), "unsupported_type"),
        "pe_binary": ("setup.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"PE\x00\x00", "unsupported_type"),
        "elf_binary": ("tool.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "unsupported_type"),
        "png_bad_crc": ("crc.png", png_bad_crc(), "image_broken"),
        "truncated_png": ("cut.png", png_bytes()[:-20], "image_broken"),
        "pdf_with_zip_appended": ("poly.pdf", pdf_bytes() + zip_bytes(), "pdf_broken"),
        "pdf_with_javascript": ("js.pdf", pdf_bytes(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "), "pdf_active"),
        "pdf_truncated": ("half.pdf", pdf_bytes()[:120], "pdf_broken"),
        "php_named_png": ("shell.png", b"<?php echo 1; ?>", "unsupported_type"),
        "jpeg_magic_then_garbage": ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 500, "image_broken"),
    }


def _gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def _webp_bytes() -> bytes:
    out = io.BytesIO()
    try:
        Image.new("RGB", (10, 10)).save(out, "WEBP")
        return out.getvalue()
    except (KeyError, OSError):  # Pillow built without WebP: a hand-made RIFF header is enough
        return b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
