"""The regional disease catalog: regions, schemes, diseases, materials, policies, institutions.

Everything a region decides is data here, never a constant in code. Every row that comes from
outside carries its provenance (``source``) and whether a human checked it against an official
text (``verified``); unverified rows are shown to citizens as illustrative.
"""
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


# A ``source`` starting with this word marks a row invented only to make the demo usable (示例):
# it is named in no seed, no reference and no official text.
ILLUSTRATIVE = "illustrative"


class Provenance(models.Model):
    source = models.CharField(_("来源"), max_length=500, blank=True)
    verified = models.BooleanField(
        _("已核实"), default=False, help_text=_("是否已与官方文件逐字核对")
    )

    class Meta:
        abstract = True

    @property
    def is_illustrative(self) -> bool:
        return self.source.startswith(ILLUSTRATIVE)


class Region(Provenance):
    """A city-level insurance region (统筹区), keyed by its GB/T 2260 code."""

    code = models.CharField(
        _("行政区划代码"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^\d{6}$", _("区划代码为 6 位数字"))],
    )
    province = models.CharField(_("省"), max_length=20)
    city = models.CharField(_("市"), max_length=30)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("地区")
        verbose_name_plural = _("地区")

    def __str__(self) -> str:
        return f"{self.province} {self.city}"


class ReviewerKind(models.TextChoices):
    AGENCY = "agency", _("医保经办机构")
    HOSPITALS = "hospitals", _("定点医疗机构")


class ServiceSettings(Provenance):
    """How a region runs the service: deadlines, who reviews, windows, channels, hotlines."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="settings")
    # Decimal working days: 贵州 promises 0.5 working day.
    review_deadline_days = models.DecimalField(
        _("审核时限（工作日）"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    review_deadline_note = models.CharField(
        _("时限说明"), max_length=100, blank=True, help_text=_("例如：5–8 个工作日")
    )
    office_opens = models.TimeField(_("上班时间"), default="08:30")
    office_closes = models.TimeField(_("下班时间"), default="17:30")
    reviewer_kind = models.CharField(
        _("审核主体"), max_length=20, choices=ReviewerKind.choices, default=ReviewerKind.AGENCY
    )
    extension_reviewer_kind = models.CharField(
        _("延期审核主体"), max_length=20, choices=ReviewerKind.choices, default=ReviewerKind.AGENCY
    )
    expert_review = models.BooleanField(_("专家评审"), default=False)
    extension_window_days = models.PositiveSmallIntegerField(_("延期窗口（到期前天数）"), default=30)
    hospital_changes_per_year = models.PositiveSmallIntegerField(_("每年可变更定点次数"), default=1)
    reconsideration_days = models.PositiveSmallIntegerField(_("可申请复议天数"), default=60)
    remote_care_auto_approve = models.BooleanField(_("异地备案自动通过"), default=False)
    channels = models.JSONField(_("办理渠道"), default=list, blank=True)
    hotlines = models.JSONField(_("咨询电话"), default=list, blank=True)
    declared_disease_count = models.PositiveSmallIntegerField(
        _("官方病种数"), null=True, blank=True, help_text=_("官方目录声明的病种总数")
    )

    class Meta:
        verbose_name = _("地区服务设置")
        verbose_name_plural = _("地区服务设置")

    def __str__(self) -> str:
        return str(self.region)


class Scheme(models.Model):
    """An insurance scheme and membership status: 职工在职, 职工退休, 城乡居民."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    fund = models.CharField(_("险种"), max_length=30)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("参保类型")
        verbose_name_plural = _("参保类型")

    def __str__(self) -> str:
        return self.name


class DiseaseCategory(Provenance):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="categories")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=50)
    declared_count = models.PositiveSmallIntegerField(_("官方病种数"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["region", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="category_unique_code_per_region")
        ]
        verbose_name = _("病种类别")
        verbose_name_plural = _("病种类别")

    def __str__(self) -> str:
        return f"{self.region.city} · {self.name}"


class ValidityRule(models.TextChoices):
    LONG_TERM = "long_term", _("长期有效")
    MONTHS = "months", _("固定月数")
    YEAR_END = "year_end", _("当年年底")


class HospitalLevel(models.IntegerChoices):
    LEVEL_1 = 1, _("一级")
    LEVEL_2 = 2, _("二级")
    LEVEL_3 = 3, _("三级")


class HospitalGrade(models.TextChoices):
    A = "甲", _("甲等")
    B = "乙", _("乙等")
    C = "丙", _("丙等")
    NONE = "", _("未定等")


class Disease(Provenance):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="diseases")
    category = models.ForeignKey(DiseaseCategory, on_delete=models.PROTECT, related_name="diseases")
    code = models.CharField(
        _("病种代码"), max_length=30, help_text=_("门慢门特病种目录代码 (opsp_dise_code)")
    )
    name = models.CharField(_("病种名称"), max_length=100)
    icd10_hint = models.CharField(_("ICD-10 参考"), max_length=60, blank=True)
    schemes = models.ManyToManyField(Scheme, related_name="diseases", verbose_name=_("适用参保类型"))
    entry_standard = models.TextField(_("准入标准"), blank=True)
    min_hospital_level = models.PositiveSmallIntegerField(
        _("诊断医院最低级别"), choices=HospitalLevel.choices, default=HospitalLevel.LEVEL_2
    )
    validity_rule = models.CharField(
        _("有效期规则"), max_length=20, choices=ValidityRule.choices, default=ValidityRule.LONG_TERM
    )
    validity_months = models.PositiveSmallIntegerField(_("有效月数"), null=True, blank=True)
    rereview_required = models.BooleanField(_("需定期复审"), default=False)
    cross_province_direct_settlement = models.BooleanField(_("跨省直接结算"), default=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["region", "category__order", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="disease_unique_code_per_region"),
            models.UniqueConstraint(fields=["region", "name"], name="disease_unique_name_per_region"),
            # isnull=False matters: in SQL a NULL comparison passes a CHECK, so "> 0" alone
            # would let a months rule through with no months.
            models.CheckConstraint(
                condition=~Q(validity_rule="months") | Q(validity_months__isnull=False, validity_months__gt=0),
                name="disease_months_rule_has_months",
            ),
        ]
        verbose_name = _("病种")
        verbose_name_plural = _("病种")

    def __str__(self) -> str:
        return self.name


class EntryCriterion(Provenance):
    """One item of the disease's entry-standard checklist (the citizen's self-check).

    Carries its own provenance: a disease name can be real while its criteria are only an
    illustrative template borrowed from another province."""

    disease = models.ForeignKey(Disease, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    text = models.CharField(_("条件"), max_length=300)

    class Meta:
        ordering = ["disease", "order"]
        verbose_name = _("准入条件")
        verbose_name_plural = _("准入条件")

    def __str__(self) -> str:
        return self.text


class RequiredMaterial(Provenance):
    """A material the applicant uploads for a disease (one upload slot in the wizard).

    Carries its own provenance, because issuer levels and recency windows often come from a
    seed or an illustrative hint rather than from the disease's official entry."""

    disease = models.ForeignKey(Disease, on_delete=models.CASCADE, related_name="materials")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("材料名称"), max_length=100)
    description = models.CharField(_("要求"), max_length=300, blank=True)
    issuer_min_level = models.PositiveSmallIntegerField(
        _("出具机构最低级别"), choices=HospitalLevel.choices, null=True, blank=True
    )
    recency_months = models.PositiveSmallIntegerField(_("时效（月）"), null=True, blank=True)
    required = models.BooleanField(_("必需"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["disease", "order"]
        constraints = [
            models.UniqueConstraint(fields=["disease", "code"], name="material_unique_code_per_disease")
        ]
        verbose_name = _("所需材料")
        verbose_name_plural = _("所需材料")

    def __str__(self) -> str:
        return self.name


class ReimbursementPolicy(Provenance):
    """What a scheme gets reimbursed, for one disease or for a whole category."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="policies")
    disease = models.ForeignKey(
        Disease, on_delete=models.CASCADE, null=True, blank=True, related_name="policies"
    )
    category = models.ForeignKey(
        DiseaseCategory, on_delete=models.CASCADE, null=True, blank=True, related_name="policies"
    )
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="policies")
    deductible = models.DecimalField(_("起付线（元）"), max_digits=10, decimal_places=2, null=True, blank=True)
    ratio = models.DecimalField(
        _("报销比例"),
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    annual_cap = models.DecimalField(_("年度限额（元）"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            # A policy is about a disease or about a category (region-wide when neither).
            models.CheckConstraint(
                condition=Q(disease__isnull=True) | Q(category__isnull=True),
                name="policy_disease_or_category",
            ),
            models.CheckConstraint(condition=Q(ratio__gte=0) & Q(ratio__lte=1), name="policy_ratio_0_1"),
        ]
        verbose_name = _("报销政策")
        verbose_name_plural = _("报销政策")

    def __str__(self) -> str:
        return f"{self.region.city} {self.scheme} {self.ratio:.0%}"


class MedicalInstitution(Provenance):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="institutions")
    name = models.CharField(_("机构名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("级别"), choices=HospitalLevel.choices)
    grade = models.CharField(_("等次"), max_length=1, choices=HospitalGrade.choices, blank=True, default="")
    district = models.CharField(_("区县"), max_length=30, blank=True)
    designated = models.BooleanField(_("门特定点"), default=False)
    may_review = models.BooleanField(_("可承担认定"), default=False)

    class Meta:
        ordering = ["region", "-level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="institution_unique_name_per_region")
        ]
        verbose_name = _("医疗机构")
        verbose_name_plural = _("医疗机构")

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return f"{self.get_level_display()}{self.grade}"


class CalendarDay(models.Model):
    """A day that staff entered for a year the ``chinesecalendar`` package does not know yet.

    For such a year, a date listed here overrides the weekday rule (holiday on a weekday,
    make-up workday 调休 on a weekend); a year with no rows falls back to plain weekdays and the
    admin warns about it.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否上班"))
    name = models.CharField(_("名称"), max_length=30, blank=True, help_text=_("例如：春节、国庆节调休"))
    source = models.CharField(_("来源"), max_length=300, blank=True, help_text=_("国务院办公厅通知文号或链接"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"
