from django.dispatch import Signal

# Sent after the order's transaction commits: order (an Order). Voice attribution and memory listen.
order_placed = Signal()

# Sent after commit when an order changes status: order (an Order), from_status (str, "" when created).
order_status_changed = Signal()
