"""What the API sends and accepts. Output serializers read the apps' facts (frozen dataclasses, or the
rows of their page dataclasses); no serializer decides access or computes a business value."""

from __future__ import annotations

import dataclasses

from rest_framework import serializers

# ---- shared -----------------------------------------------------------------------------------------


class ErrorDetail(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="For programs: validation_error, not_authenticated, access_denied, …")
    message = serializers.CharField(help_text="One sentence for a person.")
    reason = serializers.CharField(
        allow_null=True, help_text="The access decision's reason when the access module refused (same as the pages)."
    )
    fields = serializers.DictField(allow_null=True, help_text="Each invalid field and its problems.")


class Error(serializers.Serializer):
    error = ErrorDetail()


class AccessSerializer(serializers.Serializer):
    """The access module's decision for the caller, as the pages show it."""

    allowed = serializers.BooleanField()
    reason = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    opens_on = serializers.DateField(allow_null=True)

    def to_representation(self, decision):
        return {
            "allowed": bool(decision),
            "reason": str(decision.reason),
            "message": decision.message,
            "opens_on": decision.opens_on.isoformat() if decision.opens_on else None,
        }


class Paginated(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")


def paginated(item_serializer, name: str):
    """A `{results, next}` component for a list of `item_serializer`."""
    return type(name, (Paginated,), {"results": item_serializer(many=True)})


# ---- me ---------------------------------------------------------------------------------------------


class Roles(serializers.Serializer):
    mentor = serializers.BooleanField()
    peer_reviewer = serializers.BooleanField()
    staff = serializers.BooleanField()


class Me(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    display_name = serializers.CharField()
    roles = Roles()
    access_state = serializers.CharField(
        help_text="anonymous, registered, trialing, active, past_due_grace, expired, staff"
    )
    access_state_label = serializers.CharField()
    credential = serializers.CharField(help_text="session, personal_token or oauth2")
    scope = serializers.ListField(child=serializers.CharField(), help_text="What this credential may do.")


# ---- catalog ----------------------------------------------------------------------------------------


class SpecializationRef(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()


class CourseSummary(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    short_description = serializers.CharField(allow_blank=True)
    level = serializers.CharField(allow_blank=True)
    estimated_hours = serializers.IntegerField(allow_null=True)
    release_date = serializers.DateField(allow_null=True)
    released = serializers.BooleanField()
    specialization = SpecializationRef()
    items_total = serializers.IntegerField()
    items_done = serializers.IntegerField(help_text="0 for a visitor.")
    url = serializers.URLField(help_text="The course page.")


class ItemNode(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    kind = serializers.CharField(help_text="lecture, reading, quiz, assignment, peer_review")
    minutes = serializers.IntegerField()
    is_preview = serializers.BooleanField()
    is_graded = serializers.BooleanField()
    status = serializers.CharField(help_text="complete, started or not-started (always not-started for a visitor)")
    access = AccessSerializer()
    url = serializers.URLField()


class WeekNode(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    deadline = serializers.DateTimeField(allow_null=True, help_text="Suggested, for an enrolled learner.")
    overdue = serializers.BooleanField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    items = ItemNode(many=True)


class CourseProgressSummary(serializers.Serializer):
    done = serializers.IntegerField(help_text="Items completed (material viewed, graded items passed).")
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    graded_passed = serializers.IntegerField(help_text="Graded items passed: what completion counts.")
    graded_total = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)


class CourseTree(serializers.Serializer):
    """A course with its weeks and items. `requested_fields` picks fields (dotted for nested ones), so
    every field here may be absent from an answer that did not ask for it."""

    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    short_description = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True, help_text="Markdown.")
    level = serializers.CharField(allow_blank=True)
    estimated_hours = serializers.IntegerField(allow_null=True)
    release_date = serializers.DateField(allow_null=True)
    released = serializers.BooleanField()
    completion_rule = serializers.CharField(help_text="graded or all")
    specialization = SpecializationRef()
    progress = CourseProgressSummary()
    url = serializers.URLField()
    weeks = WeekNode(many=True)


class Cue(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    text = serializers.CharField(allow_blank=True)


class LectureContent(serializers.Serializer):
    duration_seconds = serializers.FloatField()
    is_math = serializers.BooleanField()
    video_url = serializers.URLField(allow_null=True, help_text="Protected: the same access rule as this item.")
    captions_url = serializers.URLField()
    captions = Cue(many=True)


class ItemDetail(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    kind = serializers.CharField()
    course = serializers.SlugField()
    week = serializers.IntegerField()
    minutes = serializers.IntegerField()
    is_preview = serializers.BooleanField()
    is_graded = serializers.BooleanField()
    status = serializers.CharField()
    url = serializers.URLField()
    previous_id = serializers.IntegerField(allow_null=True)
    next_id = serializers.IntegerField(allow_null=True)
    reading = serializers.CharField(allow_null=True, help_text="A reading's Markdown.")
    lecture = LectureContent(allow_null=True)


# ---- enrollments and progress -------------------------------------------------------------------------


class CourseRef(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()


class Enrollment(serializers.Serializer):
    course = CourseRef()
    enrolled_at = serializers.DateTimeField()
    schedule_start = serializers.DateTimeField(help_text="Suggested week deadlines count from here.")
    progress = CourseProgressSummary()


class ItemProgressRow(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    kind = serializers.CharField()
    status = serializers.CharField()


class WeekProgress(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    items = ItemProgressRow(many=True)


class EnrollmentDetail(Enrollment):
    weeks = WeekProgress(many=True)


class ProgressUpdate(serializers.Serializer):
    """A lecture sends where the player is and what was played; another item is marked complete."""

    position = serializers.FloatField(required=False, min_value=0, help_text="Lectures: seconds into the video.")
    ranges = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        max_length=200,
        help_text="Lectures: [start, end] seconds played since the last update.",
    )
    complete = serializers.BooleanField(required=False, help_text="Readings and other ungraded items: mark done.")

    def validate(self, attrs):
        lecture = "position" in attrs or "ranges" in attrs
        if lecture == bool(attrs.get("complete")):
            raise serializers.ValidationError("Send either position (and ranges) for a lecture, or complete: true.")
        if lecture and "position" not in attrs:
            raise serializers.ValidationError({"position": ["Send the player's position with the played ranges."]})
        return attrs


class ItemProgressResult(serializers.Serializer):
    item_id = serializers.IntegerField()
    complete = serializers.BooleanField()
    completed_at = serializers.DateTimeField(allow_null=True)
    watched = serializers.FloatField(help_text="Share of a lecture played (0 to 1).")
    position = serializers.FloatField()


# ---- submissions ----------------------------------------------------------------------------------------


class Submission(serializers.Serializer):
    id = serializers.IntegerField(source="submission_id")
    item_id = serializers.IntegerField()
    attempt = serializers.IntegerField()
    status = serializers.CharField(help_text="queued, running, graded or error")
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The submission's page on the site.")

    def to_representation(self, facts):
        data = super().to_representation(facts)
        data["url"] = self.context["request"].build_absolute_uri(facts.url)
        return data


class SubmissionUpload(serializers.Serializer):
    item = serializers.IntegerField(help_text="The assignment item's id.")
    notebook = serializers.FileField(help_text="The .ipynb file.")


class SubmissionJson(serializers.Serializer):
    item = serializers.IntegerField(help_text="The assignment item's id.")
    notebook = serializers.JSONField(help_text="The notebook itself (nbformat 4 JSON).")

    def validate_notebook(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("The notebook must be a JSON object (nbformat 4).")
        return value


class TestResult(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="passed, failed, not_run or manual")
    points = serializers.FloatField()
    max_points = serializers.FloatField()
    message = serializers.CharField(allow_blank=True, help_text="Hidden tests: their author's failure message only.")


class CellOutput(serializers.Serializer):
    cell = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)


class Feedback(serializers.Serializer):
    submission_id = serializers.IntegerField()
    status = serializers.CharField()
    finished = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    pass_percent = serializers.IntegerField()
    tests = TestResult(many=True)
    outputs = CellOutput(many=True)
    flags = serializers.ListField(child=serializers.CharField())
    error_message = serializers.CharField(allow_blank=True)
    grader_version = serializers.IntegerField(allow_null=True)
    execution_seconds = serializers.FloatField(allow_null=True)

    def to_representation(self, feedback):
        data = dataclasses.asdict(feedback)
        data["outputs"] = [{"cell": cell, "text": text} for cell, text in feedback.outputs]
        return super().to_representation(data)


# ---- grades -----------------------------------------------------------------------------------------------


class Grade(serializers.Serializer):
    item_id = serializers.IntegerField()
    item_slug = serializers.SlugField()
    title = serializers.CharField()
    kind = serializers.CharField()
    course = serializers.SlugField()
    week = serializers.IntegerField()
    attempts = serializers.IntegerField()
    best_percent = serializers.FloatField(allow_null=True, help_text="The attempt that counts.")
    pass_percent = serializers.IntegerField(allow_null=True)
    passed = serializers.BooleanField()


# ---- certificates ------------------------------------------------------------------------------------------


class Certificate(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    kind = serializers.CharField(help_text="course or specialization")
    title = serializers.CharField()
    learner_name = serializers.CharField()
    completed_at = serializers.DateTimeField()
    issued_at = serializers.DateTimeField()
    valid = serializers.BooleanField(help_text="False once revoked.")
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField(allow_blank=True)
    url = serializers.URLField(help_text="The public verification page.")


# ---- events -------------------------------------------------------------------------------------------------


class Event(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True, help_text="A path on the site.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class EventsRead(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=500,
        help_text="The events to mark read; leave out to mark all read.",
    )


class EventsReadResult(serializers.Serializer):
    marked = serializers.IntegerField()


# ---- forums -----------------------------------------------------------------------------------------


class ForumThread(serializers.Serializer):
    id = serializers.IntegerField(source="thread_id")
    course = serializers.CharField(source="course_slug")
    kind = serializers.CharField(help_text="question or discussion")
    title = serializers.CharField()
    author = serializers.CharField(help_text="A name, or 'Anonymous learner' to other learners.")
    author_is_anonymous = serializers.BooleanField()
    week = serializers.IntegerField(allow_null=True)
    item_id = serializers.IntegerField(allow_null=True, help_text="The lecture or assignment it is about.")
    state = serializers.CharField(help_text="visible; pending (held for review), hidden, deleted: yours or staff's")
    is_pinned = serializers.BooleanField()
    is_closed = serializers.BooleanField()
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)
    reply_count = serializers.IntegerField()
    vote_score = serializers.IntegerField()
    answered = serializers.BooleanField(help_text="An answer was accepted or endorsed.")
    accepted_post = serializers.IntegerField(source="accepted_post_id", allow_null=True)
    created_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The thread's page on the site.")

    def to_representation(self, facts):
        data = super().to_representation(facts)
        data["url"] = self.context["request"].build_absolute_uri(facts.url)
        return data


class ForumPost(serializers.Serializer):
    id = serializers.IntegerField(source="post_id")
    thread = serializers.IntegerField(source="thread_id")
    kind = serializers.CharField(help_text="opening, reply or comment")
    parent = serializers.IntegerField(source="parent_id", allow_null=True, help_text="The reply a comment is under.")
    author = serializers.CharField()
    author_is_anonymous = serializers.BooleanField()
    body = serializers.CharField(allow_blank=True, help_text="Markdown, as written (empty when deleted).")
    body_html = serializers.CharField(allow_blank=True, help_text="Rendered and sanitised HTML.")
    state = serializers.CharField()
    vote_score = serializers.IntegerField()
    is_accepted = serializers.BooleanField()
    is_endorsed = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField()

    def to_representation(self, facts):
        data = super().to_representation(facts)
        data["url"] = self.context["request"].build_absolute_uri(facts.url)
        return data


class ThreadCreate(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=50_000, help_text="Markdown with fenced code and $math$.")
    kind = serializers.ChoiceField(choices=["question", "discussion"], default="question")
    week = serializers.IntegerField(required=False, min_value=1, help_text="The week's topic (else General).")
    item = serializers.IntegerField(required=False, min_value=1, help_text="A lecture or assignment it is about.")
    anonymous = serializers.BooleanField(default=False, help_text="Anonymous to other learners, never to staff.")


class PostCreate(serializers.Serializer):
    body = serializers.CharField(max_length=50_000)
    parent = serializers.IntegerField(
        required=False, min_value=1, help_text="A reply's id: comment under it instead of replying."
    )
    anonymous = serializers.BooleanField(default=False)
