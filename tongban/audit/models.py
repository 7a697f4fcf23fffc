"""The security audit trail: append-only entries in an SM3 hash chain.

Each entry stores the hash of the entry before it (`prev_hash`) and its own hash over a canonical
serialisation (see services.canonical). Editing, deleting or inserting a row breaks the chain, which
`tongban audit verify` reports. Writers serialise on the single `AuditChain` row (the chain head).
"""
from django.db import models

GENESIS = "0" * 64


class AuditEntry(models.Model):
    seq = models.BigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    actor_id = models.BigIntegerField("操作人编号", null=True, blank=True)  # no foreign key: the trail outlives accounts
    actor = models.CharField("操作人", max_length=150, blank=True, db_index=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)
    action = models.CharField("事件", max_length=48, db_index=True)
    target = models.CharField("对象", max_length=200, blank=True, db_index=True)
    detail = models.TextField("详情（JSON）", blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "审计记录"
        ordering = ["-seq"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("审计记录只能追加，不能删除。")


class AuditChain(models.Model):
    """The head of the chain: the last sequence number and hash. One row (pk=1), locked by every writer."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = verbose_name_plural = "审计链头"


class AuditAnchor(models.Model):
    """Written by a purge: the last removed entry's sequence number and hash, so the rest still verifies."""

    created_at = models.DateTimeField()
    purged_before = models.DateTimeField()
    last_seq = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    removed = models.BigIntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "审计清理锚点"
        ordering = ["-last_seq"]


class PurgePermit(models.Model):
    """Present only inside a purge transaction; the database triggers refuse deletes without it."""

    before = models.DateTimeField()
