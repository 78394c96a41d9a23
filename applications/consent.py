"""The consent to processing medical data (个人敏感信息/健康信息处理授权), versioned.

The text a citizen agreed to must be recoverable later, so each wording keeps its version key for
ever; a changed wording gets a new key and becomes ``CURRENT_VERSION``. The application stores the
version and the moment of agreement.
"""
from django.utils.translation import gettext_lazy as _

CONSENT_TEXTS = {
    "2026-11-v1": _(
        "本人同意医疗保障经办机构及其委托的审核医疗机构、评审专家，为办理本次门诊慢特病资格认定，"
        "收集、查看和保存本申请中的身份信息、诊断信息和所上传的病历、检查报告等医疗健康信息。"
        "上述信息仅用于资格认定、待遇享受及依法依规的监督检查，不用于其他目的；"
        "本人可随时在办结前撤回申请。"
    ),
}
CURRENT_VERSION = "2026-11-v1"


def consent_text(version: str = CURRENT_VERSION):
    return CONSENT_TEXTS[version]
