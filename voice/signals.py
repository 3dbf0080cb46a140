"""Signals other apps listen to (connected in their ``ready()``)."""

from django.dispatch import Signal

# A recovery call ended with a summary, after commit: user, summary (conversations adds it to the
# shopper's conversation on the voice channel, so every open chat and the assistant see it).
call_summarized = Signal()
