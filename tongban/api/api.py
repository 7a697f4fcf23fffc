"""/api/v1/: the REST API of 通办. Mounted in tongban/urls.py as path("api/v1/", api.urls)."""
from __future__ import annotations

from ninja import NinjaAPI

from . import actions, cases, errors, queues, reference, stats, tokens
from .auth import session_auth, token_auth

DESCRIPTION = """
通办（12345 接诉即办）对外接口：受理诉求、派单、签收、办结、回访等全部办理操作，以及工单查询和单位考核统计。

## 认证

1. 用网页登录的用户名和密码换取令牌：
   `POST /api/v1/auth/token`，请求体 `{"username": "…", "password": "…", "name": "用途说明"}`。
   响应中的 `token` **只显示这一次**，服务器只保存其 SHA-256 摘要；`expires_at` 为过期时间。
2. 之后每个请求都带上请求头 `Authorization: Bearer <token>`。
3. 不再使用时调用 `DELETE /api/v1/auth/token` 吊销；管理员也可在后台“接口令牌”中吊销。
   令牌过期、被吊销或账号停用后，请求返回 401。

已在网页登录的用户可直接在本文档页试用接口（使用登录会话）；此时 POST 等修改类请求须通过 CSRF 校验，
本页会自动附带 CSRF 令牌。

## 数据权限

接口与网页使用同一套数据权限：热线中心人员可见全部工单，承办单位只见本单位（及按配置可见的下级单位）办理过的工单。
不在权限范围内的工单一律按“不存在”处理（404），列表中也不出现。每个办理操作由业务规则判断能否执行。

## 分页

列表采用游标分页：响应为 `{"items": [...], "next_cursor": "…"}`，把 `next_cursor` 原样作为下一次请求的
`cursor` 参数；`next_cursor` 为空表示已到最后一页。`size` 为每页条数（1–200，默认 50）。

## 个人信息

诉求人姓名和联系电话在所有响应中均已脱敏（如 `张*`、`138****1234`）。

## 错误

所有错误均为 JSON：`{"detail": "中文说明", "errors": {"字段": "中文说明"}}`（`errors` 仅在字段错误时出现）。

| 状态码 | 含义 |
|---|---|
| 400 | 请求有误：JSON 格式错误、字段缺失或格式不正确、违反业务规则（如未填写答复意见） |
| 401 | 未认证或令牌无效 |
| 403 | 无权执行该操作（如非本单位工单的签收、缺少角色） |
| 404 | 工单不存在，或不在您的数据权限范围内 |
| 409 | 工单当前状态不允许该操作（如未签收就办结） |
"""


class TongbanAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__  # short, stable ids for generated clients


api = TongbanAPI(
    title="通办 API",
    version="1.0",
    description=DESCRIPTION,
    auth=[token_auth, session_auth],
    urls_namespace="api-v1",
    parser=errors.JsonObjectParser(),
)
errors.install(api)
for module in (tokens, cases, actions, queues, stats, reference):
    api.add_router("", module.router)
