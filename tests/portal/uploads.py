"""Small real files for upload tests, generated on the fly (no binary fixtures in the repo)."""
import io

from django.core.files.uploadedfile import SimpleUploadedFile


def png_file(name: str = "hukou.png", size=(40, 30)) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def jpeg_file(name: str = "id-card.jpg") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 140, 160)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf_file(name: str = "letter.pdf") -> SimpleUploadedFile:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Authorization letter")
    page.save()
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def html_disguised_as_jpeg(name: str = "hukou.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"<html><body><script>alert(1)</script></body></html>", content_type="image/jpeg")
