"""Forum pages. Each view reads the request, calls one selector or service, and renders; refusals are
ForumError (a form error or a message) or the access policy's sentence, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from courses import api as courses

from . import charts, metrics, selectors, services
from .models import FlagReason, SanctionKind, ThreadKind
from .rules import ForumError, check_can_moderate, check_can_read


def _course_of(forum):
    return courses.course_get(slug=courses.course_facts(course_id=forum.course_id).slug)


def _refused(request, verdict, status=403):
    return render(request, "forums/refused.html", {"message": verdict.message, "code": verdict.code}, status=status)


def _page_number(request) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 6 else 1


# ---- lists --------------------------------------------------------------------------------------


def index(request):
    return render(request, "forums/index.html", {"cards": selectors.forums_index()})


def forum(request, course_slug, topic_slug=None):
    forum, course = selectors.forum_get(course_slug=course_slug)
    verdict = check_can_read(request.user, forum)
    if not verdict:
        return _refused(request, verdict)
    topic = selectors.topic_get(forum=forum, slug=topic_slug) if topic_slug else None
    filters = selectors.ListFilters.from_query(request.GET)
    page = selectors.forum_page(
        viewer=request.user, forum=forum, course=course, topic=topic, filters=filters, page=_page_number(request)
    )
    template = (
        "forums/_thread_list.html" if request.htmx and request.htmx.target == "thread-list" else "forums/forum.html"
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"page": page, "course": course, "base_query": query.urlencode()})


# ---- one thread ---------------------------------------------------------------------------------


def thread(request, thread_id):
    thread = selectors.thread_get(thread_id=thread_id)
    if thread.merged_into_id:
        messages.info(request, f"“{thread.title}” was merged into this thread.")
        return redirect(thread.merged_into)
    verdict = check_can_read(request.user, thread.forum)
    if not verdict:
        return _refused(request, verdict)
    course = _course_of(thread.forum)
    page = selectors.thread_page(viewer=request.user, thread=thread, course=course)
    return render(request, "forums/thread.html", {"page": page, "course": course, "flag_reasons": FlagReason.choices})


def _back(post_or_thread):
    return redirect(post_or_thread.get_absolute_url())


def _run(request, action, *, success: str = "", back):
    """Run a service; its ForumError becomes a message on the page the user came from."""
    try:
        result = action()
    except ForumError as exc:
        messages.error(request, str(exc))
        return back, None
    if success:
        messages.success(request, success)
    return back, result


@login_required
@require_POST
def reply(request, thread_id):
    thread = selectors.thread_get(thread_id=thread_id)
    back = redirect(thread)
    try:
        post = services.reply_create(
            author=request.user,
            thread=thread,
            body=request.POST.get("body", ""),
            anonymous=request.POST.get("anonymous") == "1",
        )
    except ForumError as exc:
        messages.error(request, str(exc))
        request.session["forum_draft"] = request.POST.get("body", "")[:20000]
        return back
    if post.state == "pending":
        messages.info(request, services.HELD_MESSAGE)
    return redirect(post.get_absolute_url())


@login_required
@require_POST
def comment(request, post_id):
    parent = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    try:
        post = services.comment_create(
            author=request.user,
            reply=parent,
            body=request.POST.get("body", ""),
            anonymous=request.POST.get("anonymous") == "1",
        )
    except ForumError as exc:
        messages.error(request, str(exc))
        return redirect(parent.get_absolute_url())
    if post.state == "pending":
        messages.info(request, services.HELD_MESSAGE)
    return redirect(post.get_absolute_url())


@login_required
@require_POST
def vote(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    try:
        voted = services.vote_toggle(user=request.user, post=post)
    except ForumError as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400)
        messages.error(request, str(exc))
        return redirect(post.get_absolute_url())
    if request.htmx:
        return render(request, "forums/_vote.html", {"post": post, "voted": voted, "can_vote": True})
    return redirect(post.get_absolute_url())


@login_required
@require_POST
def accept(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    back, accepted = _run(
        request, lambda: services.answer_accept(actor=request.user, post=post), back=redirect(post.get_absolute_url())
    )
    if accepted is not None:
        messages.success(request, "Answer accepted: it now shows first." if accepted else "Acceptance withdrawn.")
    return back


@login_required
@require_POST
def endorse(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    back, endorsed = _run(
        request, lambda: services.answer_endorse(actor=request.user, post=post), back=redirect(post.get_absolute_url())
    )
    if endorsed is not None:
        messages.success(request, "Answer endorsed." if endorsed else "Endorsement withdrawn.")
    return back


@login_required
def edit(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    error = ""
    if request.method == "POST":
        try:
            services.post_edit(
                editor=request.user,
                post=post,
                body=request.POST.get("body", ""),
                title=request.POST.get("title") if post.kind == "opening" else None,
                reason=request.POST.get("reason", ""),
            )
        except ForumError as exc:
            error = str(exc)
        else:
            messages.success(request, "Saved. The earlier version is kept in the post's history.")
            return redirect(post.get_absolute_url())
    from .rules import check_can_edit

    verdict = check_can_edit(request.user, post)
    if not verdict:
        return _refused(request, verdict)
    context = {
        "post": post,
        "thread": post.thread,
        "course": _course_of(post.thread.forum),
        "error": error,
        "by_moderator": post.author_id != request.user.pk,
        "body": request.POST.get("body", post.body),
        "title": request.POST.get("title", post.thread.title),
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "forums/edit.html", context, status=400 if error else 200)


@login_required
@require_POST
def delete(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    thread = post.thread
    back, _ = _run(
        request,
        lambda: services.post_delete(actor=request.user, post=post, reason=request.POST.get("reason", "")),
        success="Deleted.",
        back=None,
    )
    if back is None and post.kind == "opening":
        return redirect("forums:forum", course_slug=_course_of(thread.forum).slug)
    return redirect(thread)


def history(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    revisions = selectors.post_history(viewer=request.user, post=post)
    return render(
        request,
        "forums/history.html",
        {"post": post, "thread": post.thread, "revisions": revisions, "course": _course_of(post.thread.forum)},
    )


@login_required
def flag(request, post_id):
    post = selectors.post_for_viewer(viewer=request.user, post_id=post_id)
    error = ""
    if request.method == "POST":
        try:
            services.flag_create(
                flagger=request.user,
                post=post,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
        except ForumError as exc:
            error = str(exc)
        else:
            messages.success(request, "Thanks: the moderators have been told and will look at it.")
            return redirect(post.thread)
    return render(
        request,
        "forums/flag.html",
        {
            "post": post,
            "thread": post.thread,
            "reasons": FlagReason.choices,
            "error": error,
            "course": _course_of(post.thread.forum),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def follow(request, course_slug=None, topic_slug=None, thread_id=None):
    on = request.POST.get("on") == "1"
    if thread_id is not None:
        target = selectors.thread_get(thread_id=thread_id)
        kwargs, back = {"thread": target}, target.get_absolute_url()
    else:
        forum, _ = selectors.forum_get(course_slug=course_slug)
        if topic_slug:
            topic = selectors.topic_get(forum=forum, slug=topic_slug)
            kwargs, back = {"topic": topic}, reverse("forums:topic", args=[course_slug, topic_slug])
        else:
            kwargs, back = {"forum": forum}, reverse("forums:forum", args=[course_slug])
    try:
        services.follow_set(user=request.user, on=on, **kwargs)
    except ForumError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Following: you will be notified." if on else "You no longer follow it.")
    return redirect(back)


# ---- asking -------------------------------------------------------------------------------------


@login_required
def ask(request, course_slug):
    forum, course = selectors.forum_get(course_slug=course_slug)
    item_param = request.GET.get("item") or request.POST.get("item") or ""
    item_id = int(item_param) if item_param.isdigit() else None
    page = selectors.ask_page(
        viewer=request.user,
        forum=forum,
        course=course,
        topic_slug=request.POST.get("topic") or request.GET.get("topic", ""),
        item_id=item_id,
    )
    error = ""
    if request.method == "POST":
        topic = next((t for t in page.topics if t.slug == request.POST.get("topic")), None)
        try:
            thread = services.thread_create(
                author=request.user,
                forum=forum,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                kind=request.POST.get("kind", ThreadKind.QUESTION),
                topic=topic,
                item_id=page.item_id,
                anonymous=request.POST.get("anonymous") == "1",
            )
        except ForumError as exc:
            error = str(exc)
        else:
            if thread.state == "pending":
                messages.info(request, services.HELD_MESSAGE)
            else:
                messages.success(request, "Posted. You follow your thread: replies will be notified to you.")
            return redirect(thread)
    context = {
        "page": page,
        "course": course,
        "error": error,
        "form": {
            "title": request.POST.get("title", request.GET.get("title", "")),
            "body": request.POST.get("body", ""),
            "kind": request.POST.get("kind", ThreadKind.QUESTION),
            "anonymous": request.POST.get("anonymous") == "1",
        },
    }
    status = 400 if error else 403 if not page.can_post else 200
    return render(request, "forums/ask.html", context, status=status)


@require_GET
def similar(request, course_slug):
    """The suggestion box under the title field (htmx, debounced on the page)."""
    forum, _ = selectors.forum_get(course_slug=course_slug)
    found = selectors.suggestions(
        viewer=request.user,
        forum=forum,
        title=request.GET.get("title", "")[:200],
        body=request.GET.get("body", "")[:2000],
    )
    return render(request, "forums/_suggestions.html", {"suggestions": found})


# ---- moderation ---------------------------------------------------------------------------------


def _moderator_forum(request, course_slug):
    forum, course = selectors.forum_get(course_slug=course_slug)
    verdict = check_can_moderate(request.user, forum)
    return forum, course, verdict


@login_required
def dashboard(request, course_slug):
    forum, course, verdict = _moderator_forum(request, course_slug)
    if not verdict:
        return _refused(request, verdict)
    week = request.GET.get("week", "")
    item = request.GET.get("item", "")
    figures = metrics.response_times(forum=forum)
    context = {
        "course": course,
        "forum": forum,
        "figures": figures,
        "by_course_week": metrics.response_times_by_course_week(forum=forum),
        "chart": charts.response_chart(figures.weeks),
        "queue": selectors.unanswered_queue(
            viewer=request.user,
            forum=forum,
            week=int(week) if week.isdigit() else None,
            item=int(item) if item.isdigit() else None,
        ),
        "structure": services.structure_of(forum.course_id),
        "week": week,
        "item": item,
        "topics": selectors.topics_with_counts(forum),
    }
    return render(request, "forums/dashboard.html", context)


@login_required
def review(request, course_slug):
    forum, course, verdict = _moderator_forum(request, course_slug)
    if not verdict:
        return _refused(request, verdict)
    page = selectors.review_page(viewer=request.user, forum=forum, course=course)
    return render(
        request, "forums/review.html", {"page": page, "course": course, "sanction_kinds": SanctionKind.choices}
    )


@login_required
@require_POST
def topic_new(request, course_slug):
    forum, _course, _verdict = _moderator_forum(request, course_slug)
    try:
        topic = services.topic_create(
            actor=request.user,
            forum=forum,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except ForumError as exc:
        messages.error(request, str(exc))
        return redirect("forums:dashboard", course_slug=course_slug)
    messages.success(request, f"Topic “{topic.title}” added.")
    return redirect("forums:topic", course_slug=course_slug, topic_slug=topic.slug)


@login_required
@require_POST
def moderate_thread(request, thread_id):
    thread = selectors.thread_get(thread_id=thread_id)
    action = request.POST.get("action", "")
    user = request.user
    other_id = request.POST.get("other", "").strip().lstrip("#")

    def other_thread():
        if not other_id.isdigit():
            raise ForumError("Give the number of the other thread (it is in its address: /forums/t/NUMBER/).")
        try:
            return selectors.thread_get(thread_id=int(other_id))
        except Http404:
            raise ForumError(f"There is no thread {other_id}.") from None

    actions = {
        "pin": (lambda: services.thread_pin(actor=user, thread=thread, pinned=True), "Pinned to the top of the forum."),
        "unpin": (lambda: services.thread_pin(actor=user, thread=thread, pinned=False), "Unpinned."),
        "close": (
            lambda: services.thread_close(actor=user, thread=thread, reason=request.POST.get("reason", "")),
            "Closed.",
        ),
        "reopen": (lambda: services.thread_reopen(actor=user, thread=thread), "Reopened."),
        "move": (
            lambda: services.thread_move(
                actor=user, thread=thread, topic=_topic_by_id(thread, request.POST.get("topic", ""))
            ),
            "Moved.",
        ),
        "duplicate": (
            lambda: services.thread_mark_duplicate(actor=user, thread=thread, original=other_thread()),
            "Marked as a duplicate: it now links to the original and takes no more replies.",
        ),
        "unduplicate": (
            lambda: services.thread_unmark_duplicate(actor=user, thread=thread),
            "No longer marked as a duplicate.",
        ),
        "merge": (lambda: services.thread_merge(actor=user, source=thread, target=other_thread()), "Merged."),
    }
    if action not in actions:
        messages.error(request, "Unknown action.")
        return redirect(thread)
    run, success = actions[action]
    try:
        run()
    except ForumError as exc:
        messages.error(request, str(exc))
        return redirect(thread)
    messages.success(request, success)
    thread.refresh_from_db()
    return redirect(thread.merged_into or thread)


def _topic_by_id(thread, value):
    from .models import Topic

    topic = Topic.objects.select_related("forum").filter(pk=int(value)).first() if value.isdigit() else None
    if topic is None:
        raise ForumError("Choose a topic to move the thread to.")
    return topic


@login_required
@require_POST
def moderate_post(request, post_id):
    post = selectors.post_get(post_id=post_id)
    forum = post.thread.forum
    user = request.user
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    back = request.POST.get("back") == "review"
    actions = {
        "hide": lambda: services.post_hide(actor=user, post=post, reason=reason),
        "unhide": lambda: services.post_unhide(actor=user, post=post),
        "approve": lambda: services.post_approve(actor=user, post=post),
        "reject": lambda: services.post_reject(actor=user, post=post, reason=reason),
        "uphold": lambda: services.flags_resolve(actor=user, post=post, uphold=True, reason=reason),
        "dismiss": lambda: services.flags_resolve(actor=user, post=post, uphold=False),
        "delete": lambda: services.post_delete(actor=user, post=post, reason=reason),
        "trust": lambda: services.member_trust(actor=user, forum=forum, user=post.author),
        "sanction": lambda: services.sanction_create(
            actor=user,
            forum=forum,
            user=post.author,
            kind=request.POST.get("kind", ""),
            days=request.POST.get("days", ""),
            reason=reason,
            all_forums=request.POST.get("all_forums") == "1",
        ),
    }
    if action not in actions:
        messages.error(request, "Unknown action.")
    else:
        try:
            actions[action]()
        except ForumError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Done.")
    if back:
        return redirect("forums:review", course_slug=_course_of(forum).slug)
    return redirect(
        post.get_absolute_url() if post.kind != "opening" or action != "delete" else reverse("forums:index")
    )


@login_required
@require_POST
def sanction_lift(request, course_slug, sanction_id):
    from .models import Sanction

    forum, _course, _verdict = _moderator_forum(request, course_slug)
    sanction = Sanction.objects.filter(pk=sanction_id).first()
    if sanction is None:
        raise Http404("No such sanction.")
    try:
        services.sanction_lift(actor=request.user, sanction=sanction, forum=forum)
    except ForumError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Lifted.")
    return redirect("forums:review", course_slug=course_slug)
