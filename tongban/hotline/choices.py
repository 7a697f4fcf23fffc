"""Fixed vocabularies of the 接诉即办 loop."""
from django.db import models


class RequestType(models.TextChoices):
    """诉求类型 = the case types of the hotline workflow (limits live on CaseType)."""

    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"

    # Default limits are created by migration hotline/0001_request_types.


class RefusalReason(models.TextChoices):
    """不予受理/引导: the six classes of 北京市接诉即办工作条例 art. 11."""

    EMERGENCY = "emergency", "应当通过110、119、120、122等紧急服务专线处理的"
    LITIGATION = "litigation", "已经或者应当通过诉讼、仲裁、纪检监察、行政复议、政府信息公开等程序解决的"
    REPEAT = "repeat", "已经依法解决或者诉求人无正当理由反复提出的，且无新情况、新理由的"
    SECRET = "secret", "涉及国家秘密、商业秘密、个人隐私的"
    OUT_OF_SCOPE = "out_of_scope", "不属于本市各级行政机关职责范围的"
    UNLAWFUL = "unlawful", "违反法律法规规定或者违背公序良俗的"


class Result(models.TextChoices):
    """办理结果 declared by the handling unit."""

    SOLVED = "solved", "已解决"
    PARTLY = "partly", "部分解决"
    UNSOLVED = "unsolved", "未解决"
    UNTRUE = "untrue", "反映不属实"
    EXPLAINED = "explained", "已解释说明"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", "已联系"
    UNREACHED = "unreached", "未联系上"


CALLBACK_MAX_ATTEMPTS = 3


def label_of(choices, value: str) -> str:
    """The Chinese label of a stored value, or the value itself when unknown (e.g. blank)."""
    return choices(value).label if value in choices.values else value
