"""Connecting to a Ray cluster and streaming batches of image paths through an actor pool.

Ray is optional (``pip install "desktop-captioner[cluster]"``) and never imported at module
import time, so the app and its bundle work without it. The driver (this process) reads nothing
but results: every actor opens the image files itself, by path, so the photos, the model file
and the VGG16 weights must be on storage every node sees at the same path. Results come back in
input order, one block of exactly ``batch_size`` paths at a time, so each actor call is the very
batch the local run would have made (same batch, same numbers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path
from types import ModuleType
from typing import Iterator, Sequence

import numpy as np

from desktop_captioner.core.errors import CaptionerError

log = logging.getLogger(__name__)

AUTO = "auto"
INSTALL_HINT = 'pip install "desktop-captioner[cluster]"'
PROBE_TIMEOUT_S = 10.0  # a head node that does not accept a connection in this time is down


class ClusterError(CaptionerError):
    """Ray is missing, the cluster cannot be reached, or its actors cannot do the work."""


def import_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or a ``ClusterError`` saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ClusterError(f"--ray needs Ray Data, which is not installed here (no module "
                           f"{exc.name or 'ray'!r}); install it with: {INSTALL_HINT}") from None
    return ray


def _probe(address: str) -> None:
    """Fail in seconds when nothing listens at ``host:port`` (``ray.init`` would retry for
    minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"{address!r} is not a Ray address; give HOST:PORT of the head node "
                           f"(port 6379 by default) or 'auto'.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ClusterError(f"No Ray cluster answers at {address} ({reason}); start one with "
                           f"'ray start --head' or check the address.") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


@contextlib.contextmanager
def cluster_session(address: str) -> Iterator[ModuleType]:
    """Connect to the cluster at ``address`` (HOST:PORT, ``ray://...`` or ``auto``) for the
    ``with`` block and yield the ``ray`` module. An already connected process (a test's local
    instance, a notebook) is used as it is and stays connected."""
    ray = import_ray()
    named = os.environ.get("RAY_ADDRESS", "") if address == AUTO else address
    if named and named != AUTO and not named.startswith("ray://"):
        _probe(named)
    connected_here = not ray.is_initialized()
    if connected_here:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        except ConnectionError as exc:
            if address == AUTO:
                raise ClusterError("--ray auto found no Ray cluster running on this machine; "
                                   "start one with 'ray start --head', or give the head "
                                   "node's HOST:PORT.") from None
            raise ClusterError(f"Cannot connect to the Ray cluster at {address}: "
                               f"{_one_line(exc)}{_auth_hint(address)}") from None
        except Exception as exc:  # noqa: BLE001 - Ray raises RuntimeError, ValueError, ...
            raise ClusterError(f"Cannot connect to the Ray cluster at {address}: "
                               f"{_one_line(exc)}{_auth_hint(address)}") from None
    _quiet_ray_data(ray)
    try:
        yield ray
    finally:
        if connected_here:
            ray.shutdown()


def _auth_hint(address: str) -> str:
    """Ray only sends its token to an address given by name when told to: the usual reason a
    live cluster refuses this machine."""
    if address == AUTO or os.environ.get("RAY_AUTH_MODE"):
        return ""
    return ("; a cluster with token authentication (what 'ray start' sets up by default) also "
            "needs RAY_AUTH_MODE=token here and its token in RAY_AUTH_TOKEN or "
            "~/.ray/auth_token")


def _quiet_ray_data(ray: ModuleType) -> None:
    """Ray Data's progress bars and execution logs would garble the app's one progress line."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # "Progress bars disabled", and tracebacks the ClusterError sums up (the log file has them).
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)


def default_actors(ray: ModuleType) -> int:
    """One actor per live node: each loads TensorFlow once and uses that node's cores (Ray
    Data spreads a pool's actors over the nodes by default)."""
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


def cluster_path(path: Path) -> str:
    """The path an actor opens: absolute, since actors do not run in the driver's folder."""
    return os.fspath(path.absolute())


def as_given(message: str, sent: str, given: Path) -> str:
    """An actor's error message worded with the path as the user gave it, like a local run's
    (image errors start with the path they were asked to open)."""
    if message.startswith(sent) and os.fspath(given) != sent:
        return os.fspath(given) + message[len(sent):]
    return message


def map_path_batches(paths: Sequence[Path], actor_class: type, constructor_kwargs: dict,
                     *, batch_size: int, actors: int) -> Iterator[dict[str, np.ndarray]]:
    """Run ``actor_class`` (a callable class: set up once in ``__init__``, then called with
    ``{"path": array of str}`` batches) on a pool of ``actors`` Ray actors and yield its output
    batches in input order (checked), streaming, each holding the next ``batch_size`` paths'
    rows (fewer in the last). Ray failures (an actor that cannot start, a lost node) become a
    ``ClusterError``: row-level problems are the actor's to report as error rows."""
    ray = import_ray()
    import pyarrow  # installed with ray[data]

    sent = [cluster_path(path) for path in paths]
    blocks = [pyarrow.table({"path": sent[start:start + batch_size]})
              for start in range(0, len(sent), batch_size)]
    if not blocks:
        return
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    dataset = ray.data.from_arrow(blocks).map_batches(
        actor_class, fn_constructor_kwargs=constructor_kwargs, batch_size=None,
        batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1)
    done = 0
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            if list(batch["path"]) != sent[done:done + len(batch["path"])]:
                raise ClusterError(f"The Ray cluster returned rows out of order after "
                                   f"{done} of {len(sent)} images.")
            done += len(batch["path"])
            yield batch
    except ray.exceptions.RayError as exc:
        log.info("Ray failed the work", exc_info=True)
        raise ClusterError(f"The Ray cluster could not finish the work: "
                           f"{_cause_text(exc)}") from None


def _cause_text(exc: BaseException) -> str:
    """One line for what went wrong inside Ray: our own one-sentence error when a node raised
    one (an actor's ``__init__`` that cannot find the model file, say), else the last line of
    Ray's report (Ray passes on the node's traceback as text, ending "module.Type: message")."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    last = lines[-1].strip() if lines else exc.__class__.__name__
    kind, separator, message = last.partition(": ")
    if separator and kind.startswith("desktop_captioner."):
        return message
    return last
