"""Open311 demo data: a client key for a 311 app (printed), attributes for two services, and the
demo's requests of channel “接口” recorded as submitted by that app (so GET requests shows them)."""
from __future__ import annotations

import hashlib
from datetime import datetime

from tongban.cases.models import Case, Category, Channel

from . import services
from .models import ApiClient, Attribute, AttributeValue, ClientUpdate, Datatype, Service, Submission

CLIENT_NAME = "FixMyStreet 示范"
ATTRIBUTES = {
    "城乡建设/城市建设和市政管理": [
        ("facility", Datatype.SINGLE, True, "是哪类设施出了问题？",
         [("streetlight", "路灯"), ("manhole", "井盖"), ("road", "道路破损"), ("water", "供水设施"), ("other", "其他")]),
        ("facility_no", Datatype.STRING, False, "设施编号（路灯杆、井盖上喷涂的编号）", []),
        ("hazard", Datatype.MULTI, False, "是否存在安全隐患？",
         [("traffic", "影响通行"), ("night", "夜间照明不足"), ("school", "周边有学校或幼儿园")]),
    ],
    "环境保护/环境污染": [
        ("since", Datatype.DATETIME, False, "问题从什么时候开始？", []),
        ("decibel", Datatype.NUMBER, False, "噪声分贝（如有测量）", []),
    ],
}
def demo_key(seed: int) -> str:
    return "demo311-" + hashlib.sha256(f"open311-demo:{seed}".encode()).hexdigest()[:24]


def build(org, *, seed: int, end: datetime) -> list[str]:
    key = demo_key(seed)
    client, _ = ApiClient.issue(CLIENT_NAME, contact="示范数据", key=key)
    for full_name, attributes in ATTRIBUTES.items():
        category = Category.objects.filter(full_name=full_name).first()
        if category is None:
            continue
        service, _ = Service.objects.get_or_create(category=category)
        for order, (code, datatype, required, description, values) in enumerate(attributes, start=1):
            attribute = Attribute.objects.create(service=service, code=code, datatype=datatype, required=required,
                                                 order=order, description=description)
            AttributeValue.objects.bulk_create(AttributeValue(attribute=attribute, key=k, name=n, order=i)
                                               for i, (k, n) in enumerate(values))
    # the hotline replay's requests of channel “接口” came in through this app
    cases = list(Case.objects.filter(channel=Channel.API, case_type__workflow="hotline").only("pk", "created_at"))
    Submission.objects.bulk_create(
        Submission(case=case, client=client, token=Submission.new_token(), created_at=case.created_at,
                   fingerprint=hashlib.sha256(f"open311-demo:{seed}:{case.pk}".encode()).hexdigest(),
                   device_id="FixMyStreet-Android" if case.pk % 2 else "FixMyStreet-iOS")
        for case in cases)
    return [f"Open311：接入应用“{CLIENT_NAME}”，api_key {key}；{len(cases)} 件经接口提交的诉求；"
            f"接口地址 /open311/v2/（jurisdiction_id {services.jurisdiction()}）"]


def wipe() -> None:
    ClientUpdate.objects.all().delete()
    Submission.objects.all().delete()
    Service.objects.all().delete()
    ApiClient.objects.all().delete()
