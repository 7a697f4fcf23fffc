"""Every failure becomes a JSON answer with a Chinese message: {"detail": "...", "errors": {field: "..."}}.

400 bad input · 401 not authenticated · 403 not allowed · 404 not found or not in scope ·
409 the case's state does not allow the action. Nothing reaches the caller as a 500 page.
"""
from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from tongban.cases.access import AccessDenied
from tongban.cases.models import Case
from tongban.cases.workflow import TransitionError
from tongban.hotline.services import RuleError

logger = logging.getLogger("tongban.api")

NOT_FOUND = "工单不存在，或不在您的数据权限范围内。"
UNAUTHORIZED = "未认证：请在请求头中携带 Authorization: Bearer <令牌>（令牌由 POST /api/v1/auth/token 获取），或先登录网页。"
BAD_INPUT = "提交的数据有误，请按 errors 中的说明修改。"
BODY_PARAM = "data"  # every endpoint names its JSON body parameter `data`

REQUIRED = "该字段为必填项。"
BAD_FORMAT = "格式不正确。"

_TYPE_MESSAGES = {
    "missing": REQUIRED,
    "json_invalid": "JSON 格式不正确。",
    "int_parsing": BAD_FORMAT, "int_type": BAD_FORMAT, "int_from_float": BAD_FORMAT,
    "float_parsing": BAD_FORMAT, "float_type": BAD_FORMAT,
    "decimal_parsing": BAD_FORMAT, "decimal_type": BAD_FORMAT,
    "bool_parsing": BAD_FORMAT, "bool_type": BAD_FORMAT,
    "string_type": BAD_FORMAT, "list_type": BAD_FORMAT, "dict_type": BAD_FORMAT, "model_type": BAD_FORMAT,
    "model_attributes_type": BAD_FORMAT,
    "date_parsing": BAD_FORMAT, "date_type": BAD_FORMAT, "date_from_datetime_parsing": BAD_FORMAT,
    "date_from_datetime_inexact": BAD_FORMAT, "datetime_parsing": BAD_FORMAT, "datetime_type": BAD_FORMAT,
    "finite_number": BAD_FORMAT,
    "decimal_max_places": "小数位数过多。",
    "decimal_max_digits": "数字位数过多。",
    "extra_forbidden": "不支持该字段。",
    "string_pattern_mismatch": BAD_FORMAT,
}


class ApiError(Exception):
    """A plain error answer: status code and a Chinese message."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class FieldErrors(Exception):
    """Raised by the API layer for input that parses but names things that do not exist."""

    def __init__(self, errors: dict[str, str], detail: str = BAD_INPUT) -> None:
        self.errors = errors
        self.detail = detail
        super().__init__(detail)


class NotAnObject(ValueError):
    """The body is JSON but not a JSON object."""


class NulCharacter(ValueError):
    """A string with U+0000, which PostgreSQL cannot store or compare."""


NUL_MESSAGE = "不能包含空字符（\\u0000）。"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class JsonObjectParser(Parser):
    """Request bodies are JSON objects; anything else is refused before validation."""

    def parse_body(self, request):
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise NotAnObject("请求体应为 JSON 对象。")
        if _has_nul(data):
            raise NulCharacter(NUL_MESSAGE)
        return data

    def parse_querydict(self, data, list_fields, request):
        bad = [key for key, values in data.lists() if _has_nul(key) or _has_nul(values)]
        if bad:
            raise FieldErrors({key: NUL_MESSAGE for key in bad})
        return super().parse_querydict(data, list_fields, request)


def _num(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def field_message(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"不能小于 {_num(bound)}。" if kind == "greater_than_equal" else f"必须大于 {_num(bound)}。"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"不能大于 {_num(bound)}。" if kind == "less_than_equal" else f"必须小于 {_num(bound)}。"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "不能为空。" if n == 1 else f"长度不能少于 {n} 个字符。"
    if kind == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符。"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项。"
    if kind == "too_short":
        return f"至少 {ctx.get('min_length')} 项。"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ").replace("'", "").replace(", ", "、")
        return f"取值无效，可选值：{expected}。" if expected else "取值无效。"
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg") or BAD_FORMAT).removeprefix("Value error, ")
    return BAD_FORMAT


def field_name(loc) -> str:
    parts = [str(p) for p in loc]
    source = parts.pop(0) if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file") else ""
    if source == "body" and parts and parts[0] == BODY_PARAM:
        parts.pop(0)
    return ".".join(parts) or ("body" if source == "body" else source or "__all__")


def translate(errors: list[dict]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in errors:
        name = field_name(e.get("loc", ()))
        message = field_message(e)
        if name == "body" and e.get("type") == "missing":
            message = "请求体不能为空：请提交 JSON 对象。"
        elif name == "body" and e.get("type") in ("model_type", "model_attributes_type", "dict_type"):
            message = "请求体应为 JSON 对象。"
        out.setdefault(name, message)
    return out


def _json(api: NinjaAPI, request: HttpRequest, status: int, detail: str, errors: dict | None = None) -> HttpResponse:
    body = {"detail": detail}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def install(api: NinjaAPI) -> None:
    """Register the Chinese JSON error handlers on `api`."""

    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc: NinjaValidationError):
        return _json(api, request, 400, BAD_INPUT, translate(exc.errors))

    @api.exception_handler(ApiError)
    def _plain(request, exc: ApiError):
        return _json(api, request, exc.status, exc.detail)

    @api.exception_handler(FieldErrors)
    def _fields(request, exc: FieldErrors):
        return _json(api, request, 400, exc.detail, exc.errors)

    @api.exception_handler(DjangoValidationError)
    def _django_validation(request, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {("__all__" if k == "__all__" else k): "".join(str(m) for m in v) for k, v in exc.message_dict.items()}
            return _json(api, request, 400, BAD_INPUT, errors)
        return _json(api, request, 400, "".join(exc.messages) or BAD_INPUT)

    @api.exception_handler(RuleError)
    def _rule(request, exc: RuleError):
        return _json(api, request, 400, str(exc))

    @api.exception_handler(TransitionError)
    def _transition(request, exc: TransitionError):
        return _json(api, request, 409, str(exc))

    @api.exception_handler(AccessDenied)
    def _denied(request, exc: AccessDenied):
        return _json(api, request, 403, str(exc) or "您没有执行该操作的权限。")

    @api.exception_handler(Case.DoesNotExist)
    def _case_missing(request, exc):
        return _json(api, request, 404, NOT_FOUND)

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return _json(api, request, 404, "资源不存在。")

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        response = _json(api, request, 401, UNAUTHORIZED)
        response["WWW-Authenticate"] = 'Bearer realm="tongban"'
        return response

    @api.exception_handler(HttpError)
    def _http(request, exc: HttpError):
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            cause = exc.__cause__
            message = "请求体不是有效的 JSON。"
            if isinstance(cause, NotAnObject):
                message = "请求体应为 JSON 对象。"
            elif isinstance(cause, NulCharacter):
                message = "请求内容" + NUL_MESSAGE
        elif exc.status_code == 404 and message.startswith("Not Found"):
            message = "资源不存在。"
        elif exc.status_code == 403 and message == "Forbidden":
            message = "您没有执行该操作的权限。"
        return _json(api, request, exc.status_code, message)

    @api.exception_handler(Exception)
    def _unexpected(request, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path)
        return _json(api, request, 500, "服务器内部错误，已记录日志，请稍后重试或联系管理员。")
