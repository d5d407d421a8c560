"""The VGG16 "notop" weights file: where it is, whether it is the right file, how to get it.

The encoder cannot run without this 58 MB file, and users meet it on machines with no network,
behind proxies or with a copy fetched by hand. So the lookup is predictable (explicit path, then
``DESKTOP_CAPTIONER_WEIGHTS``, then a copy shipped with the app, then the app cache, then a
download), a path the user named is never silently replaced by another, and every failure says
exactly where to put the file. Validation reads the HDF5 layout with h5py, not Keras, so the GUI
can check a file the user picked without importing TensorFlow.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_captioner.core import bundled, paths
from desktop_captioner.core.download import DownloadError, download_file
from desktop_captioner.core.errors import WeightsError, describe_os_error
from desktop_captioner.core.progress import CancelToken, ProgressCallback

if TYPE_CHECKING:
    import h5py

WEIGHTS_FILENAME = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
               + WEIGHTS_FILENAME)
WEIGHTS_MD5 = "6d6bbae143d832006294945121d1f1fc"
WEIGHTS_SIZE = 58_889_256
WEIGHTS_ENV = "DESKTOP_CAPTIONER_WEIGHTS"

# VGG16's 13 convolutions: (blocks, convolutions per block, output channels).
_VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))


@dataclass(frozen=True)
class WeightsLocation:
    """A weights file and how it was found: "explicit", "env", "bundled" or "cache"."""

    path: Path
    source: str


def cache_weights_path() -> Path:
    """Where a download goes, and where users may drop a copy fetched by hand."""
    return paths.cache_dir() / "weights" / WEIGHTS_FILENAME


def find_weights(explicit: str | Path | None = None) -> WeightsLocation | None:
    """The weights file that would be used, or None when a download is needed.

    A path the user named (``explicit`` or the environment variable) must exist: falling through
    to another file would hide their typo.
    """
    if explicit:
        return WeightsLocation(_existing(Path(explicit).expanduser(), ""), "explicit")
    named = os.environ.get(WEIGHTS_ENV)
    if named:
        return WeightsLocation(_existing(Path(named).expanduser(), f" named by {WEIGHTS_ENV}"),
                               "env")
    shipped = bundled.bundled_weights()
    if shipped is not None:
        return WeightsLocation(shipped, "bundled")
    cached = cache_weights_path()
    if cached.is_file():
        return WeightsLocation(cached, "cache")
    return None


def resolve_weights(explicit: str | Path | None = None, *, download: bool = True,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> Path:
    """A validated weights file, downloading it into the cache if none is found and allowed."""
    location = find_weights(explicit)
    if location is not None:
        path = location.path
    elif download:
        path = download_weights(progress=progress, cancel=cancel)
    else:
        raise WeightsError(f"No VGG16 weights file was found; {_where_to_put_it()}.")
    validate_weights_file(path)
    return path


def download_weights(dest: Path | None = None, *, url: str = WEIGHTS_URL, md5: str = WEIGHTS_MD5,
                     size: int = WEIGHTS_SIZE, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None, timeout: float = 30) -> Path:
    """Download the official file (checksum-verified) to ``dest`` (default: the app cache).

    Raises ``WeightsError`` saying what happened and where to put a copy by hand, or
    ``Cancelled`` when ``cancel`` fires; no partial file is ever left under the final name, and
    the next call resumes an interrupted or cancelled download (``core/download.py``).
    """
    dest = Path(dest) if dest is not None else cache_weights_path()
    try:
        return download_file(url, dest, md5=md5, size=size, progress=progress, cancel=cancel,
                             timeout=timeout)
    except DownloadError as exc:
        raise WeightsError(f"Could not download the VGG16 weights ({exc}); "
                           f"{_where_to_put_it(dest, url)}.") from exc
    except OSError as exc:  # the destination folder or the final rename refused
        raise WeightsError(f"Could not download the VGG16 weights "
                           f"({describe_os_error(dest, exc).rstrip('.')}); "
                           f"{_where_to_put_it(dest, url)}.") from exc


def validate_weights_file(path: str | Path) -> None:
    """Raise ``WeightsError`` unless ``path`` holds VGG16's 13 conv layers in Keras' legacy HDF5
    layout (the one ``keras.applications.VGG16(weights=path)`` reads) and nothing else."""
    import h5py  # with numpy, ~200 ms: only when a file is checked, never before the window

    path = Path(path)
    _existing(path, "")
    try:
        with h5py.File(path, "r") as f:
            problem = _layout_problem(f)
    except OSError:
        problem = "it is not an HDF5 file, or it is damaged"
    except (KeyError, ValueError, TypeError) as exc:
        problem = f"its contents are damaged ({exc})"
    if problem:
        raise WeightsError(f"{path} is not a VGG16 'notop' weights file: {problem}.")


def weights_md5(path: str | Path) -> str:
    """MD5 of the weights file, the identity that encoder configs and feature caches key on.

    Memoised by (resolved path, size, mtime) so repeated cache lookups do not re-read 58 MB,
    while a replaced file is hashed again.
    """
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise WeightsError(f"The VGG16 weights file {path} cannot be read ({exc.strerror}).") \
            from exc
    return _md5_of(str(resolved), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _md5_of(resolved: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5()
    with open(resolved, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vgg16_conv_shapes() -> dict[str, tuple[int, ...]]:
    """Kernel shape of each VGG16 conv layer, by its Keras name."""
    shapes, channels = {}, 3
    for block, convs, width in _VGG16_BLOCKS:
        for conv in range(1, convs + 1):
            shapes[f"block{block}_conv{conv}"] = (3, 3, channels, width)
            channels = width
    return shapes


def _layout_problem(f: h5py.File) -> str | None:
    """What is wrong with an open HDF5 file as VGG16 notop weights, or None if nothing is."""
    if "layer_names" not in f.attrs:
        return ("it has no 'layer_names' attribute, so it is not a Keras weights file "
                "in the legacy HDF5 layout")
    layer_names = [_text(name) for name in f.attrs["layer_names"]]
    expected = _vgg16_conv_shapes()
    missing = [name for name in expected if name not in layer_names]
    if missing:
        return f"it has no layer {', '.join(missing)}"
    weighted = [name for name in layer_names if len(f[name].attrs.get("weight_names", [])) > 0]
    extra = [name for name in weighted if name not in expected]
    if extra:
        return (f"it also holds weights for {', '.join(extra)} (the full VGG16 file has those; "
                "the 'notop' file without the classifier is needed)")
    for name, kernel_shape in expected.items():
        group = f[name]
        shapes = [tuple(group[_text(w)].shape) for w in group.attrs.get("weight_names", [])]
        if shapes != [kernel_shape, kernel_shape[-1:]]:
            return (f"layer {name} holds weights of shapes {shapes}, "
                    f"expected [{kernel_shape}, {kernel_shape[-1:]}]")
    return None


def _text(value: bytes | str) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _existing(path: Path, named_by: str) -> Path:
    """``path`` if it is a file; otherwise a WeightsError rather than a silent fallback."""
    if path.is_dir():
        raise WeightsError(f"The VGG16 weights file{named_by} is a folder, not a file: {path}.")
    if not path.is_file():
        raise WeightsError(f"The VGG16 weights file{named_by} does not exist: {path}.")
    return path


def _where_to_put_it(dest: Path | None = None, url: str = WEIGHTS_URL) -> str:
    dest = dest if dest is not None else cache_weights_path()
    return (f"download {url} yourself and save it as {dest}, "
            f"or pass --weights FILE, or set {WEIGHTS_ENV} to the file's path")
