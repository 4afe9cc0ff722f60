from django.contrib import admin

from . import services
from .models import (
    CompletionRegression,
    Course,
    CourseCompletion,
    CourseNotifyRequest,
    Enrollment,
    Interview,
    Item,
    ItemProgress,
    Lecture,
    Paper,
    Reading,
    Specialization,
    Week,
)


class CourseInline(admin.TabularInline):
    model = Course
    fields = ["order", "title", "slug", "release_date"]
    extra = 0
    show_change_link = True
    ordering = ["order"]


@admin.register(Specialization)
class SpecializationAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CourseInline]


class WeekInline(admin.TabularInline):
    model = Week
    fields = ["number", "title", "release_date", "release_after_days"]
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "release_date", "specialization"]
    list_editable = ["order", "release_date"]
    list_filter = ["specialization"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [WeekInline]


class ItemInline(admin.TabularInline):
    model = Item
    fields = [
        "order",
        "kind",
        "title",
        "slug",
        "is_preview",
        "minutes",
        "release_date",
        "release_after_days",
        "due_after_days",
    ]
    extra = 0
    show_change_link = True
    ordering = ["order"]

    def get_formset(self, request, obj=None, **kwargs):
        self._week = obj
        return super().get_formset(request, obj, **kwargs)


@admin.register(Week)
class WeekAdmin(admin.ModelAdmin):
    list_display = ["__str__", "course", "release_date", "release_after_days"]
    list_filter = ["course"]
    fields = ["course", "number", "title", "summary", ("release_date", "release_after_days")]
    inlines = [ItemInline]

    class Media:
        # The items table scrolls inside its box instead of widening the page (1280 px and below).
        css = {"all": ["css/admin-week.css"]}

    def save_formset(self, request, form, formset, change):
        # Items added inline belong to the week's course.
        for obj in formset.save(commit=False):
            obj.course = form.instance.course
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


class LectureInline(admin.StackedInline):
    model = Lecture
    fields = ["is_math", "duration_seconds", "declared_duration_seconds", "video", "captions"]
    readonly_fields = ["declared_duration_seconds"]
    extra = 0


class ReadingInline(admin.StackedInline):
    model = Reading
    extra = 0


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "course", "week", "order", "is_preview", "release_date", "release_after_days"]
    list_filter = ["kind", "course", "is_preview"]
    search_fields = ["title", "slug"]
    list_select_related = ["course", "week"]
    inlines = [LectureInline, ReadingInline]


class PaperInline(admin.TabularInline):
    model = Paper
    extra = 0


@admin.register(Lecture)
class LectureAdmin(admin.ModelAdmin):
    list_display = ["item", "is_math", "duration_seconds"]
    list_select_related = ["item"]
    inlines = [PaperInline]


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    list_display = ["title", "guest", "order"]
    list_editable = ["order"]
    filter_horizontal = ["related_courses"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "created_at"]
    list_filter = ["course"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]


@admin.register(ItemProgress)
class ItemProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "watched_fraction", "completed_at", "updated_at"]
    list_filter = ["item__course"]
    search_fields = ["user__email", "item__title"]
    raw_id_fields = ["user", "item"]


@admin.register(CourseNotifyRequest)
class CourseNotifyRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "created_at", "notified_at"]
    list_filter = ["course"]
    raw_id_fields = ["user"]


@admin.register(CourseCompletion)
class CourseCompletionAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "completed_at"]
    list_filter = ["course"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]


@admin.register(CompletionRegression)
class CompletionRegressionAdmin(admin.ModelAdmin):
    """Regrades that dropped a passed item below its pass mark after the course was completed. Nothing
    was revoked: staff read the detail, decide (revoking a certificate is done on its page, with a
    reason) and write down what they decided here."""

    list_display = ["user", "course", "item", "created_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "course"]
    search_fields = ["user__email", "item__slug"]
    readonly_fields = ["user", "course", "item", "detail", "created_at", "resolved_at", "resolved_by"]
    fields = [*readonly_fields, "resolution"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if obj.resolved_at is None and obj.resolution.strip():
            services.completion_regression_resolve(regression=obj, staff=request.user, resolution=obj.resolution)
        else:
            super().save_model(request, obj, form, change)
