"""Hardening (等保 入侵防范/恶意代码防范): production settings pass `check --deploy`, security headers with a
self-only CSP (and templates that need no inline script), uploads checked by content and size and served
only through the access-checked view, never executed or rendered as a page."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tongban.cases import attachments
from tongban.hotline import services as hotline

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}  # the browser tests set the last one
    env.update(DEBUG="0", SECRET_KEY="k" * 20 + "7f3a9c1e5b2d8a4f6c0e9b7d5a3f1c8e6b4d2a0f", ALLOWED_HOSTS="tongban.example.gov.cn",
               TONGBAN_VAR_DIR=str(ROOT / "var"), **extra)
    return env


def run_django(args, **extra):
    return subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=production_env(DJANGO_SETTINGS_MODULE="tongban.settings", **extra),
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_check_deploy_cleanly():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_strict():
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
            "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.TONGBAN_DEMO, s.SESSION_COOKIE_AGE)")
    result = run_django(["shell", "-v", "0", "-c", code])
    assert result.stdout.split() == ["True", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')", "True", "False", "1800"], result.stderr
    plain = run_django(["shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)"],
                       TONGBAN_HTTPS="0")
    assert plain.stdout.split() == ["0", "False"]  # a plain-HTTP intranet gets no HSTS (documented in docs/deploy.md)


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "-c", "import tongban.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(client, county):
    client.force_login(county.operator)
    for url in (reverse("login"), reverse("console"), "/api/v1/cases"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
        assert directives["style-src"] == "'self'" and directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert "unsafe-eval" not in csp and "http" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_samesite(client, county):
    response = client.post(reverse("login"), {"username": "operator", "password": "Tongban#2026"})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax" and not session["max-age"]  # ends with the browser, idle limit on the server
    assert settings.CSRF_COOKIE_HTTPONLY


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_templates_have_no_inline_script_or_event_handlers():
    """script-src 'self' would silently break them: keep behaviour in static files (e.g. data-autosubmit)."""
    offenders = []
    for template in (ROOT / "tongban").rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for rx in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in rx.finditer(text)]
    assert not offenders, "内联脚本或事件处理属性（CSP 不允许）：\n" + "\n".join(offenders)


# ---------------------------------------------------------------- uploads


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize("name, data", [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100),                 # a Windows executable named .jpg
    ("scan.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),                        # a Linux executable named .pdf
    ("shell.png", b"<?php system($_GET['c']); ?>"),                              # a script named .png
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),  # SVG can carry script
    ("fake.webp", b"RIFF\x00\x00\x00\x00WAVEfmt "),                               # RIFF, but not WEBP
])
def test_disguised_files_are_rejected_by_their_content(county, make_request, name, data):
    case = make_request()
    with pytest.raises(ValidationError, match="格式不受支持"):
        attachments.attach(case, upload(name, data, "image/jpeg"))
    assert not case.attachments.exists()


def test_oversize_and_empty_files_are_rejected(county, make_request, settings):
    settings.TONGBAN_UPLOAD_MAX_BYTES = 1024
    case = make_request()
    with pytest.raises(ValidationError, match="大小限制"):
        attachments.attach(case, upload("big.png", PNG + b"\x00" * 2000, "image/png"))

    class Unsized:  # a stream whose size the client did not declare: counted while reading
        name, size = "stream.png", None

        def read(self, n):
            return (PNG + b"\x00" * 5000)[:n]

    with pytest.raises(ValidationError, match="大小限制"):
        attachments.attach(case, Unsized())
    with pytest.raises(ValidationError, match="空文件"):
        attachments.attach(case, upload("empty.png", b""))


def test_accepted_files_are_stored_under_a_random_name_with_the_sniffed_type(county, make_request):
    case = make_request()
    att = attachments.attach(case, upload("../../etc/passwd.exe", PNG, "application/x-msdownload"), by=county.operator)
    assert att.content_type == "image/png" and att.file.name.endswith(".png") and "passwd" not in att.file.name
    assert "/" not in att.name and att.size == len(PNG)


@pytest.mark.django_db
def test_attachments_are_served_only_through_the_access_checked_view(client, county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    image = attachments.attach(case, upload("现场.png", PNG))
    pdf = attachments.attach(case, upload("材料.pdf", PDF))
    url = reverse("case_attachment", args=[case.number, image.pk])

    assert client.get(url).status_code == 302  # not logged in
    client.force_login(county.other_handler)  # another unit: the case does not exist for it
    assert client.get(url).status_code == 404
    assert client.get(f"/media/{image.file.name}").status_code == 404  # no direct route to the files

    client.force_login(county.handler)
    shown = client.get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff" and "sandbox" in shown["Content-Security-Policy"]
    assert b"".join(shown.streaming_content) == PNG
    document = client.get(reverse("case_attachment", args=[case.number, pdf.pk]))
    assert document["Content-Disposition"].startswith("attachment") and document["Content-Type"] == "application/pdf"
    other_case = make_request()
    assert client.get(reverse("case_attachment", args=[other_case.number, image.pk])).status_code == 404


@pytest.mark.django_db
def test_a_polyglot_image_is_never_rendered_as_a_page(client, county, make_request):
    case = make_request()
    att = attachments.attach(case, upload("x.gif", b"GIF89a<html><script>alert(document.cookie)</script>"))
    client.force_login(county.operator)
    response = client.get(reverse("case_attachment", args=[case.number, att.pk]))
    assert response["Content-Type"] == "image/gif" and response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_worker_imports_every_view_while_it_boots_not_in_its_first_request():
    """tongban.wsgi imports the URLconf (every view, the API and its schemas) at import time: a fresh
    interpreter that only imports it has the views loaded and the resolver filled."""
    import subprocess
    import sys

    probe = ("import sys, tongban.wsgi; from django.urls import get_resolver; "
             "print('tongban.hall.views' in sys.modules, 'tongban.api.cases' in sys.modules, get_resolver()._populated)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings"})
    assert out.stdout.split() == ["True", "True", "True"], out.stderr[-2000:]


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    """A model change without its migration would pass on the test database and fail on a real one."""
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # raises SystemExit(1) if one is missing
