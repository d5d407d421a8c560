"""describe_failure: one sentence for any exception that ends background work."""

from __future__ import annotations

import logging

from desktop_captioner.core.applog import log_file
from desktop_captioner.core.errors import Cancelled, ImageLoadError, describe_failure


def test_a_cancel_is_not_reported():
    assert describe_failure(Cancelled("Stopped at your request."), "Training stopped") == ""


def test_an_expected_error_keeps_its_own_sentence_and_is_not_logged(caplog):
    with caplog.at_level(logging.INFO):
        reason = describe_failure(ImageLoadError("/p/a.jpg is not an image."), "Loading stopped")
    assert reason == "/p/a.jpg is not an image."
    assert not caplog.records


def test_a_bug_names_the_exception_and_its_last_line_and_is_logged_with_traceback(caplog):
    try:
        raise RuntimeError("graph context\n  more context\n\nOOM when allocating tensor.")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.ERROR):
        reason = describe_failure(error, "Training stopped")
    assert reason == ("Training stopped because of an internal error (RuntimeError: OOM when "
                      f"allocating tensor); the details are in {log_file()}.")
    [record] = caplog.records
    assert record.exc_info[1] is error and "Training stopped" in record.getMessage()
