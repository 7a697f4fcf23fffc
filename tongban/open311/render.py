"""One response, two formats: GeoReport v2 XML (required by the spec) and its JSON mapping.

Documents are built as plain Python values — dicts (ordered), lists, strings, booleans, None —
and written out here. A list under a key becomes a wrapper element whose children take the
singular tag (``services`` → ``service``…), which is what the spec's XML and the clients'
parsers (FixMyStreet's XML::Simple GroupTags) expect.
"""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
CHILD_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (control characters other than tab, newline, return).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = CHILD_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, document) -> str:
    element = ET.Element(root)
    _fill(element, document)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def respond(fmt: str, root: str, document, status: int = 200) -> HttpResponse:
    """`document` is a list (of the root's children) or a dict (the root's fields)."""
    if fmt == "json":
        body = json.dumps(document, ensure_ascii=False)
    else:
        body = to_xml(root, document)
    return HttpResponse(body.encode("utf-8"), status=status, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """`<errors><error><code/><description/></error></errors>` or `[{"code": …, "description": …}]`."""
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status=status)
