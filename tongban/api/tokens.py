"""令牌: exchange a username and password for a Bearer token; revoke it."""
from __future__ import annotations

from django.contrib.auth import authenticate
from ninja import Router

from tongban.cases.access import is_centre_staff

from .compat import Status
from .errors import ApiError
from .models import ApiToken
from .schemas import ErrorOut, MeOut, TokenIn, TokenOut

router = Router(tags=["认证"])
WRONG_CREDENTIALS = "用户名或密码错误。"


@router.post(
    "/auth/token", auth=None, response={201: TokenOut, 400: ErrorOut, 401: ErrorOut},
    summary="用用户名和密码换取令牌",
    description=(
        "用网页登录的用户名和密码换取接口令牌。令牌只在本次响应中出现一次，服务器只保存其 SHA-256 摘要，"
        "遗失后只能重新申请。之后的请求在请求头中携带 `Authorization: Bearer <token>`。"
        "用户名或密码错误、账号已停用时返回 401。"
    ),
)
def create_token(request, data: TokenIn):
    user = authenticate(request, username=data.username, password=data.password)
    if user is None or not user.is_active:
        raise ApiError(401, WRONG_CREDENTIALS)
    row, token = ApiToken.issue(user, data.name.strip())
    return Status(201, {"token": token, "prefix": row.prefix, "name": row.name, "expires_at": row.expires_at})


@router.delete(
    "/auth/token", response={204: None, 400: ErrorOut, 401: ErrorOut},
    summary="吊销当前令牌",
    description="吊销本次请求所用的令牌，之后它不能再使用。使用网页登录状态调用时返回 400。",
)
def revoke_token(request):
    row = getattr(request, "api_token", None)
    if row is None:
        raise ApiError(400, "本次请求没有使用令牌，无可吊销。")
    ApiToken.objects.filter(pk=row.pk).update(revoked=True)
    ApiToken.forget_recent()
    return Status(204, None)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户", description="返回令牌（或登录会话）所属的用户、单位和角色。")
def me(request):
    user = request.auth
    return {
        "username": user.username,
        "display_name": str(user),
        "unit": {"id": user.unit.pk, "name": user.unit.name} if user.unit_id else None,
        "roles": sorted(user.role_set),
        "role_labels": user.role_labels(),
        "is_centre_staff": is_centre_staff(user),
        "auth": "token" if getattr(request, "api_token", None) else "session",
    }

