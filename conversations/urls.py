from django.urls import path

from conversations import api, views

app_name = "conversations"

urlpatterns = [
    path("chat/panel/", views.chat_panel, name="panel"),
    path("chat/handoff/", views.handoff_code, name="handoff_code"),
    path("chat/continue/", views.handoff_continue, name="continue"),
]

api_urlpatterns = [
    path("auth/ws-ticket", api.WsTicketView.as_view(), name="auth-ws-ticket"),
    path("interactions/message", api.InteractionMessageView.as_view(), name="interactions-message"),
    path("interactions/history", api.InteractionHistoryView.as_view(), name="interactions-history"),
    path("handoff/codes", api.HandoffCodeView.as_view(), name="handoff-codes"),
    path("handoff/redeem", api.HandoffRedeemView.as_view(), name="handoff-redeem"),
    path("support/tickets", api.TicketListView.as_view(), name="support-tickets"),
    path("support/tickets/<str:ticket_id>", api.TicketDetailView.as_view(), name="support-ticket"),
    path("support/tickets/<str:ticket_id>/close", api.TicketCloseView.as_view(), name="support-ticket-close"),
]
