"""The audit trail (等保 安全审计): SM3 hash chain, append-only at model and database level, tamper
detection by `tongban audit verify`, concurrent writers, retention and purge with an anchor, what gets
recorded, and the audit administrator's page and export."""
import threading
from datetime import timedelta
from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tongban.audit import services
from tongban.audit.models import GENESIS, AuditAnchor, AuditChain, AuditEntry
from tongban.core import clock
from tongban.workdays.models import CalendarOverride

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def drop_guards():
    """What an intruder with database access would do first (rolled back with the test)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER audit_entry_guard ON audit_auditentry")
        else:
            cur.execute("DROP TRIGGER audit_entry_no_update")


def raw(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)


def some_entries(n=5):
    return [services.record("config.changed", target=f"item-{i}", detail={"i": i, "名称": "测试"}) for i in range(n)]


def verify_out() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


# ---------------------------------------------------------------- the chain


def test_entries_form_an_sm3_chain_that_verifies(county):
    entries = some_entries()
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.hash and after.seq == before.seq + 1
    e = entries[0]
    assert e.hash == services.sm3(services.canonical(e.seq, e.at, e.actor_id, e.actor, e.ip, e.action, e.target, e.detail, e.prev_hash))
    assert len(e.hash) == 64 and services.sm3(b"abc").startswith("66c7f0f4")  # the SM3 test vector
    first = AuditEntry.objects.order_by("seq").first()
    assert first.seq == 1 and first.prev_hash == GENESIS
    verdict = services.verify()
    assert verdict.ok and verdict.checked == AuditEntry.objects.count() and verdict.head_hash == entries[-1].hash
    assert "审计链完整" in verify_out()


def test_entries_cannot_be_changed_or_deleted_through_the_model(county):
    e = some_entries(1)[0]
    e.target = "改过"
    with pytest.raises(RuntimeError, match="只能追加"):
        e.save()
    with pytest.raises(RuntimeError, match="只能追加"):
        e.delete()


def test_the_database_refuses_updates(county):
    e = some_entries(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE audit_auditentry SET target = 'x' WHERE id = %s", [e.pk])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the DELETE guard is PostgreSQL's (SQLite: detected by the chain)")
def test_postgresql_refuses_deletes_outside_a_purge(county):
    e = some_entries(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM audit_auditentry WHERE id = %s", [e.pk])


def test_verify_finds_an_edited_row(county):
    entries = some_entries()
    drop_guards()
    raw("UPDATE audit_auditentry SET detail = %s WHERE seq = %s", ['{"i":99}', entries[2].seq])
    verdict = services.verify()
    assert not verdict.ok and verdict.seq == entries[2].seq and "内容被修改" in verdict.problem
    with pytest.raises(CommandError, match=f"第 {entries[2].seq} 条"):
        verify_out()


def test_verify_finds_an_edited_time_or_actor(county):
    entries = some_entries()
    drop_guards()
    raw("UPDATE audit_auditentry SET actor = 'someone' WHERE seq = %s", [entries[1].seq])
    assert services.verify().seq == entries[1].seq


def test_verify_finds_a_deleted_row(county):
    entries = some_entries()
    if connection.vendor == "postgresql":
        drop_guards()
    raw("DELETE FROM audit_auditentry WHERE seq = %s", [entries[2].seq])
    verdict = services.verify()
    assert not verdict.ok and verdict.seq == entries[2].seq and "缺失" in verdict.problem


def test_verify_finds_a_deleted_tail_and_an_appended_row(county):
    entries = some_entries()
    if connection.vendor == "postgresql":
        drop_guards()
    raw("DELETE FROM audit_auditentry WHERE seq = %s", [entries[-1].seq])
    verdict = services.verify()
    assert not verdict.ok and "末尾记录被删除" in verdict.problem


def test_verify_finds_a_forged_row_inserted_after_the_head(county):
    entries = some_entries()
    last = entries[-1]
    forged = AuditEntry(seq=last.seq + 1, at=clock.now(), actor_id=None, actor="auditor", ip="", action="auth.login", target="x",
                        detail="", prev_hash=last.hash)
    forged.hash = services.entry_hash(forged)  # a perfectly computed hash, but the head does not know it
    raw("INSERT INTO audit_auditentry (seq, at, actor_id, actor, ip, action, target, detail, prev_hash, hash) "
        "VALUES (%s, %s, NULL, %s, '', %s, %s, '', %s, %s)",
        [forged.seq, forged.at, forged.actor, forged.action, forged.target, forged.prev_hash, forged.hash])
    verdict = services.verify()
    assert not verdict.ok and "链头" in verdict.problem


def test_verify_finds_a_row_inserted_in_the_middle(county):
    entries = some_entries()
    drop_guards()
    # making room means renumbering the rest: every later row changes
    raw("UPDATE audit_auditentry SET seq = seq + 1000 WHERE seq > %s", [entries[1].seq])
    raw("UPDATE audit_auditentry SET seq = seq - 999 WHERE seq > 1000")
    raw("INSERT INTO audit_auditentry (seq, at, actor_id, actor, ip, action, target, detail, prev_hash, hash) "
        "VALUES (%s, %s, NULL, 'x', '', 'auth.login', 'x', '', %s, %s)", [entries[1].seq + 1, clock.now(), entries[1].hash, "0" * 64])
    verdict = services.verify()
    assert not verdict.ok and verdict.seq == entries[1].seq + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    before = AuditEntry.objects.count()
    errors = []

    def writer(n):
        try:
            for i in range(10):
                services.record("config.changed", target=f"w{n}-{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == before + 40 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert services.verify().ok
    assert AuditChain.objects.get().seq == seqs[-1]


# ---------------------------------------------------------------- retention


def test_purge_keeps_180_days_and_leaves_a_verifiable_chain(county):
    now = clock.now()
    with clock.at(now - timedelta(days=400)):
        old = some_entries(3)
    with clock.at(now - timedelta(days=200)):
        some_entries(2)
    recent = some_entries(2)
    with pytest.raises(services.PurgeRefused, match="180"):
        services.purge(now - timedelta(days=179))
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "purge", "--before", f"{(now - timedelta(days=10)):%Y-%m-%d}", stdout=StringIO())
    assert AuditEntry.objects.filter(pk=old[0].pk).exists()

    # the fixture's accounts were recorded "now", before our back-dated entries: purge cuts only a prefix
    # of the chain that is entirely old, so nothing goes and no hole is left
    assert services.purge(now - timedelta(days=300)) == 0
    assert AuditEntry.objects.filter(pk=old[0].pk).exists() and AuditEntry.objects.filter(pk=recent[0].pk).exists()
    assert services.verify().ok


def test_purge_cuts_the_old_prefix_and_anchors_it(db):
    now = clock.now()
    with clock.at(now - timedelta(days=400)):
        old = some_entries(3)
    with clock.at(now - timedelta(days=100)):
        young = some_entries(2)
    out = StringIO()
    call_command("audit", "purge", "--before", f"{(now - timedelta(days=300)):%Y-%m-%d}", stdout=out)
    assert "已清理 3 条" in out.getvalue()
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    anchor = AuditAnchor.objects.get()
    assert anchor.last_seq == old[-1].seq and anchor.last_hash == old[-1].hash and anchor.removed == 3
    assert AuditEntry.objects.filter(pk=young[0].pk).exists()
    assert services.verify().ok
    assert AuditEntry.objects.filter(action="audit.purge").exists()
    assert "审计链完整" in verify_out()


def test_purge_refuses_a_broken_chain(db):
    now = clock.now()
    with clock.at(now - timedelta(days=400)):
        entries = some_entries(3)
    drop_guards()
    raw("UPDATE audit_auditentry SET target = 'x' WHERE seq = %s", [entries[1].seq])
    with pytest.raises(services.PurgeRefused, match="校验未通过"):
        services.purge(now - timedelta(days=300))


# ---------------------------------------------------------------- what is recorded


def test_case_transitions_are_recorded(county, make_request):
    from tongban.hotline import services as hotline

    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    rows = list(AuditEntry.objects.filter(action="case.transition", target=case.number).order_by("seq"))
    assert [r.actor for r in rows] == ["operator", "dispatcher"]
    assert '"action":"dispatch"' in rows[1].detail and '"to":"pending_sign"' in rows[1].detail


def test_configuration_changes_are_recorded_with_the_actor(client, county):
    client.force_login(county.admin)
    client.post(reverse("case_type_edit", args=["complaint"]), {"name": "投诉", "sign_limit": 2, "sign_limit_unit": "hours",
                                                                "finish_limit_days": 7, "redo_limit_days": 5, "max_extensions": 2,
                                                                "max_extension_days": 5, "active": "on"})
    change = AuditEntry.objects.get(action="config.changed", target="complaint")
    assert change.actor == "sysadmin" and '"finish_limit_days":7' in change.detail and change.ip == "127.0.0.1"
    client.post(reverse("calendar") + "?year=2027", {"date": "2027-02-06", "is_workday": "on", "reason": "春节调休上班"})
    override = CalendarOverride.objects.get()
    client.post(reverse("calendar") + "?year=2027", {"delete": override.pk})
    assert AuditEntry.objects.filter(action="config.changed", target="2027-02-06").count() == 2


def test_exports_are_recorded(client, county):
    client.force_login(county.supervisor)
    client.get(reverse("cases_export"), {"state": "open"})
    client.get(reverse("board_export"), {"days": 7})
    client.get(reverse("kb_export"))
    exports = {e.target: e for e in AuditEntry.objects.filter(action="export", actor="supervisor")}
    assert set(exports) == {"工单清单", "三率考核", "知识库"}
    assert "state=open" in exports["工单清单"].detail


def test_the_generic_hook_takes_the_request_user_and_address(rf, county):
    request = rf.get("/", REMOTE_ADDR="203.0.113.5")
    request.user = county.dispatcher
    e = services.record("config.changed", target="派单规则", detail={"rule": 3}, request=request)
    assert (e.actor, e.actor_id, e.ip) == ("dispatcher", county.dispatcher.pk, "203.0.113.5")


# ---------------------------------------------------------------- the audit administrator's page


def test_the_audit_administrator_searches_pages_and_exports(client, county):
    auditor = UserFactory(username="aud", roles="auditor", unit=county.centre)
    for i in range(60):
        services.record("pii.unmask", actor=county.operator, target=f"20261123{i:05d}")
    client.force_login(auditor)
    page = client.get(reverse("audit_log"), {"actor": "operator", "action": "pii.unmask"})
    rows = page.context["rows"]
    assert len(rows) == 50 and all(e.actor == "operator" for e, _ in rows) and "查看完整个人信息" in page.content.decode()
    older = client.get(reverse("audit_log"), {"actor": "operator", "action": "pii.unmask", "before": page.context["next_before"]})
    assert len(older.context["rows"]) == 10 and older.context["next_before"] is None
    assert len(client.get(reverse("audit_log"), {"target": "2026112300007"}).context["rows"]) == 1
    today = timezone.localdate(clock.now()).isoformat()
    assert client.get(reverse("audit_log"), {"from": today, "to": today, "action": "pii.unmask"}).context["rows"]
    assert not client.get(reverse("audit_log"), {"to": "2000-01-01"}).context["rows"]

    response = client.get(reverse("audit_export"), {"action": "pii.unmask"})
    ws = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    table = list(ws.values)
    assert table[0][:5] == ("序号", "时间", "操作人", "来源地址", "事件") and len(table) == 61
    assert AuditEntry.objects.filter(action="audit.export", actor="aud").exists()


def test_only_the_audit_and_security_administrators_read_the_trail(client, county):
    sec = UserFactory(username="sec", roles="secadmin", unit=county.centre)
    for user in (county.operator, county.supervisor, county.admin):
        client.force_login(user)
        assert client.get(reverse("audit_log")).status_code == 403
        assert client.get(reverse("audit_export")).status_code == 403
    client.force_login(sec)
    assert client.get(reverse("audit_log")).status_code == 200
    assert client.get(reverse("audit_export")).status_code == 403  # reading yes, exporting is the auditor's
