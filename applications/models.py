"""The citizen's case (申请) and its append-only timeline.

Statuses move only through the services in ``applications.services`` (and ``reviews.services``
for staff decisions), each checked against the one table in ``applications.lifecycle``.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Disease, MedicalInstitution, Region, Scheme
from portal.crypto import EncryptedCharField, EncryptedTextField


class Person(models.Model):
    """An insured individual: an account holder or someone they apply for.

    One row per resident ID number, so a parent added by two children is still one person.
    """

    full_name = models.CharField(_("姓名"), max_length=50)
    # Encrypted at rest (portal.crypto); found by the keyed hash beside it, never by the column
    # itself — see applications.selectors.person_find_by_id_number.
    id_number = EncryptedCharField(
        _("身份证号"), hash_field="id_number_hash", hash_normalizer="applications.id_numbers.normalize_id_number"
    )
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("参保地")
    )
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("参保类型")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参保人")
        verbose_name_plural = _("参保人")

    def __str__(self) -> str:
        from applications.id_numbers import mask_name

        return mask_name(self.full_name)


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已受理")
    IN_REVIEW = "in_review", _("审核中")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("待补正")
    ESCALATED = "escalated", _("待主管裁定")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class ApplicationKind(models.TextChoices):
    INITIAL = "initial", _("资格认定")
    EXTENSION = "extension", _("待遇延期")
    REREVIEW = "rereview", _("复审")
    RECONSIDERATION = "reconsideration", _("复议")


class EntryChannel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    COUNTER = "counter", _("窗口代录")


class Application(models.Model):
    kind = models.CharField(_("类型"), max_length=20, choices=ApplicationKind.choices, default=ApplicationKind.INITIAL)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("关联申请")
    )
    acceptance_number = models.CharField(_("受理编号"), max_length=24, unique=True, null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=30, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications", verbose_name=_("申请人")
    )
    patient = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="applications", verbose_name=_("患者")
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="applications", verbose_name=_("地区")
    )
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("参保类型")
    )
    disease = models.ForeignKey(
        Disease, on_delete=models.PROTECT, null=True, blank=True, related_name="applications", verbose_name=_("病种")
    )
    self_check = models.JSONField(_("自查结果"), default=dict, blank=True)
    diagnosis = EncryptedTextField(_("诊断"), blank=True)
    diagnosing_institution = models.ForeignKey(
        MedicalInstitution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("诊断医院"),
    )
    diagnosis_date = models.DateField(_("诊断日期"), null=True, blank=True)
    designated_institution = models.ForeignKey(
        MedicalInstitution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("定点医疗机构"),
    )
    consent_version = models.CharField(_("同意书版本"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    wizard_step = models.PositiveSmallIntegerField(default=1)
    entry_channel = models.CharField(
        _("渠道"), max_length=20, choices=EntryChannel.choices, default=EntryChannel.ONLINE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("代录人员"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
        verbose_name=_("经办人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, db_index=True)
    # The review clock: restarts on resubmission; null while the applicant holds the case.
    clock_started_at = models.DateTimeField(_("计时起点"), null=True, blank=True)
    due_at = models.DateTimeField(_("办结期限"), null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Set when the retention job removed the files and personal data of a closed case.
    purged_at = models.DateTimeField(_("资料清理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("申请")
        verbose_name_plural = _("申请")
        indexes = [
            # The review queue: one region (and maybe one status), ordered by (due_at, id) as the
            # queue is. status and entered_by close each key so the queue's capped count is read
            # from the index alone (the scope filter is "not a draft, or my own counter draft").
            models.Index(fields=["region", "status", "due_at", "id", "entered_by"], name="app_queue_idx"),
            models.Index(fields=["region", "due_at", "id", "status", "entered_by"], name="app_queue_region_idx"),
            # One status over every region (a superuser, a supervisor of several regions): without
            # it the queue walked the due_at index past every decided case (2 s at a million).
            models.Index(fields=["status", "due_at", "id", "entered_by"], name="app_queue_status_idx"),
            # 我的申请 (applications.citizen_sql): an account's own cases in the list's order, read up
            # to the page and no further; and the submitted cases of its people with their
            # applicant, so that the account's own are passed over inside the index.
            models.Index(fields=["applicant", "-created_at", "-id"], name="app_applicant_order_idx"),
            models.Index(
                fields=["patient", "-created_at", "-id", "applicant"],
                condition=~Q(status="draft"),
                name="app_patient_submitted_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(acceptance_number__isnull=False),
                name="application_submitted_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["extension", "rereview", "reconsideration"]) | Q(parent__isnull=False),
                name="application_followup_has_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.acceptance_number or f"#{self.pk} ({self.get_status_display()})"


class EventKind(models.TextChoices):
    CREATED = "created", _("创建草稿")
    SUBMITTED = "submitted", _("提交申请")
    CLAIMED = "claimed", _("开始审核")
    RELEASED = "released", _("退回队列")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("一次性告知补正")
    RESUBMITTED = "resubmitted", _("补正后重新提交")
    EXPERT_OPINION = "expert_opinion", _("专家意见")
    ESCALATED = "escalated", _("提交主管裁定")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核未通过")
    WITHDRAWN = "withdrawn", _("撤回申请")
    ID_REVEALED = "id_revealed", _("查看完整身份证号")
    PURGED = "purged", _("按保存期限清理个人资料")


class ApplicationEvent(models.Model):
    """Append-only: the citizen's timeline and the auditor's trail in one table."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    data = models.JSONField(default=dict, blank=True)
    visible_to_citizen = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.created_at:%Y-%m-%d %H:%M}"


class CertificationStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已到期")
    REVOKED = "revoked", _("已撤销")


class Certification(models.Model):
    """A person's 门特 qualification, named after the national platform's fields (2503 / 5301)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="certifications")
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="certification", verbose_name=_("认定申请")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+", verbose_name=_("险种"))
    disease = models.ForeignKey(Disease, on_delete=models.PROTECT, related_name="+")
    opsp_dise_code = models.CharField(_("病种代码"), max_length=30)
    opsp_dise_name = models.CharField(_("病种名称"), max_length=100)
    ide_fixmedins_name = models.CharField(_("鉴定机构"), max_length=100, blank=True)
    designated_institution = models.ForeignKey(
        MedicalInstitution, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("定点医疗机构")
    )
    begndate = models.DateField(_("开始日期"))
    enddate = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("为空表示长期有效"))
    status = models.CharField(_("状态"), max_length=10, choices=CertificationStatus.choices, default=CertificationStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("门特资格")
        verbose_name_plural = _("门特资格")
        constraints = [
            models.CheckConstraint(condition=Q(enddate__isnull=True) | Q(enddate__gte=models.F("begndate")), name="certification_end_after_begin"),
        ]

    def __str__(self) -> str:
        return f"{self.opsp_dise_name} ({self.begndate}–{self.enddate or '长期'})"


class MaterialVerdict(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACCEPTED = "accepted", _("合格")
    UNREADABLE = "unreadable", _("无法辨认")
    MISSING_STAMP = "missing_stamp", _("缺少公章")
    TOO_OLD = "too_old", _("超过时效")
    WRONG_PERSON = "wrong_person", _("非本人材料")
    NOT_RELEVANT = "not_relevant", _("与申请病种无关")


# Upload slots that are not a catalog RequiredMaterial: the documents of an agent (代办) applying
# for someone else, and a catch-all for extra items a reviewer asks for in a supplement notice.
PROXY_AGENT_ID_SLOT = "proxy:agent_id"
PROXY_RELATIONSHIP_SLOT = "proxy:relationship"
SUPPLEMENT_EXTRA_SLOT = "supplement:extra"


def material_upload_to(instance, filename: str) -> str:
    """A random name: the citizen's file name never reaches the storage path (it is kept apart)."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"materials/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{extension}"


class UploadedMaterial(models.Model):
    """One uploaded file in one slot of an application (a slot may hold several files).

    Stored privately under a random name; served only through the access-checked view. The
    request stores the checked original; the processing task replaces an image by its clean
    re-encoding (no EXIF/GPS, nothing appended) and fills thumbnail and sharpness.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    slot = models.CharField(_("材料项"), max_length=60, help_text=_("病种所需材料代码，或代办材料项"))
    file = models.FileField(_("文件"), upload_to=material_upload_to, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    thumbnail = models.FileField(_("缩略图"), upload_to=material_upload_to, max_length=200, blank=True)
    sharpness = models.FloatField(_("清晰度"), null=True, blank=True)
    processed = models.BooleanField(_("已处理"), default=False)
    processing_error = models.CharField(max_length=200, blank=True)
    verdict = models.CharField(
        _("审核结论"), max_length=20, choices=MaterialVerdict.choices, default=MaterialVerdict.PENDING
    )
    verdict_note = models.CharField(_("审核说明"), max_length=300, blank=True)
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verdict_at = models.DateTimeField(null=True, blank=True)
    flagged_for_supplement = models.BooleanField(_("需补正"), default=False)
    # Set on resubmission for a flagged file that a new upload replaced; kept for the audit trail.
    superseded_at = models.DateTimeField(_("已被替换"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["application", "slot", "created_at", "pk"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        indexes = [models.Index(fields=["application", "slot"], name="material_app_slot_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AcceptanceCounter(models.Model):
    """The last acceptance-number sequence issued per region and (Asia/Shanghai) day.

    Incremented with one ``INSERT … ON CONFLICT … DO UPDATE … RETURNING`` statement, so concurrent
    submits serialise on the row and never reuse or skip a number.
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="acceptance_counter_once")]
