"""Peer review in the admin: assignments with their rubric (read-only once frozen), examples, and the
records staff look up (submissions, reviews, disputes, the audit trail) read-only: grades change through
the staff pages, which write the audit trail."""

from django.contrib import admin
from django.utils import timezone

from .models import Assignment, Criterion, Dispute, Flag, Option, Review, StaffAction, Submission


class FrozenRubricMixin:
    """Criteria and options cannot be added, changed or removed once the first review exists."""

    def _frozen(self, obj) -> bool:
        assignment = obj if isinstance(obj, Assignment) else getattr(obj, "assignment", None)
        if isinstance(obj, Option):
            assignment = obj.criterion.assignment
        return bool(assignment and assignment.rubric_frozen_at)

    def has_add_permission(self, request, obj=None):
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj) and not (obj and self._frozen(obj))
        return super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and self._frozen(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and self._frozen(obj))


class CriterionInline(FrozenRubricMixin, admin.StackedInline):
    model = Criterion
    extra = 0
    fields = ["order", "name", "prompt", "weight", "comment_box"]
    show_change_link = True


class ExampleInline(admin.StackedInline):
    model = Submission
    extra = 0
    fields = ["order", "is_training", "text", "staff_scores", "staff_percent"]
    readonly_fields = ["staff_percent"]
    verbose_name = "staff-scored example"
    verbose_name_plural = "staff-scored examples (training and calibration)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_example=True)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "pass_percent",
        "reviews_to_give",
        "reviews_to_receive",
        "scoring_method",
        "rubric_frozen_at",
    ]
    list_filter = ["item__course", "scoring_method"]
    search_fields = ["item__title", "item__slug"]
    raw_id_fields = ["item"]
    readonly_fields = ["rubric_frozen_at", "scoring_method", "agreement"]
    inlines = [CriterionInline, ExampleInline]

    def save_formset(self, request, form, formset, change):
        """Examples: a staff score must give every criterion one of its options; the percent follows."""
        from django.core.exceptions import ValidationError

        from . import scoring, selectors

        instances = formset.save(commit=False)
        for obj in instances:
            if isinstance(obj, Submission):
                obj.is_example, obj.assignment = True, form.instance
                obj.created_at = obj.created_at or timezone.now()
                rubric = selectors.rubric(assignment=form.instance)
                scores = obj.staff_scores or {}
                bad = [c.name for c in rubric if scores.get(c.name) not in {o.points for o in c.options.all()}]
                if bad:
                    raise ValidationError(f"Example staff scores need an option's points for: {', '.join(bad)}")
                obj.staff_percent = round(
                    scoring.review_percent(scores, selectors.rubric_crits(assignment=form.instance)), 2
                )
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class OptionInline(FrozenRubricMixin, admin.TabularInline):
    model = Option
    extra = 0
    fields = ["order", "label", "points"]


@admin.register(Criterion)
class CriterionAdmin(FrozenRubricMixin, admin.ModelAdmin):
    list_display = ["__str__", "assignment", "weight", "comment_box"]
    list_filter = ["assignment__item__course"]
    inlines = [OptionInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "assignment", "author", "phase", "completed_reviews", "required_reviews", "final_percent"]
    list_filter = ["phase", "is_example", "assignment__item__course"]
    search_fields = ["author__email"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["pk", "submission", "reviewer", "status", "percent", "is_calibration", "is_training"]
    list_filter = ["status", "is_calibration", "is_training"]
    search_fields = ["reviewer__email"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "assignment", "author", "status", "created_at", "resolved_by"]
    list_filter = ["status"]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["pk", "review", "flagged_by", "created_at", "resolved_at"]


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "actor", "submission", "before", "after", "reason"]
    list_filter = ["kind"]
