"""Pixel work on uploaded photos: clean re-encoding, thumbnails and a sharpness score.

Runs in the Celery task, never in the request. Only files that ``uploads.upload_inspect`` accepted
get here, so dimensions are already bounded.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageFilter, ImageOps, ImageStat

THUMBNAIL_SIZE = (320, 320)
# The score is measured on a copy at most this wide, so it compares photos of any resolution.
SHARPNESS_WIDTH = 1024
# A 4-neighbour Laplacian. Output is offset by 128 because Pillow clamps to 0..255; the variance
# is what matters, and blur flattens it.
_LAPLACIAN = ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128)
DEFAULT_BLUR_THRESHOLD = 40.0


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    content_type: str
    extension: str
    thumbnail: bytes
    sharpness: float


def blur_threshold() -> float:
    return float(getattr(settings, "UPLOAD_BLUR_THRESHOLD", DEFAULT_BLUR_THRESHOLD))


def sharpness_score(image: Image.Image) -> float:
    """Variance of the Laplacian of the greyscale image (higher = sharper)."""
    grey = ImageOps.grayscale(image)
    if grey.width > SHARPNESS_WIDTH:
        grey = grey.resize((SHARPNESS_WIDTH, max(1, grey.height * SHARPNESS_WIDTH // grey.width)))
    edges = grey.filter(_LAPLACIAN)
    # Pillow leaves the 1-pixel border unfiltered (raw grey values, not Laplacian + 128): cut it
    # off, or a white page margin alone reads as "sharp".
    if edges.width > 2 and edges.height > 2:
        edges = edges.crop((1, 1, edges.width - 1, edges.height - 1))
    return float(ImageStat.Stat(edges).var[0])


def image_reencode(data: bytes) -> ProcessedImage:
    """Decode and write the pixels anew: EXIF (GPS, camera serials), comments, ICC profiles and
    any bytes appended after the image (HTML, archives, scripts) do not survive."""
    with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as source:
        source.load()
        is_png = source.format == "PNG"
        # Apply the camera's rotation before the EXIF that carries it is dropped.
        upright = ImageOps.exif_transpose(source)
    if is_png and upright.mode in ("RGBA", "LA", "P"):
        clean = upright.convert("RGBA")
        fmt, content_type, extension = "PNG", "image/png", "png"
    elif is_png:
        clean = upright.convert("RGB")
        fmt, content_type, extension = "PNG", "image/png", "png"
    else:
        clean = upright.convert("RGB")
        fmt, content_type, extension = "JPEG", "image/jpeg", "jpg"
    # convert() copies .info (comment, exif, icc_profile), and Pillow writes a JPEG comment
    # from .info by default: start from an empty one.
    clean.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=88, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)

    thumb = clean.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return ProcessedImage(
        content=out.getvalue(),
        content_type=content_type,
        extension=extension,
        thumbnail=thumb_out.getvalue(),
        sharpness=sharpness_score(clean),
    )
