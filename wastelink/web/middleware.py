"""Thai first: the language comes from the user's choice (cookie, then profile), never from the browser.

Office PCs often run English-language browsers; the platform still opens in Thai unless the user picks English.
"""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ThaiFirstLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in self.supported:
            user = getattr(request, "user", None)
            preferred = getattr(user, "preferred_language", "") if user is not None and user.is_authenticated else ""
            code = preferred if preferred in self.supported else settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", code)
        translation.deactivate()
        return response


class RejectNulMiddleware:
    """Refuse text input holding NUL characters (400) before it reaches a view.

    PostgreSQL cannot store or compare NUL in text, so such input would otherwise end as a 500 there while SQLite
    accepts it. Uploaded files are not text and are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._nul_field(request)
        if field is not None:
            from django.http import HttpResponseBadRequest, JsonResponse

            if request.path.startswith("/api/"):
                return JsonResponse({"errors": [{"rule": "input.nul", "severity": "error", "field": field,
                                                 "message_en": "may not contain NUL characters",
                                                 "message_th": "ต้องไม่มีอักขระ NUL"}]}, status=400)  # fmt: skip
            return HttpResponseBadRequest("NUL characters are not accepted")
        return self.get_response(request)

    @staticmethod
    def _nul_field(request) -> str | None:
        if "\x00" in request.path:
            return "path"
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key.replace("\x00", "")
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method in ("POST", "PUT", "PATCH"):
            if content_type.startswith("application/json"):
                body = request.body
                if b"\x00" in body or b"\\u0000" in body:
                    return "body"
            elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
                for key, values in request.POST.lists():
                    if "\x00" in key or any("\x00" in v for v in values):
                        return key.replace("\x00", "")
        return None
