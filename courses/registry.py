"""Plug-in points for the apps that own graded item kinds (quizzes, notebook assignments, peer review).

`courses` knows the structure (weeks, items, packs, completion); another app registers, in its
AppConfig.ready(), how its kind of item is shown, read from and written to a content pack, and
when a learner has passed it. This keeps the dependency one way: those apps import courses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# (request, course, page: courses.selectors.ItemPage) -> HttpResponse, called only when the access
# policy allowed the learner to view the item.
ItemView = Callable[[Any, Any, Any], Any]


@dataclasses.dataclass(frozen=True)
class PackHandler:
    """How a kind of item travels in a content pack. `extra` is the item's YAML mapping less the
    common keys (kind, slug, title, preview, minutes).

    validate(extra, base) -> list of errors, each a message or (key, message); base is the course folder.
    apply(item, extra, base) -> None: create/update the kind's own rows for a saved Item (inside the
        import transaction, after validation passed).
    export(item, base) -> dict: the extra mapping to write back (and any files it names, under base).
    """

    validate: Callable[[dict, Path], list]
    apply: Callable[[Any, dict, Path], None]
    export: Callable[[Any, Path], dict]


# (user, items of that kind in one course) -> ids of the items the learner has passed
PassedChecker = Callable[[Any, Iterable[Any]], set[int]]

_item_views: dict[str, ItemView] = {}
_pack_handlers: dict[str, PackHandler] = {}
_passed_checkers: dict[str, PassedChecker] = {}


def register_item_view(kind: str, view: ItemView) -> None:
    _item_views[kind] = view


def item_view_for(kind: str) -> ItemView | None:
    return _item_views.get(kind)


def register_pack_handler(kind: str, handler: PackHandler) -> None:
    _pack_handlers[kind] = handler


def pack_handler_for(kind: str) -> PackHandler | None:
    return _pack_handlers.get(kind)


def register_passed_checker(kind: str, checker: PassedChecker) -> None:
    _passed_checkers[kind] = checker


def passed_checker_for(kind: str) -> PassedChecker | None:
    return _passed_checkers.get(kind)


def graded_kinds() -> set[str]:
    """Kinds that count towards course completion: those whose app says when they are passed."""
    return set(_passed_checkers)


# Ungraded in-video questions travel with their lecture in the pack and use the question format of the
# app that scores questions (quizzes). That app registers how one question mapping is validated:
# (question mapping) -> list of errors, each a message or (line, message). Without one, lecture
# questions are only checked for their `at` time and kept as they are.
QuestionValidator = Callable[[dict], list]
_question_validator: list[QuestionValidator] = []


def register_question_validator(validator: QuestionValidator) -> None:
    _question_validator[:] = [validator]


def question_validator() -> QuestionValidator | None:
    return _question_validator[0] if _question_validator else None


# Panels shown under every item page (lecture, reading, quiz, assignment, ...), whichever app renders it:
# (request, item) -> an HTML fragment (already escaped/sanitised by its provider) or None to show nothing.
# The forums register "questions about this lecture"; peer review or others may add theirs. A provider
# decides for itself what the user may see (it asks the access app).
ItemPanel = Callable[[Any, Any], "str | None"]
_item_panels: list[ItemPanel] = []


def register_item_panel(provider: ItemPanel) -> None:
    """Add a panel provider; registering the same callable twice keeps one."""
    if provider not in _item_panels:
        _item_panels.append(provider)


def item_panels() -> list[ItemPanel]:
    return list(_item_panels)
