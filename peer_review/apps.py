from django.apps import AppConfig


class PeerReviewConfig(AppConfig):
    name = "peer_review"
    verbose_name = "Peer review"

    def ready(self) -> None:
        # Plug peer review into courses: how the item is shown, travels in a pack and is passed (a
        # released grade at the pass mark counts towards completion like any graded item).
        from courses import api as courses

        from . import events, pack, selectors, views

        courses.register_item_view("peer_review", views.peer_item)
        courses.register_pack_handler("peer_review", pack.handler)
        courses.register_passed_checker("peer_review", selectors.passed_item_ids)
        events.register_kinds()
