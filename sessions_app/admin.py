"""Sessions in the admin: to look at, with their runs and events inline. Only name and notes
are edited here; everything else changes through the services (dashboard, API)."""

from django.contrib import admin, messages

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import Run, Session, SessionEvent, Status

EDITABLE = ("name", "notes")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RunInline(ReadOnlyInline):
    model = Run
    fields = (
        "config_hash",
        "params",
        "status",
        "trade_count",
        "total_pnl",
        "win_rate",
        "max_drawdown",
        "sharpe",
    )
    readonly_fields = fields


class SessionEventInline(ReadOnlyInline):
    model = SessionEvent
    fields = ("created_at", "event_type", "event_data")
    readonly_fields = fields
    ordering = ("-created_at", "-id")


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "market", "strategy", "status", "trade_count", "total_pnl", "created_at")
    list_filter = ("status", "type", "exchange", "strategy")
    search_fields = ("id", "name", "notes", "market")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    inlines = [RunInline, SessionEventInline]
    actions = ["delete_finished"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Session._meta.fields if f.name not in EDITABLE]

    def has_add_permission(self, request):
        return False  # sessions are created through the dashboard or the API (services)

    def save_model(self, request, obj, form, change):
        services.session_update(session=obj, data={f: form.cleaned_data.get(f) for f in EDITABLE})

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == Status.RUNNING:
            return False  # stop it first (services.session_delete refuses it too)
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            services.session_delete(session=obj)
        except Conflict as error:
            messages.error(request, error.message)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # would bypass the running-session rule
        return actions

    @admin.action(description="Delete the selected sessions (running ones are kept)", permissions=["delete"])
    def delete_finished(self, request, queryset):
        deleted, kept = 0, []
        for session in queryset:
            try:
                services.session_delete(session=session)
                deleted += 1
            except Conflict:
                kept.append(session.name)
        self.message_user(request, f"Deleted {deleted} session(s).")
        if kept:
            self.message_user(request, f"Kept running: {', '.join(kept)}.", messages.WARNING)
