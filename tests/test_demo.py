"""`tongban demo` (虚构示范数据) and the taxonomy loader.

One small demo (300 requests over 30 days) is built once for the module, on a fixed clock, and
rolled back at the end; the tests only read it (each in its own savepoint).
"""
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F

from tongban.cases.models import Case, CaseEvent, Category
from tongban.core import clock
from tongban.core.models import Level, Region, Role, Unit, UnitKind, User
from tongban.demo import build
from tongban.hotline.choices import RefusalReason
from tongban.hotline.taxonomy import TaxonomyError, load_taxonomy
from tongban.hotline.workflow import HOTLINE

from .conftest import local

NOW = local(2026, 11, 25, 15, 30)  # a Wednesday afternoon
REQUESTS, DAYS = 300, 30


def titles_digest(titles) -> str:
    h = hashlib.sha256()
    for title in titles:
        h.update(title.encode() + b"\n")
    return h.hexdigest()


def replayed():
    """The hotline replay's cases (other domains' demo modules add their own: 办件, portal requests, and
    the hotspot demo's burst, taken with idempotency keys)."""
    return Case.objects.filter(case_type__workflow=HOTLINE.code, portal__isnull=True, intake_key__isnull=True)


def digest() -> str:
    return titles_digest(replayed().order_by("number").values_list("title", flat=True))


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            with clock.at(NOW):
                output = run(requests=REQUESTS, days=DAYS)
            yield output
            transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


# ---- tests that do not need the demo (first, before the module's demo is built)


def test_reset_asks_for_confirmation_when_other_data_exists(db):
    region = Region.objects.create(code="110000", name="北京市", level=Level.CITY)
    Unit.objects.create(name="真实单位", kind=UnitKind.DEPARTMENT, region=region)
    with pytest.raises(CommandError, match="--yes"):
        run("--reset", requests=5)
    assert Unit.objects.filter(name="真实单位").exists()


def test_taxonomy_loader_is_idempotent(db, tmp_path):
    created = load_taxonomy()
    assert created == Category.objects.count() > 500
    assert Category.objects.filter(level=1).count() == 15
    assert set(Category.objects.values_list("level", flat=True)) == {1, 2, 3}
    leaf = Category.objects.get(full_name="城乡建设/住房保障与房地产/物业服务")
    assert leaf.parent.full_name == "城乡建设/住房保障与房地产" and leaf.top().name == "城乡建设"
    assert load_taxonomy() == 0
    extra = tmp_path / "extra.csv"
    extra.write_text("level1,level2,level3\n城乡建设,住房保障与房地产,物业服务\n城乡建设,新二级,\n", encoding="utf-8")
    assert load_taxonomy(extra) == 1
    out = StringIO()
    call_command("load_taxonomy", stdout=out)
    assert "没有需要新增" in out.getvalue() and "一级 15 个" in out.getvalue()


def test_taxonomy_loader_rejects_a_bad_file_in_chinese(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="表头"):
        load_taxonomy(bad)
    with pytest.raises(CommandError, match="分类导入失败"):
        call_command("load_taxonomy", file=str(tmp_path / "missing.csv"), stdout=StringIO())
    gap = tmp_path / "gap.csv"
    gap.write_text("level1,level2,level3\n新分类,,物业\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="第 2 行"):
        load_taxonomy(gap)
    assert not Category.objects.filter(name="新分类").exists()


# ---- the demo


def test_a_fictional_county_with_towns_villages_grids_and_every_kind_of_unit(demo):
    assert "虚构示范数据" in demo
    towns = Region.objects.filter(level=Level.TOWN)
    assert towns.count() >= 10
    for town in towns:
        villages = town.children.all()
        assert 2 <= villages.count() <= 4, town
        for village in villages:
            assert 1 <= village.children.count() <= 3, village
    assert set(Unit.objects.values_list("kind", flat=True)) == set(UnitKind.values)
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT).count() >= 14
    for office in Unit.objects.filter(kind=UnitKind.TOWN):
        assert office.sees_subunits and office.children.filter(kind=UnitKind.VILLAGE).exists()
    for grid in Unit.objects.filter(kind=UnitKind.GRID):
        assert grid.parent.kind == UnitKind.VILLAGE and grid.is_below(grid.parent.parent)


def test_an_account_for_every_role_sharing_the_documented_password(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the module's build used it
    users = list(User.objects.all())
    for role in Role.values:
        assert any(role in u.role_set for u in users), role
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser and admin.has_perm("core.change_unit") and not admin.has_perm("core.change_user")
    assert admin.is_demo and admin.must_change_password
    assert User.objects.get(username="operator1").check_password("Demo#2026")
    assert User.objects.get(username="zhujian").unit.name == "县住房和城乡建设局"
    assert "operator1" in demo and "Demo#2026" in demo
    for unit in Unit.objects.filter(kind__in=[UnitKind.DEPARTMENT, UnitKind.TOWN, UnitKind.ENTERPRISE]).exclude(name="县政务服务中心"):
        roles = {r for u in unit.staff.all() for r in u.role_set}
        assert {Role.HANDLER, Role.UNIT_ADMIN} <= roles, unit
    assert {Role.CLERK, Role.UNIT_ADMIN} <= {r for u in User.objects.filter(unit__name="县政务服务中心") for r in u.role_set}


def test_every_state_and_scenario_is_present(demo):
    assert replayed().count() == REQUESTS
    assert set(replayed().values_list("state", flat=True)) == set(HOTLINE.states)
    refused = set(CaseEvent.objects.filter(action="refuse").values_list("outcome", flat=True))
    assert refused == set(RefusalReason.values)
    for action in ("relay", "reassign", "keep", "answer", "merge", "close_duplicate", "suspend", "resume",
                   "request_extension", "supervise", "progress"):
        assert CaseEvent.objects.filter(action=action).exists(), action
    assert CaseEvent.objects.filter(action="decide_extension", outcome="approved").exists()
    assert CaseEvent.objects.filter(action="decide_extension", outcome="denied").exists()
    assert Case.objects.filter(reopen_count__gt=0, state="closed").exists()
    assert Case.objects.filter(state="handling", due_at__lt=NOW).exists()  # red
    assert Case.objects.filter(state="merged").exists() and Case.objects.filter(duplicate_of__isnull=False, state="closed").exists()
    assert CaseEvent.objects.filter(action="relay", unit__kind=UnitKind.VILLAGE).exists()


def test_the_cases_look_like_a_real_hotline(demo):
    by_type = dict(replayed().values_list("case_type__code").annotate(n=Count("id")))
    assert set(by_type) == {"consult", "help", "complaint", "report", "suggestion", "praise"}
    assert by_type["consult"] > by_type["report"] > 0
    channels = dict(Case.objects.values_list("channel").annotate(n=Count("id")))
    assert channels["phone"] > REQUESTS / 3
    callbacks = dict(CaseEvent.objects.filter(action="callback").exclude(outcome="unreached")
                     .values_list("outcome").annotate(n=Count("id")))
    good = callbacks.get("satisfied", 0) + callbacks.get("basic", 0)
    assert 0.8 <= good / sum(callbacks.values()) <= 0.97
    # callers who called before, so that 历史来电 shows something
    assert Case.objects.values("requester_phone").annotate(n=Count("id")).filter(n__gt=1).exists()
    # real messages with their anonymised places replaced
    assert not Case.objects.filter(title__regex=r"[A-Z]\d*[市区县]").exists()
    assert Case.objects.filter(category__isnull=False).count() > REQUESTS * 0.9
    assert Category.objects.filter(full_name="城乡建设", default_unit__name="县住房和城乡建设局").exists()


def test_every_case_was_driven_forward_in_time_through_the_services(demo):
    assert not Case.objects.annotate(n=Count("events")).exclude(n=F("last_event_seq")).exists()
    assert not Case.objects.filter(created_at__gt=NOW).exists()
    assert not Case.objects.filter(created_at__lt=local(2026, 10, 26)).exists()
    assert not CaseEvent.objects.filter(created_at__gt=NOW).exists()
    previous = {}
    for case_id, seq, at, action in CaseEvent.objects.order_by("case", "seq").values_list("case", "seq", "created_at", "action"):
        if seq == 1:
            assert action == "create"
        else:
            last_seq, last_at = previous[case_id]
            assert last_seq == seq - 1 and at >= last_at, (case_id, seq)
        previous[case_id] = (seq, at)


def test_if_empty_changes_nothing_and_a_second_build_is_refused(demo):
    before = (Case.objects.count(), CaseEvent.objects.count(), User.objects.count(), Unit.objects.count())
    out = run("--if-empty")
    assert "跳过" in out and "operator1" in out  # the accounts are shown again for `make run`
    assert (Case.objects.count(), CaseEvent.objects.count(), User.objects.count(), Unit.objects.count()) == before
    with pytest.raises(CommandError, match="--reset"):
        run(requests=10)


def test_accounts_are_listed(demo):
    out = run("--accounts")
    assert "operator1" in out and "Demo#2026" in out and "县12345热线中心" in out


def test_the_same_seed_gives_the_same_requests_in_the_same_order(demo):
    """The cases were created in plan order; planning again with the same seed gives the same titles."""
    built = digest()
    build.wipe()
    with transaction.atomic(), clock.at(NOW):
        org = build.create_org(2026)
        categories = build.setup_taxonomy(org)
        same = build.Planner(org, categories, seed=2026, end=NOW, days=DAYS).plan(REQUESTS)
        other = build.Planner(org, categories, seed=7, end=NOW, days=DAYS).plan(REQUESTS)
    assert titles_digest(p.title for p in same) == built
    assert titles_digest(p.title for p in other) != built


def test_reset_rebuilds(demo):
    before = Case.objects.count()
    with clock.at(NOW):
        out = run("--reset", requests=30, days=5)
    assert "已清除" in out and f"工单 {before} 件" in out
    assert replayed().count() == 30 and Unit.objects.filter(kind=UnitKind.TOWN).count() >= 10
    assert User.objects.get(username="operator1").check_password("Demo#2026")


def test_the_demo_board_reads_its_rollup_and_matches_the_events(demo):
    from datetime import timedelta

    from django.utils import timezone

    from tongban.analytics import metrics
    from tongban.analytics.models import RollupMark, UnitDayStats

    assert RollupMark.objects.get().until == timezone.localdate(NOW)
    assert UnitDayStats.objects.exists()
    end = NOW
    start = end - timedelta(days=20)
    rolled = [(s.unit_id, s.received, s.callbacks, s.satisfied) for s in metrics.unit_scores(start, end)]
    RollupMark.objects.all().delete()  # forces the all-live path
    live = [(s.unit_id, s.received, s.callbacks, s.satisfied) for s in metrics.unit_scores(start, end)]
    assert rolled == live and rolled


def test_the_demo_shows_a_growing_hotspot_with_an_alert(demo):
    """The planted water outage in one village is one alerted cluster on the supervisor's page."""
    from tongban.hotspots.models import Run

    run = Run.objects.order_by("-id").first()
    alerted = list(run.hotspots.filter(alert=True))
    assert run.alert_count >= 1 and alerted
    water = [h for h in alerted if h.cases.filter(title__contains="停水").exists()]
    assert water and water[0].recent_count >= 5
    assert "预警：" in demo
