"""Forum rows in the admin, for staff: the pages (/forums/<course>/staff/ and /review/) are the
everyday tools; the admin is for looking things up."""

from django.contrib import admin

from .models import Flag, Forum, Post, PostRevision, Profile, Sanction, Thread, Topic


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["course", "is_public", "created_at"]
    list_editable = ["is_public"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "forum", "kind", "week_number", "is_archived", "order"]
    list_filter = ["kind", "is_archived", "forum"]
    search_fields = ["title"]


class PostInline(admin.TabularInline):
    model = Post
    fields = ["kind", "author", "is_anonymous", "state", "created_at", "vote_score"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["title", "forum", "topic", "kind", "author", "is_anonymous", "state", "reply_count", "created_at"]
    list_filter = ["kind", "state", "is_pinned", "forum"]
    search_fields = ["title", "author__email"]
    raw_id_fields = ["author", "duplicate_of", "merged_into", "accepted_post", "closed_by", "item"]
    readonly_fields = ["vote_score", "reply_count", "first_response_at", "answered_at"]
    inlines = [PostInline]


class RevisionInline(admin.TabularInline):
    model = PostRevision
    fields = ["edited_at", "editor", "by_moderator", "reason", "title", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "is_anonymous", "state", "created_at"]
    list_filter = ["kind", "state"]
    search_fields = ["body", "author__email"]
    raw_id_fields = ["thread", "parent", "author", "moderated_by", "accepted_by", "endorsed_by"]
    readonly_fields = ["body_html", "vote_score"]
    inlines = [RevisionInline]


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["post", "reason", "flagger", "status", "created_at"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["post", "flagger", "resolved_by"]


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "forum", "ends_at", "lifted_at", "reason"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "created_by", "lifted_by"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["handle", "user", "approved_posts", "trusted_at"]
    search_fields = ["handle", "user__email"]
    raw_id_fields = ["user"]
