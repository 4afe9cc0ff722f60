"""The header bell: the unread count for signed-in users, counted at most once per request and only if a
template actually shows it."""

from functools import cached_property

from . import selectors


class Bell:
    def __init__(self, user_id: int):
        self._user_id = user_id

    @cached_property
    def unread(self) -> int:
        return selectors.unread_count(user_id=self._user_id, cap=selectors.BELL_CAP)

    @property
    def label(self) -> str:
        return f"{selectors.BELL_CAP - 1}+" if self.unread >= selectors.BELL_CAP else str(self.unread)


def bell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # One Bell per request, however many templates (and RequestContexts) render it.
    if getattr(request, "_notification_bell", None) is None:
        request._notification_bell = Bell(user.pk)
    return {"notification_bell": request._notification_bell}
