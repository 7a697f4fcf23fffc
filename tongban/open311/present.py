"""GeoReport v2 documents (plain dicts, in the spec's field order) from services, cases and events.
Ids and codes are strings; datetimes ISO 8601 with the +08:00 offset. Nothing here names the
requester: no name, phone, e-mail, device or account id."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tongban.cases.models import Case, CaseEvent

from . import services
from .models import LIST_TYPES, Submission

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00+08:00"  # when this API's shape last changed


def when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def discovery(url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": "12345 政务服务便民热线中心（接入申请与问题反馈请联系系统管理员）",
        "key_service": "api_key 由热线中心系统管理员在“系统管理 → Open311 接入应用”中签发，或执行 tongban open311_client add。",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": url,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def service(info: services.ServiceInfo) -> dict:
    return {
        "service_code": info.code,
        "service_name": info.name,
        "description": info.description,
        "metadata": bool(info.attributes),
        "type": "realtime",
        "keywords": info.keywords,
        "group": info.group,
    }


def definition(info: services.ServiceInfo) -> dict:
    attributes = []
    for a in info.attributes:
        item = {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description or None,
            "order": a.order,
            "description": a.description,
        }
        if a.datatype in LIST_TYPES:
            item["values"] = [{"key": v.key, "name": v.name} for v in a.values.all()]
        attributes.append(item)
    return {"service_code": info.code, "attributes": attributes}


def created(submission: Submission) -> dict:
    return {
        "service_request_id": submission.case.number,
        "token": submission.token,
        "service_notice": services.service_notice(submission.case),
        "account_id": submission.account_id or None,
    }


def _coordinate(value) -> float | None:
    return float(value) if value is not None else None


def request(case: Case, notes: dict[int, str]) -> dict:
    service = services.service_of(case.category)
    submission: Submission | None = getattr(case, "open311", None)
    status = services.STATUS.get(case.state, "open")
    updated = case.updated_at
    if status == "closed":
        updated = case.closed_at or case.finished_at or case.updated_at
    return {
        "service_request_id": case.number,
        "status": status,
        "status_notes": notes.get(case.pk) or None,
        "service_name": service.name if service else (case.category.name if case.category_id else None),
        "service_code": str(service.pk) if service else None,
        "description": case.content,
        "agency_responsible": case.unit.name if case.unit_id else None,
        "service_notice": f"当前状态：{case.state_label}",
        "requested_datetime": when(case.created_at),
        "updated_datetime": when(updated),
        "expected_datetime": when(case.due_at),
        "address": case.address or None,
        "address_id": (submission.address_id if submission else "") or None,
        "zipcode": None,
        "lat": _coordinate(case.latitude),
        "long": _coordinate(case.longitude),
        "media_url": (submission.media_urls[0] if submission and submission.media_urls else None),
    }


def requests(cases: list[Case]) -> list[dict]:
    notes = services.status_notes(cases)
    return [request(c, notes) for c in cases]


def token(submission: Submission) -> dict:
    return {"service_request_id": submission.case.number, "token": submission.token}


def update(event: CaseEvent, status: str) -> dict:
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": status,
        "updated_datetime": when(event.created_at),
        "description": services.update_text(event),
        "media_url": None,
        "external_status_code": event.action,
    }
