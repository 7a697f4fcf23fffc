"""Navigation shown to each person, by role."""
from django.urls import reverse

from tongban.core.models import Role

NAV = [
    ("console", "受理台", (Role.OPERATOR, Role.DISPATCHER)),
    ("dispatch_queue", "派单", (Role.DISPATCHER, Role.OPERATOR)),
    ("inbox", "待办", (Role.HANDLER, Role.UNIT_ADMIN, Role.DISPATCHER)),
    ("callbacks", "回访", (Role.OPERATOR, Role.SUPERVISOR)),
    ("cases", "工单查询", ()),
    ("kb_list", "知识库", ()),
    ("board", "督办考核", ()),
    ("settings", "系统设置", (Role.SYSADMIN, Role.UNIT_ADMIN)),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    here = request.path
    items = []
    for name, label, roles in NAV:
        if roles and not user.has_role(*roles, Role.SYSADMIN):
            continue
        url = reverse(name)
        items.append({"url": url, "label": label, "active": here.startswith(url)})
    return {"nav": items}
