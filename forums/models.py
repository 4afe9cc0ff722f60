"""Course forums: one forum per course, topics (per week, per assignment, free), threads (questions or
discussions), posts (the opening post, replies, one level of comments), edit history, votes, follows,
flags, sanctions and the per-user trust step.

Counts shown on lists (votes, replies) are denormalised onto the rows and kept by services.py; the
rows they count (Vote, Post) are the truth. Search columns are maintained by search.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Forum(models.Model):
    course = models.OneToOneField("courses.Course", on_delete=models.CASCADE, related_name="+")
    is_public = models.BooleanField(default=False, help_text="Visitors who are not signed in may read it.")
    # A hash of the weeks and assignments the topics were last built from (services.forum_sync).
    structure_signature = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Forum of course {self.course_id}"


class TopicKind(models.TextChoices):
    WEEK = "week", "Week"
    ASSIGNMENT = "assignment", "Assignment"
    FREE = "free", "General"


class Topic(models.Model):
    """A shelf of threads. Week and assignment topics mirror the course structure; free topics are
    added by staff (general discussion, study groups, ...)."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="topics")
    kind = models.CharField(max_length=12, choices=TopicKind.choices)
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    week = models.ForeignKey("courses.Week", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("courses.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    week_number = models.PositiveSmallIntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    # A week or assignment that left the course keeps its topic (and threads), archived.
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["forum", "slug"], name="forums_topic_slug_per_forum")]

    def __str__(self) -> str:
        return self.title


class ThreadKind(models.TextChoices):
    QUESTION = "question", "Question"
    DISCUSSION = "discussion", "Discussion"


class Visibility(models.TextChoices):
    VISIBLE = "visible", "Visible"
    PENDING = "pending", "Held for review"  # a new account's post, until a moderator approves it
    HIDDEN = "hidden", "Hidden"  # by a moderator, or by flags pending review
    DELETED = "deleted", "Deleted"  # by its author or a moderator (kept, never shown to learners)


class Thread(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="threads")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="threads")
    kind = models.CharField(max_length=12, choices=ThreadKind.choices, default=ThreadKind.QUESTION)
    title = models.CharField(max_length=200)
    # The author is always stored; `is_anonymous` only hides them from other learners.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_threads")
    is_anonymous = models.BooleanField(default=False)
    # The lecture, reading, quiz or assignment the thread is about (listed on that item's page).
    item = models.ForeignKey("courses.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    week_number = models.PositiveSmallIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    is_pinned = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.CharField(max_length=300, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    marked_duplicate_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    # Denormalised from the rows (services keep them): the opening post's votes, visible replies.
    vote_score = models.IntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    accepted_post = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=True
    )
    has_endorsed = models.BooleanField(default=False)
    # Response times: the first visible reply or comment by someone other than the asker, and the first
    # accepted or endorsed answer. Kept when that post is later removed: they are what the asker lived.
    first_response_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # Full text (search.py): title A, opening post B, replies and comments C.
    search_vector = SearchVectorField(null=True, editable=False)
    # The similar-question box searches titles and the start of the opening post only.
    similar_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["forum", "state", "-last_activity_at"], name="forums_thread_list"),
            # The default listing: visible, unmerged threads, pinned first, then by latest activity.
            models.Index(
                fields=["forum", "-is_pinned", "-last_activity_at", "-id"],
                condition=models.Q(state="visible", merged_into__isnull=True),
                name="forums_thread_listing",
            ),
            models.Index(fields=["forum", "topic", "state", "-last_activity_at"], name="forums_thread_topic"),
            models.Index(fields=["item", "state"], name="forums_thread_item"),
            models.Index(fields=["author", "created_at"], name="forums_thread_author"),
            models.Index(fields=["forum", "kind", "created_at"], name="forums_thread_created"),
        ]
        # The GIN indexes on search_vector and similar_vector are created by migration 0002 on
        # PostgreSQL only (SQLite, the embedded default, has no GIN and rebuilds tables from Meta).

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forums:thread", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None or self.duplicate_of_id is not None or self.merged_into_id is not None

    @property
    def is_question(self) -> bool:
        return self.kind == ThreadKind.QUESTION


class PostKind(models.TextChoices):
    OPENING = "opening", "Opening post"
    REPLY = "reply", "Reply"
    COMMENT = "comment", "Comment"


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    kind = models.CharField(max_length=8, choices=PostKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_posts")
    is_anonymous = models.BooleanField(default=False)
    body = models.TextField(help_text="Markdown, as the author wrote it.")
    body_html = models.TextField(editable=False, help_text="Rendered and sanitised (rendering.py).")
    state = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    hidden_reason = models.CharField(max_length=300, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True, help_text="When learners first saw it.")
    edited_at = models.DateTimeField(null=True, blank=True)
    vote_score = models.IntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    endorsed_at = models.DateTimeField(null=True, blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["thread", "kind", "state"], name="forums_post_thread"),
            models.Index(fields=["author", "created_at"], name="forums_post_author"),
            models.Index(fields=["state", "created_at"], name="forums_post_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["thread"], condition=models.Q(kind="opening"), name="forums_one_opening_post"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} in thread {self.thread_id}"

    def get_absolute_url(self) -> str:
        return f"{reverse('forums:thread', args=[self.thread_id])}#post-{self.pk}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_endorsed(self) -> bool:
        return self.endorsed_at is not None


class PostRevision(models.Model):
    """The text of a post before an edit: who edited, when, and (for a moderator's edit) why."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)
    title = models.CharField(max_length=200, blank=True, help_text="The thread's title before, for the opening post.")
    body = models.TextField()
    reason = models.CharField(max_length=300, blank=True)
    by_moderator = models.BooleanField(default=False)

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"Revision of post {self.post_id} at {self.edited_at:%Y-%m-%d %H:%M}"


class Vote(models.Model):
    """One up-vote per user per post (the opening post carries the thread's votes)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="forums_one_vote_per_user")]

    def __str__(self) -> str:
        return f"Vote by {self.user_id} on post {self.post_id}"


class Follow(models.Model):
    """A user follows a thread (its replies), a topic or a whole course forum (their new threads)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_follows")
    forum = models.ForeignKey(Forum, null=True, blank=True, on_delete=models.CASCADE, related_name="follows")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="follows")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(forum__isnull=False, topic__isnull=True, thread__isnull=True)
                    | models.Q(forum__isnull=True, topic__isnull=False, thread__isnull=True)
                    | models.Q(forum__isnull=True, topic__isnull=True, thread__isnull=False)
                ),
                name="forums_follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "forum"], condition=models.Q(forum__isnull=False), name="forums_follow_forum"
            ),
            models.UniqueConstraint(
                fields=["user", "topic"], condition=models.Q(topic__isnull=False), name="forums_follow_topic"
            ),
            models.UniqueConstraint(
                fields=["user", "thread"], condition=models.Q(thread__isnull=False), name="forums_follow_thread"
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"thread {self.thread_id}"
            if self.thread_id
            else f"topic {self.topic_id}"
            if self.topic_id
            else f"forum {self.forum_id}"
        )
        return f"{self.user_id} follows {target}"


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam or advertising"
    ABUSE = "abuse", "Rude, abusive or harassing"
    OFF_TOPIC = "off_topic", "Off topic"
    GRADED_SOLUTION = "graded_solution", "Posts a graded solution (honour code)"
    OTHER = "other", "Something else"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Waiting for review"
    UPHELD = "upheld", "Upheld"
    DISMISSED = "dismissed", "Dismissed"


class Flag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=FlagReason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "flagger"], name="forums_one_flag_per_user")]
        indexes = [models.Index(fields=["status", "created_at"], name="forums_flag_status")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on post {self.post_id}"


class SanctionKind(models.TextChoices):
    MUTE = "mute", "Muted (reads, cannot post)"
    BAN = "ban", "Banned (cannot read or post)"


class Sanction(models.Model):
    """A mute or ban for a period, in one course forum or (forum empty) in all of them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_sanctions")
    forum = models.ForeignKey(Forum, null=True, blank=True, on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField(max_length=4, choices=SanctionKind.choices)
    reason = models.CharField(max_length=300)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["user", "ends_at"], name="forums_sanction_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user_id} until {self.ends_at:%Y-%m-%d}"


class Profile(models.Model):
    """What the forums know about a member: the handle others @mention, and the trust step."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="forum_profile"
    )
    handle = models.CharField(max_length=40, unique=True)
    approved_posts = models.PositiveIntegerField(default=0, help_text="Held posts a moderator approved.")
    trusted_at = models.DateTimeField(null=True, blank=True, help_text="From then on posts appear at once.")

    def __str__(self) -> str:
        return f"@{self.handle}"


class Word(models.Model):
    """The vocabulary of the forums, for correcting a misspelt search (pg_trgm similarity)."""

    word = models.CharField(max_length=40, unique=True)

    # Its trigram GIN index is created by migration 0002 on PostgreSQL only.

    def __str__(self) -> str:
        return self.word
