"""The acceptance receipt (受理回执) as a PDF: number, masked patient, disease, materials, QR code."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from applications.id_numbers import mask_id_number, mask_name

WQY_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@lru_cache(maxsize=1)
def _cjk_font() -> str:
    """Register a font with Chinese glyphs once per process: the Debian WenQuanYi font when it is
    installed (it embeds, so any viewer shows it), else reportlab's built-in CID font."""
    from reportlab.pdfbase import pdfmetrics

    if WQY_FONT.exists():
        from reportlab.pdfbase.ttfonts import TTFont

        try:
            pdfmetrics.registerFont(TTFont("WQYMicroHei", str(WQY_FONT), subfontIndex=0))
            return "WQYMicroHei"
        except Exception:  # noqa: BLE001 - a damaged font file must not break receipts
            pass
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def qr_png(url: str) -> bytes:
    import qrcode

    image = qrcode.make(url, box_size=6, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def receipt_pdf(*, application, materials: list[tuple[str, str]], status_url: str) -> bytes:
    """``materials`` is a list of (slot name, original file name)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{_('受理回执')} {application.acceptance_number}")
    width, height = A4
    left = 20 * mm
    y = height - 25 * mm

    pdf.setFont(font, 18)
    pdf.drawString(left, y, _("门诊慢特病资格认定 受理回执"))
    y -= 14 * mm
    submitted = timezone.localtime(application.submitted_at) if application.submitted_at else None
    rows = [
        (_("受理编号"), application.acceptance_number or ""),
        (_("患者"), mask_name(application.patient.full_name)),
        (_("身份证号"), mask_id_number(application.patient.id_number)),
        (_("参保地区"), str(application.region) if application.region_id else ""),
        (_("申请病种"), application.disease.name if application.disease_id else ""),
        (_("提交时间"), f"{submitted:%Y-%m-%d %H:%M}" if submitted else ""),
        (_("当前状态"), application.get_status_display()),
    ]
    pdf.setFont(font, 12)
    for label, value in rows:
        pdf.drawString(left, y, f"{label}：{value}")
        y -= 8 * mm

    qr = ImageReader(io.BytesIO(qr_png(status_url)))
    pdf.drawImage(qr, width - left - 40 * mm, height - 75 * mm, 40 * mm, 40 * mm)
    pdf.setFont(font, 9)
    pdf.drawString(width - left - 40 * mm, height - 79 * mm, _("扫码查询办理进度"))

    y -= 4 * mm
    pdf.setFont(font, 13)
    pdf.drawString(left, y, _("已提交材料"))
    y -= 8 * mm
    pdf.setFont(font, 11)
    for slot_name, file_name in materials:
        if y < 30 * mm:
            pdf.showPage()
            pdf.setFont(font, 11)
            y = height - 25 * mm
        pdf.drawString(left + 4 * mm, y, f"· {slot_name}：{file_name}"[:70])
        y -= 7 * mm

    pdf.setFont(font, 9)
    pdf.drawString(left, 18 * mm, _("请妥善保管受理编号；可凭受理编号和患者身份证号在“办理进度查询”页面查询。"))
    pdf.showPage()
    pdf.save()
    return out.getvalue()
