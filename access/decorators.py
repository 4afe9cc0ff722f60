"""View decorators that ask the policy: a visitor is sent to log in, a refused user gets a 403 page."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import policy


def manage_required(view):
    """Staff pages outside the admin (regrades, staff queues): `policy.can_manage`."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        decision = policy.can_manage(request.user)
        if not decision:
            raise PermissionDenied(decision.message)
        return view(request, *args, **kwargs)

    return wrapped
