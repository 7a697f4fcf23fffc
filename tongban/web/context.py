"""Navigation shown to each person, by role."""
from django.urls import NoReverseMatch, reverse

from tongban.cases.access import CASELESS_ROLES
from tongban.core.models import Role

NAV = [
    ("console", "受理台", (Role.OPERATOR, Role.DISPATCHER)),
    ("dispatch_queue", "派单", (Role.DISPATCHER, Role.OPERATOR)),
    ("inbox", "待办", (Role.HANDLER, Role.UNIT_ADMIN, Role.DISPATCHER)),
    ("callbacks", "回访", (Role.OPERATOR, Role.SUPERVISOR)),
    ("cases", "工单查询", ()),
    ("kb_list", "知识库", ()),
    ("board", "督办考核", ()),
    ("hotspot_list", "热点", (Role.SUPERVISOR, Role.DISPATCHER)),
    ("hall_home", "窗口受理", (Role.CLERK,)),
    ("hall_review", "办件审批", (Role.HANDLER, Role.UNIT_ADMIN)),
    ("catalog_home", "事项与一件事", ()),
    ("notify_home", "消息", (Role.SYSADMIN,)),
    ("audit_log", "审计", (Role.AUDITOR, Role.SECADMIN)),
    ("account_admin", "账号管理", (Role.SECADMIN,)),
    ("settings", "系统设置", (Role.SYSADMIN, Role.UNIT_ADMIN)),
]

SEPARATED = {"audit_log", "account_admin"}  # 三员分立: the system administrator does not see these


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    here = request.path
    items = []
    caseless = bool(user.role_set) and user.role_set <= CASELESS_ROLES  # 三员: no case pages
    for name, label, roles in NAV:
        if not roles and caseless:
            continue
        if roles and not user.has_role(*roles, *(() if name in SEPARATED else (Role.SYSADMIN,))):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a domain whose pages are not installed
            continue
        items.append({"url": url, "label": label, "active": here.startswith(url)})
    return {"nav": items}
