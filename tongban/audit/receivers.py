"""What gets audited without the caller asking: logins and logouts, case transitions, account permission
changes, configuration changes (case types, the working-day calendar) and Django admin edits."""
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from tongban.cases.models import CaseEvent, CaseType
from tongban.workdays.models import CalendarOverride

from .services import record

User = get_user_model()
WATCHED_USER_FIELDS = ("roles", "is_active", "is_staff", "is_superuser", "unit_id", "must_change_password")
WATCHED_NAMES = set(WATCHED_USER_FIELDS) | {"unit"}
ADMIN_FLAGS = {1: "新增", 2: "修改", 3: "删除"}


@receiver(user_logged_in)
def _login(sender, request, user, **kwargs):
    record("auth.login", actor=user, target=user.username, request=request)


@receiver(user_logged_out)
def _logout(sender, request, user, **kwargs):
    if user is not None:
        record("auth.logout", actor=user, target=user.username, request=request)


@receiver(post_save, sender=CaseEvent)
def _case_event(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    record("case.transition", actor=instance.actor, target=instance.case.number, detail={
        "action": instance.action, "from": instance.from_state, "to": instance.to_state, "seq": instance.seq,
        "unit": instance.unit_id})


@receiver(pre_save, sender=User)
def _remember_user(sender, instance, update_fields=None, raw=False, **kwargs):
    instance._audit_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & WATCHED_NAMES:
        return
    instance._audit_before = User.objects.filter(pk=instance.pk).values(*WATCHED_USER_FIELDS).first()


@receiver(post_save, sender=User)
def _user_changed(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = {} if created else getattr(instance, "_audit_before", None)
    if before is None:
        return
    changes = {f: [before.get(f), getattr(instance, f)] for f in WATCHED_USER_FIELDS
               if before.get(f) != getattr(instance, f) and (not created or getattr(instance, f))}
    if changes:
        # services name the acting administrator on the instance; otherwise the request's user is the actor
        record("account.changed", actor=getattr(instance, "_audit_actor", None), target=instance.username,
               detail={"created": created, "changes": changes})


def _config(kind: str, target: str, deleted: bool = False, values: dict | None = None):
    record("config.changed", target=target, detail={"kind": kind, "deleted": deleted, **({"values": values} if values else {})})


@receiver(post_save, sender=CaseType)
def _case_type(sender, instance, raw=False, **kwargs):
    if not raw:
        _config("案件类型", instance.code, values={f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields
                                                 if f.name not in ("id",)})


@receiver(post_save, sender=CalendarOverride)
def _override_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _config("工作日历调整", str(instance.date), values={"is_workday": instance.is_workday, "reason": instance.reason})


@receiver(post_delete, sender=CalendarOverride)
def _override_deleted(sender, instance, **kwargs):
    _config("工作日历调整", str(instance.date), deleted=True)


@receiver(post_delete, sender=CaseType)
def _case_type_deleted(sender, instance, **kwargs):
    _config("案件类型", instance.code, deleted=True)


@receiver(post_save, sender=LogEntry)
def _admin_log(sender, instance, created, **kwargs):
    if created:
        record("admin.change", actor=instance.user, target=f"{instance.content_type.app_label}.{instance.content_type.model}:{instance.object_id}"[:200],
               detail={"flag": ADMIN_FLAGS.get(instance.action_flag, instance.action_flag), "object": instance.object_repr, "message": instance.get_change_message()})
