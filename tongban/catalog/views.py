"""Catalog pages: staff list/detail/import/export and savings; the public 办事指南 and 一次告知单 PDFs."""
from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from tongban.core import clock
from tongban.core.models import Role, Unit

from . import pdf, services, xlsx
from .forms import ImportForm
from .models import ItemType, Package, ServiceItem

LIMIT = 300


def can_import(user) -> bool:
    return user.is_superuser or user.has_role(Role.SYSADMIN)


def _filters(request) -> dict:
    g = request.GET
    return {"q": g.get("q", "").strip()[:100], "unit": g.get("unit", ""), "type": g.get("type", ""), "flag": g.get("flag", "")}


def _items(f: dict, *, public=False):
    return services.find_items(f["q"], unit_id=int(f["unit"]) if f["unit"].isdigit() else None,
                               item_type=f["type"] if f["type"] in ItemType.values else "", flag=f["flag"], public=public)


@login_required
def home(request):
    f = _filters(request)
    items = _items(f)
    total = items.count()
    return render(request, "catalog/home.html", {
        "f": f, "items": items[:LIMIT], "total": total, "types": ItemType.choices,
        "flags": [(k, v[0]) for k, v in services.FLAGS.items()],
        "units": Unit.objects.filter(service_items__isnull=False).distinct().order_by("name"),
        "counts": {"items": ServiceItem.objects.filter(active=True).count(), "packages": Package.objects.filter(active=True).count(),
                   "units": ServiceItem.objects.filter(active=True).values("unit").distinct().count(),
                   "negative": ServiceItem.objects.filter(active=True, negative_list=True).count()},
        "can_import": can_import(request.user), "tab": "items",
    })


@login_required
def package_list(request):
    q = request.GET.get("q", "").strip()[:100]
    packages = Package.objects.annotate(n=Count("entries")).order_by("code")
    if q:
        packages = packages.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(items__name__icontains=q)).distinct()
    rows = [(p, services.savings(p)) for p in packages]
    return render(request, "catalog/packages.html", {"rows": rows, "q": q, "tab": "packages"})


@login_required
def savings_page(request):
    return render(request, "catalog/savings.html", {"summary": services.savings_summary(), "tab": "savings"})


@login_required
def item_detail(request, code):
    item = get_object_or_404(ServiceItem.objects.select_related("unit"), code=code)
    return render(request, "catalog/item.html", {
        "item": item, "materials": services.item_materials(item), "fields": item.fields.order_by("order", "id"),
        "packages": item.packages.order_by("code"),
    })


@login_required
def package_detail(request, code):
    package = get_object_or_404(Package, code=code)
    return render(request, "catalog/package.html", {
        "package": package, "items": package.ordered_items(), "materials": services.merged_materials(package),
        "form": services.merged_form(package), "s": services.savings(package),
    })


@login_required
def export(request):
    response = HttpResponse(xlsx.workbook_bytes(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('政务服务事项目录.xlsx')}"
    return response


@login_required
def import_page(request):
    if not can_import(request.user):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = xlsx.import_xlsx(form.cleaned_data["file"])
        if result.ok:
            messages.success(request, "导入完成：" + result.summary())
            return redirect("catalog_home")
    return render(request, "catalog/import.html", {"form": form, "result": result, "sheets": xlsx.SHEETS},
                  status=400 if result and not result.ok else 200)


# ---------------------------------------------------------------- public 办事指南 (no login)


def guide_index(request):
    f = _filters(request)
    f["flag"] = ""
    searching = bool(f["q"] or f["unit"])
    items = list(_items(f, public=True)) if searching else []
    units = (Unit.objects.filter(service_items__active=True).annotate(n=Count("service_items", filter=Q(service_items__active=True)))
             .order_by("name"))
    return render(request, "catalog/guide_index.html", {
        "f": f, "items": items, "searching": searching, "units": units,
        "packages": Package.objects.filter(active=True).order_by("code"),
    })


def guide_item(request, code):
    item = get_object_or_404(ServiceItem.objects.select_related("unit"), code=code, active=True)
    return render(request, "catalog/guide_item.html", {
        "item": item, "materials": services.item_materials(item), "fields": item.fields.order_by("order", "id"),
        "packages": item.packages.filter(active=True).order_by("code"),
    })


def guide_package(request, code):
    package = get_object_or_404(Package, code=code, active=True)
    form = services.merged_form(package)
    return render(request, "catalog/guide_package.html", {
        "package": package, "items": package.ordered_items(), "materials": services.merged_materials(package),
        "asked": [f for f in form if f.to_fill], "produced": [f for f in form if not f.to_fill], "s": services.savings(package),
    })


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return response


def item_pdf(request, code):
    item = get_object_or_404(ServiceItem.objects.select_related("unit"), code=code, active=True)
    url = request.build_absolute_uri(reverse("catalog_guide", args=[item.code]))
    return _pdf_response(pdf.item_notice(item, url=url, today=timezone.localtime(clock.now()).date()), f"{item.name}-一次性告知单.pdf")


def package_pdf(request, code):
    package = get_object_or_404(Package, code=code, active=True)
    url = request.build_absolute_uri(reverse("catalog_guide_package", args=[package.code]))
    return _pdf_response(pdf.package_notice(package, url=url, today=timezone.localtime(clock.now()).date()), f"{package.name}-一次性告知单.pdf")
