from django.urls import path

from conversations import api, views

app_name = "conversations"

urlpatterns = [
    path("chat/panel/", views.chat_panel, name="panel"),
]

api_urlpatterns = [
    path("interactions/message", api.InteractionMessageView.as_view(), name="interactions-message"),
    path("interactions/history", api.InteractionHistoryView.as_view(), name="interactions-history"),
    path("support/tickets", api.TicketListView.as_view(), name="support-tickets"),
    path("support/tickets/<str:ticket_id>", api.TicketDetailView.as_view(), name="support-ticket"),
    path("support/tickets/<str:ticket_id>/close", api.TicketCloseView.as_view(), name="support-ticket-close"),
]
