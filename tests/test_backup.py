"""`tongban backup` / `tongban restore`: round trips on the database under test (SQLite or PostgreSQL)."""
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.cases.attachments import attach
from tongban.cases.models import Attachment, Case, CaseEvent
from tongban.core.management.commands.backup import table_names
from tongban.core.management.commands.restore import read_archive
from tongban.hotline import services as hotline

pytestmark = pytest.mark.django_db(transaction=True)  # backup reads committed data, restore replaces it

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def filled(county, make_request, media):
    """A few cases through the loop, one with an attachment."""
    cases = [make_request(title=f"诉求{i}") for i in range(3)]
    hotline.dispatch(cases[0], county.housing, by=county.dispatcher)
    hotline.sign(cases[0], by=county.handler)
    att = attach(cases[0], SimpleUploadedFile("现场.png", PNG + b"photo"), by=county.handler)
    return cases, att


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def live_counts(tables) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for t in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(t)}")
            result[t] = cursor.fetchone()[0]
        return result


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def audit_chain_verifies() -> bool | None:
    """True/False once the audit app offers `tongban audit verify`; None before that."""
    from django.core.management import get_commands

    if "audit" not in get_commands():
        return None
    try:
        run("audit", "verify")
    except (CommandError, SystemExit) as exc:
        print("audit verify:", exc)
        return False
    return True


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
def test_round_trip_brings_back_every_row_and_file(filled, tmp_path, portable, make_request):
    cases, att = filled
    archive = tmp_path / "b.tar.gz"
    out = run("backup", output=str(archive), portable=portable)
    assert "已备份" in out and archive.exists()
    manifest = manifest_of(archive)
    before = live_counts(table_names())
    assert manifest["tables"] == before and manifest["tables"]["cases_case"] == 3
    assert f"media/{att.file.name}" in manifest["checksums"]

    # afterwards: a new case, an edit, a lost file
    make_request(title="备份之后的诉求")
    Case.objects.filter(pk=cases[1].pk).update(title="被改过")
    Path(att.file.path).unlink()

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(archive))
    assert Case.objects.count() == 4  # refused before changing anything

    out = run("restore", str(archive), yes=True)
    assert "各表行数与备份清单一致" in out
    assert live_counts(table_names()) == before
    assert Case.objects.get(pk=cases[1].pk).title == "诉求1"
    assert not Case.objects.filter(title="备份之后的诉求").exists()
    restored = Attachment.objects.get(pk=att.pk)
    assert Path(restored.file.path).read_bytes() == PNG + b"photo"
    assert CaseEvent.objects.filter(case=cases[0]).count() == 3
    hotline.intake(hotline.Intake(case_type=cases[0].case_type, title="恢复后新受理", content="内容"), by=None)  # ids carry on
    assert audit_chain_verifies() in (None, True)


def test_restore_into_an_empty_database_needs_no_confirmation(filled, tmp_path):
    archive = tmp_path / "b.tar.gz"
    run("backup", output=str(archive))
    call_command("flush", "--noinput", verbosity=0)
    assert Case.objects.count() == 0
    assert "一致" in run("restore", str(archive))
    assert Case.objects.count() == 3


def test_a_tampered_archive_is_refused_and_nothing_changes(filled, tmp_path):
    archive = tmp_path / "b.tar.gz"
    run("backup", output=str(archive))
    tampered = tmp_path / "t.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data + b"<script>"  # an uploaded file swapped for something else
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    Case.objects.filter(pk=filled[0][1].pk).update(title="现在的标题")
    with pytest.raises(CommandError, match="校验和不符"):
        run("restore", str(tampered), yes=True)
    assert Case.objects.get(pk=filled[0][1].pk).title == "现在的标题"


def test_not_a_backup_is_refused_in_chinese(tmp_path, db):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with pytest.raises(CommandError, match="已损坏"):
        run("restore", str(junk), yes=True)
    with pytest.raises(CommandError, match="找不到"):
        run("restore", str(tmp_path / "missing.tar.gz"))


def test_manifest_lists_every_member_with_its_checksum(filled, tmp_path):
    archive = tmp_path / "b.tar.gz"
    run("backup", output=str(archive))
    manifest = read_archive(archive, tmp_path / "x")
    assert set(manifest["checksums"]) == {manifest["database"], f"media/{filled[1].file.name}"}
    assert manifest["engine"] in ("sqlite", "postgresql") and manifest["tables"]["cases_caseevent"] >= 5


def test_postgres_without_client_tools_falls_back_to_the_portable_dump(filled, tmp_path, monkeypatch):
    from django.db import connection

    from tongban.core.management.commands import backup

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite always uses its own backup API")
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    archive = tmp_path / "b.tar.gz"
    run("backup", output=str(archive))
    assert manifest_of(archive)["database"] == "database.xml"
    Case.objects.filter(pk=filled[0][0].pk).update(title="改过")
    assert "一致" in run("restore", str(archive), yes=True)
    assert Case.objects.get(pk=filled[0][0].pk).title == "诉求0"
