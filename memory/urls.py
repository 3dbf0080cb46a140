from django.urls import path

from memory import api, views

app_name = "memory"

urlpatterns = [
    path("account/memory/", views.memory_page, name="page"),
    path("account/memory/forget/<str:key>/", views.preference_forget_view, name="forget-preference"),
    path(
        "account/memory/interests/<str:affinity_id>/forget/",
        views.affinity_forget_view,
        name="forget-affinity",
    ),
    path("account/memory/history/<str:summary_id>/forget/", views.summary_forget_view, name="forget-summary"),
    path("account/memory/history/clear/", views.history_clear_view, name="clear-history"),
    path("account/memory/clear/", views.memory_clear_view, name="clear"),
    path("account/memory/export/", views.memory_export_view, name="export"),
]

api_urlpatterns = [
    path("memory", api.MemoryView.as_view(), name="memory"),
    path("memory/preferences", api.PreferencesView.as_view(), name="memory-preferences"),
    path("memory/preferences/<str:key>", api.PreferenceKeyView.as_view(), name="memory-preference-key"),
    path("memory/history", api.HistoryView.as_view(), name="memory-history"),
    path("memory/affinities/<str:affinity_id>", api.AffinityView.as_view(), name="memory-affinity"),
    path("memory/export", api.ExportView.as_view(), name="memory-export"),
]
