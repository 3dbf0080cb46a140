"""The site processes' garbage collector: what is loaded at startup is set aside once.

CPython's cyclic collector walks every object of its oldest generation each time it collects that
generation. A site process tracks about 400,000 objects once Django, the apps, the URL patterns (with
every view they import) and the assistant's lexicon are loaded, and they live as long as the process.
Under the chat's load a Daphne process collected that generation every few seconds at 250-300 ms a
time: with the younger generations, 7% of its CPU went to the collector, and every socket of the
process waited through each of those pauses (docs/benchmarks.md, eighteenth pass). ``gc.freeze()``
moves those objects to a permanent generation the collector never walks, so a collection looks only at
what was made since: 3% of the CPU. The youngest generation's threshold raised from 700 to 10,000 new
objects means fewer objects of a request still alive at a collection, promoted and walked again
later: 2%.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

# Net new container objects between two collections of the youngest generation (CPython: 700). The
# older generations keep CPython's thresholds.
YOUNG_GENERATION_THRESHOLD = 10_000


def settle_collector() -> None:
    """Loads the root URLconf, collects the imports' garbage, freezes every object still alive and
    raises the youngest generation's threshold.

    Called once by each entry point (``commerce.asgi``, ``commerce.wsgi``) after the application is
    built. Django would load the URLconf (and every view module it names, about 20,000 objects) at the
    first request, after the freeze. Collecting first frees the cycles the imports left, which freezing
    would keep for good."""
    get_resolver().url_patterns  # noqa: B018 - reading the property imports the URLconf
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
