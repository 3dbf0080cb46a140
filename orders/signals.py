from django.dispatch import Signal

# Sent after the order's transaction commits: order (an Order). Voice attribution and memory listen.
order_placed = Signal()
