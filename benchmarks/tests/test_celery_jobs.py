"""benchmarks/celery_jobs.py: a worker's pace read off samples of its queue's length."""

from __future__ import annotations

import pytest

from benchmarks.celery_jobs import drained


def test_the_pace_is_timed_from_the_last_full_sample_to_the_first_empty_one():
    # The worker starts up (the queue full), takes 100 jobs in 0.5 s, then the queue stays empty.
    samples = [(0.0, 100), (1.0, 100), (2.0, 100), (2.1, 80), (2.3, 40), (2.5, 0), (2.6, 0)]

    result = drained(samples, 100)

    assert (result.jobs, result.first, result.last) == (100, 2.0, 2.5)
    assert result.rate == pytest.approx(200.0)


def test_a_worker_that_had_started_before_the_first_sample_counts_from_it():
    result = drained([(0.0, 90), (1.0, 0)], 100)

    assert (result.jobs, result.rate) == (90, pytest.approx(90.0))


@pytest.mark.parametrize(
    ("samples", "message"),
    [([(0.0, 10), (1.0, 10)], "took no job"), ([(0.0, 10), (1.0, 5)], "never emptied")],
)
def test_a_queue_not_drained_is_an_error_not_a_figure(samples, message):
    with pytest.raises(ValueError, match=message):
        drained(samples, 10)
