"""Excel exports (offices live in Excel). Streams rows through openpyxl's write-only mode."""
from __future__ import annotations

import tempfile
from datetime import datetime
from urllib.parse import quote

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell


def xlsx_response(filename: str, title: str, headers: list[str], rows) -> FileResponse:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    ws.append([WriteOnlyCell(ws, value=h) for h in headers])
    for row in rows:
        ws.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    tmp = tempfile.TemporaryFile()
    wb.save(tmp)
    tmp.seek(0)
    response = FileResponse(tmp, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
