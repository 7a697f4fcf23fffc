from django import template
from django.urls import reverse

from tongban.notify.services import unread_count

register = template.Library()


@register.inclusion_tag("notify/_badge.html", takes_context=True)
def messages_badge(context):
    """The header's 消息 link with the unread count (one indexed count per page)."""
    user = context.get("user")
    return {"count": unread_count(user), "url": reverse("notify_inbox"),
            "show": bool(user and user.is_authenticated)}
