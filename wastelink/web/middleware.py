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
