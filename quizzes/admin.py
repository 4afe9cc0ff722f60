"""Quizzes in the admin: settings and pools per quiz, questions with their options, attempts read-only."""

from django.contrib import admin

from .models import Attempt, AttemptQuestion, Option, Question, QuestionPool, Quiz


class QuestionPoolInline(admin.TabularInline):
    model = QuestionPool
    extra = 0
    fields = ["order", "name", "draw"]
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["__str__", "pass_percent", "max_attempts", "attempt_window_hours", "time_limit_minutes"]
    list_filter = ["item__course"]
    search_fields = ["item__title", "item__slug"]
    raw_id_fields = ["item"]
    inlines = [QuestionPoolInline]


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0
    fields = ["order", "text", "is_correct"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ["order", "kind", "prompt", "points", "retired"]
    show_change_link = True


@admin.register(QuestionPool)
class QuestionPoolAdmin(admin.ModelAdmin):
    list_display = ["__str__", "draw"]
    list_filter = ["quiz__item__course"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "points", "pool", "retired"]
    list_filter = ["kind", "retired", "pool__quiz__item__course"]
    search_fields = ["prompt"]
    inlines = [OptionInline]
    fieldsets = [
        (None, {"fields": ["pool", "order", "kind", "prompt", "explanation", "points", "retired"]}),
        ("Numeric", {"fields": ["numeric_answer", "tolerance"], "classes": ["collapse"]}),
        ("Short text", {"fields": ["text_answers", "text_pattern", "case_sensitive"], "classes": ["collapse"]}),
    ]


class AttemptQuestionInline(admin.TabularInline):
    model = AttemptQuestion
    extra = 0
    can_delete = False
    fields = ["position", "question", "response", "is_correct", "points_awarded", "max_points"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    """Attempts are records of what a learner did: read-only here."""

    list_display = ["__str__", "status", "percent", "passed", "started_at", "submitted_at"]
    list_filter = ["status", "passed", "quiz__item__course"]
    search_fields = ["user__email", "quiz__item__slug"]
    readonly_fields = [f.name for f in Attempt._meta.fields]
    inlines = [AttemptQuestionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
