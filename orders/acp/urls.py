from django.urls import path

from orders.acp import views

urlpatterns = [
    path("checkout_sessions", views.checkout_sessions, name="acp-checkout-sessions"),
    path("checkout_sessions/<str:session_id>", views.checkout_session, name="acp-checkout-session"),
    path("checkout_sessions/<str:session_id>/complete", views.complete, name="acp-complete"),
    path("checkout_sessions/<str:session_id>/cancel", views.cancel, name="acp-cancel"),
]
