"""Organisation (行政区划, 单位, 网格), people and roles, and case numbering."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q


class Level(models.IntegerChoices):
    """Administrative levels, top to bottom."""

    CITY = 1, "市"
    COUNTY = 2, "区县"
    TOWN = 3, "乡镇/街道"
    VILLAGE = 4, "村/社区"
    GRID = 5, "网格"


class Region(models.Model):
    """行政区划 or 网格: one node of the place tree."""

    code = models.CharField("区划代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级")

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name

    def full_name(self) -> str:
        parts, node = [], self
        while node is not None and node.level > Level.CITY:
            parts.append(node.name)
            node = node.parent
        return "".join(reversed(parts))


class UnitKind(models.TextChoices):
    CENTRE = "centre", "热线中心"
    DEPARTMENT = "department", "职能部门"
    TOWN = "town", "乡镇/街道"
    VILLAGE = "village", "村/社区"
    GRID = "grid", "网格"
    ENTERPRISE = "enterprise", "企事业单位"


class Unit(models.Model):
    """单位: a department, town office, village committee or grid that can hold cases.

    `path` is a materialised path of ids ("/1/4/17/") so that "this unit and all below it"
    is one indexed prefix query.
    """

    name = models.CharField("名称", max_length=64, unique=True)
    short_name = models.CharField("简称", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=16, choices=UnitKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="units", verbose_name="所在区划")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级单位")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sees_subunits = models.BooleanField("可见下级单位工单", default=False)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> int:
        return self.region.level

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
            if path != self.path:
                old = self.path
                Unit.objects.filter(pk=self.pk).update(path=path)
                self.path = path
                if old:  # moved: re-root the whole subtree
                    for child in Unit.objects.filter(path__startswith=old).exclude(pk=self.pk):
                        child.path = path + child.path[len(old):]
                        Unit.objects.filter(pk=child.pk).update(path=child.path)

    def subtree(self):
        return Unit.objects.filter(path__startswith=self.path)

    def is_below(self, other: "Unit") -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk


class Role(models.TextChoices):
    OPERATOR = "operator", "话务员"
    DISPATCHER = "dispatcher", "派单员"
    HANDLER = "handler", "承办人"
    UNIT_ADMIN = "unit_admin", "单位管理员"
    SUPERVISOR = "supervisor", "督办员"
    SYSADMIN = "sysadmin", "系统管理员"
    CLERK = "clerk", "窗口人员"  # 政务服务大厅 无差别综合窗口
    SECADMIN = "secadmin", "安全管理员"  # 三员分立: security administrator
    AUDITOR = "auditor", "审计管理员"  # 三员分立: audit administrator


# 三员分立: no account may hold two of these.
SEPARATED_ROLES = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR)
# Roles that must log in with a second factor (TOTP).
SECOND_FACTOR_ROLES = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR, Role.UNIT_ADMIN)


def separation_error(roles) -> str | None:
    """Chinese message when `roles` combine two separated administrator roles, else None (no database access)."""
    held = [r for r in SEPARATED_ROLES if r in set(roles)]
    if len(held) > 1:
        return f"三员分立：{'、'.join(Role(r).label for r in held)}不能由同一账号兼任。"
    return None


def _not_both(a: str, b: str) -> Q:
    return ~(Q(roles__contains=a) & Q(roles__contains=b))


class User(AbstractUser):
    """Staff account. `roles` is a comma-separated list of Role codes."""

    display_name = models.CharField("姓名", max_length=32, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name="所属单位")
    roles = models.CharField("角色", max_length=128, blank=True, help_text="逗号分隔的角色代码（见“角色”列表）")
    phone = models.CharField("手机号", max_length=20, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False,
                                               help_text="初始密码或管理员重置的密码：登录后必须先修改")
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True, editable=False)
    failed_logins = models.PositiveSmallIntegerField("连续登录失败次数", default=0, editable=False)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    is_demo = models.BooleanField("示范账号", default=False, help_text="由 tongban demo 生成；示范模式下可跳过首次登录的安全设置")

    class Meta:
        verbose_name = verbose_name_plural = "工作人员"
        constraints = [
            models.CheckConstraint(
                condition=_not_both(Role.SYSADMIN, Role.SECADMIN) & _not_both(Role.SYSADMIN, Role.AUDITOR)
                & _not_both(Role.SECADMIN, Role.AUDITOR),
                name="user_separated_admin_roles",
                violation_error_message="三员分立：系统管理员、安全管理员、审计管理员不能由同一账号兼任。",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.roles.split(",") if r.strip())

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.role_set if r in Role.values]

    def clean(self):
        super().clean()
        unknown = sorted(self.role_set - set(Role.values))
        if unknown:
            raise ValidationError({"roles": f"未知的角色代码：{'、'.join(unknown)}。"})
        message = separation_error(self.role_set)
        if message:
            raise ValidationError({"roles": message})

    @property
    def needs_second_factor(self) -> bool:
        """Administrative roles (and any superuser) must log in with TOTP."""
        return self.is_superuser or self.has_role(*SECOND_FACTOR_ROLES)


class Sequence(models.Model):
    """A named counter (case numbers per day). Incremented inside the caller's transaction."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField(default=0)

    @classmethod
    def next(cls, key: str) -> int:
        """One statement on the hot path: UPDATE … RETURNING (PostgreSQL, and SQLite since 3.35)."""
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(f'UPDATE {table} SET "value" = "value" + 1 WHERE "key" = %s RETURNING "value"', [key])
            row = cur.fetchone()
        if row is not None:
            return row[0]
        try:
            with transaction.atomic():  # the first number of a new key (once a day for case numbers)
                cls.objects.create(key=key, value=1)
            return 1
        except IntegrityError:  # created concurrently: increment theirs
            return cls.next(key)
