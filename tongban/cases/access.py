"""Data scope (数据权限), in one place: who sees which cases and who may take which action.

Pages, the API, exports and statistics all start from `visible_cases(user)`.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from tongban.core.models import Role, Unit, UnitKind

from .models import Assignment, Case
from .workflow import Transition


class AccessDenied(Exception):
    """The person may not see or act on this case. The message is for people."""


def is_centre_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.unit_id and user.unit.kind == UnitKind.CENTRE) or bool(
        user and user.is_authenticated and user.has_role(Role.SYSADMIN)
    )


def scope_unit_ids(user) -> list[int]:
    """The units whose cases this person works on: their own, and sub-units where configured."""
    if not user.unit_id:
        return []
    if user.unit.sees_subunits:
        return list(Unit.objects.filter(path__startswith=user.unit.path).values_list("id", flat=True))
    return [user.unit_id]


# 三员分立: the security and audit administrators manage accounts and read the audit trail, not cases
CASELESS_ROLES = frozenset({Role.SECADMIN, Role.AUDITOR})


def visible_cases(user) -> QuerySet[Case]:
    if not (user and user.is_authenticated) or (user.role_set and user.role_set <= CASELESS_ROLES):
        return Case.objects.none()
    if is_centre_staff(user):
        return Case.objects.all()
    units = scope_unit_ids(user)
    held = Exists(Assignment.objects.filter(case=OuterRef("pk"), unit_id__in=units)) if units else Q(pk__in=[])
    return Case.objects.filter(held | Q(created_by=user))  # and what they reported themselves (网格员上报)


def get_visible_case(user, **lookup) -> Case:
    case = visible_cases(user).select_related("case_type", "unit", "category", "region").filter(**lookup).first()
    if case is None:
        raise Case.DoesNotExist("工单不存在，或不在您的数据权限范围内。")
    return case


def active_lead(case: Case) -> Assignment | None:
    return case.assignments.filter(role="lead", ended_at__isnull=True).order_by("-assigned_at", "-id").first()


def check_action(user, case: Case, t: Transition) -> None:
    """Raise AccessDenied unless `user` may take transition `t` on `case` now."""
    if t.actor == "system":
        if user is not None:
            raise AccessDenied(f"“{t.label}”由系统自动执行，不能手工操作。")
        return
    if user is None:
        return  # the product itself (jobs, demo) acting on behalf of the centre
    if t.roles and not user.has_role(*t.roles, Role.SYSADMIN):
        needed = "、".join(Role(r).label for r in t.roles)
        raise AccessDenied(f"“{t.label}”需要以下角色之一：{needed}。")
    if t.actor == "centre" and not is_centre_staff(user):
        raise AccessDenied(f"“{t.label}”只能由热线中心人员操作。")
    if t.actor == "holder" and case.unit_id != user.unit_id:
        raise AccessDenied(f"工单当前由“{case.unit or '热线中心'}”办理，您所在单位不能执行“{t.label}”。")
    if t.actor == "sender" and not is_centre_staff(user):
        lead = active_lead(case)
        if lead is None or lead.sent_by_unit_id != user.unit_id:
            raise AccessDenied(f"只有派出该工单的单位才能执行“{t.label}”。")
    if t.actor == "supervisor" and not visible_cases(user).filter(pk=case.pk).exists():
        raise AccessDenied("该工单不在您的督办范围内。")
