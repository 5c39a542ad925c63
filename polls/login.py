"""Logging in, with failed attempts limited per account and address.

After LOGIN_ATTEMPTS failures for one username from one address within
LOGIN_LOCKOUT_SECONDS, that pair is refused (429) until the window passes,
whatever the password: guessing stays slow and other people are not locked
out. Counts live in Django's cache; several app servers need a shared cache
(see the README).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import render


def _key(request) -> str:
    username = request.POST.get("username", "").strip().casefold()
    address = request.META.get("REMOTE_ADDR", "")
    return f"login-failures:{address}:{username}"


class LoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        key = _key(request)
        if cache.get(key, 0) >= settings.LOGIN_ATTEMPTS:
            minutes = settings.LOGIN_LOCKOUT_SECONDS // 60
            ctx = {"locked": True, "minutes": minutes, "form": self.get_form()}
            return render(request, self.template_name, ctx, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        key = _key(self.request)
        cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
        cache.incr(key)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_key(self.request))
        return super().form_valid(form)
