"""The API answers in JSON also where Django and django-ninja would answer in HTML: an address that
is not an endpoint (404) and a method an endpoint does not take (405)."""
from __future__ import annotations

from django.http import JsonResponse

PREFIX = "/api/v1/"


class JsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code not in (404, 405) or not request.path.startswith(PREFIX)
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        if response.status_code == 404:
            detail = "接口不存在：请对照接口文档 /api/v1/docs 检查地址。"
        else:
            allowed = response.get("Allow", "")
            detail = f"此接口不支持 {request.method} 请求" + (f"，可用：{allowed}。" if allowed else "。")
        answer = JsonResponse({"detail": detail}, status=response.status_code, json_dumps_params={"ensure_ascii": False})
        if response.has_header("Allow"):
            answer["Allow"] = response["Allow"]
        return answer
