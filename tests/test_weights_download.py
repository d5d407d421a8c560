"""Downloading the weights, against a local HTTP server serving a small stand-in payload."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time

import pytest

from desktop_captioner.core import weights
from desktop_captioner.core.download import part_path
from desktop_captioner.core.errors import Cancelled, WeightsError
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.weights import WEIGHTS_ENV, cache_weights_path, download_weights

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # ~1 MB: several download chunks
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges: list[str | None] = []  # the Range header of every request to /flaky.h5
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        if self.path == "/missing.h5":
            self.send_error(404, "Not Found")
            return
        if self.path == "/flaky.h5":
            self._flaky()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/weights.h5":
            self.wfile.write(PAYLOAD)
        elif self.path == "/drops.h5":
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.close_connection = True
        elif self.path == "/stalls.h5":
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            time.sleep(2)

    def _flaky(self):
        """Drops the first transfer after a third; later ones honour ``Range: bytes=N-``."""
        requested = self.headers.get("Range")
        _Handler.ranges.append(requested)
        if len(_Handler.ranges) == 1:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.close_connection = True
            return
        start = int(requested.removeprefix("bytes=").removesuffix("-")) if requested else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(PAYLOAD) - start))
        self.end_headers()
        self.wfile.write(PAYLOAD[start:])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def download(url, **kwargs):
    kwargs.setdefault("md5", PAYLOAD_MD5)
    kwargs.setdefault("size", len(PAYLOAD))
    return download_weights(url=url, **kwargs)


def assert_nothing_left(dest=None):
    folder = (dest or cache_weights_path()).parent
    assert not folder.exists() or list(folder.iterdir()) == []


def assert_failed_helpfully(info, *phrases):
    message = str(info.value)
    assert str(cache_weights_path()) in message and "--weights FILE" in message
    assert WEIGHTS_ENV in message and "\n" not in message
    for phrase in phrases:
        assert phrase in message


def test_download_into_the_cache_with_progress(server_url):
    reports = []
    path = download(f"{server_url}/weights.h5", progress=reports.append)
    assert path == cache_weights_path() and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no .part left
    assert len(reports) > 1 and {p.phase for p in reports} == {"download"}
    assert [p.done for p in reports] == sorted(p.done for p in reports)
    assert reports[-1].done == reports[-1].total == len(PAYLOAD)


def test_download_to_a_chosen_destination(server_url, tmp_path):
    dest = tmp_path / "elsewhere" / "vgg.h5"
    assert download(f"{server_url}/weights.h5", dest=dest) == dest
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server_url):
    with pytest.raises(WeightsError) as info:
        download(f"{server_url}/weights.h5", md5="0" * 32)
    assert_failed_helpfully(info, "checksum", PAYLOAD_MD5)
    assert_nothing_left()


def test_failed_download_keeps_an_existing_file(server_url, tmp_path):
    dest = tmp_path / "vgg.h5"
    dest.write_bytes(b"the old file")
    with pytest.raises(WeightsError):
        download(f"{server_url}/weights.h5", dest=dest, md5="0" * 32)
    assert dest.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["vgg.h5"]


def _part_file():
    return part_path(cache_weights_path())


def test_connection_dropped_mid_file_keeps_the_bytes_for_later(server_url):
    with pytest.raises(WeightsError) as info:
        download(f"{server_url}/drops.h5")
    assert_failed_helpfully(info, "dropped", "resumes")
    assert _part_file().read_bytes() == PAYLOAD[: len(PAYLOAD) // 3]
    assert not cache_weights_path().exists()


def test_a_dropped_download_resumes_where_it_stopped(server_url):
    _Handler.ranges.clear()
    with pytest.raises(WeightsError):
        download(f"{server_url}/flaky.h5")
    reports = []
    path = download(f"{server_url}/flaky.h5", progress=reports.append)
    assert path.read_bytes() == PAYLOAD and not _part_file().exists()
    assert _Handler.ranges == [None, f"bytes={len(PAYLOAD) // 3}-"]
    assert reports[0].done > len(PAYLOAD) // 3 and reports[-1].done == reports[-1].total


def test_a_server_that_ignores_the_range_gives_a_fresh_start(server_url):
    _part_file().parent.mkdir(parents=True, exist_ok=True)
    _part_file().write_bytes(b"x" * 1000)  # not even the right bytes: must not be kept
    assert download(f"{server_url}/weights.h5").read_bytes() == PAYLOAD
    assert not _part_file().exists()


def test_resumed_bytes_that_fail_the_checksum_are_not_kept(server_url):
    _Handler.ranges.clear()
    with pytest.raises(WeightsError):
        download(f"{server_url}/flaky.h5")
    with open(_part_file(), "r+b") as part:
        part.write(b"damaged")  # the kept bytes changed on disk since
    with pytest.raises(WeightsError) as info:
        download(f"{server_url}/flaky.h5")
    assert_failed_helpfully(info, "checksum")
    assert_nothing_left()


def test_server_that_stops_answering_times_out(server_url):
    with pytest.raises(WeightsError) as info:
        download(f"{server_url}/stalls.h5", timeout=0.3)
    assert_failed_helpfully(info, "stopped answering", "resumes")
    assert _part_file().read_bytes() == PAYLOAD[:1000]


def test_cancel_from_the_progress_callback(server_url):
    token = CancelToken()
    reports = []

    def cancel_after_first_chunk(progress):
        reports.append(progress)
        token.cancel()

    with pytest.raises(Cancelled):
        download(f"{server_url}/weights.h5", progress=cancel_after_first_chunk, cancel=token)
    assert len(reports) == 1 and reports[0].done < len(PAYLOAD)
    assert _part_file().stat().st_size == reports[0].done  # kept for the next attempt
    assert not cache_weights_path().exists()


def test_server_404(server_url):
    with pytest.raises(WeightsError) as info:
        download(f"{server_url}/missing.h5")
    assert_failed_helpfully(info, "404", f"{server_url}/missing.h5")
    assert_nothing_left()


def test_no_server_at_all():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WeightsError) as info:
        download(f"http://127.0.0.1:{port}/weights.h5", timeout=5)
    assert_failed_helpfully(info, "could not reach the server")
    assert_nothing_left()


def test_default_download_is_the_official_file(monkeypatch):
    seen = {}

    def fake_download_file(url, dest, *, md5, size, **_):
        seen.update(url=url, dest=dest, md5=md5, size=size)
        return dest

    monkeypatch.setattr(weights, "download_file", fake_download_file)
    assert download_weights() == cache_weights_path()
    assert seen == {"url": weights.WEIGHTS_URL, "dest": cache_weights_path(),
                    "md5": weights.WEIGHTS_MD5, "size": weights.WEIGHTS_SIZE}
