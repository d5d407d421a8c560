"""Captioning on Ray vs locally: what the cluster path costs on one machine.

The same 200 photo-sized JPEGs are captioned by ``Captioner.caption`` in this process (the
baseline) and by ``caption_on_cluster`` on a local Ray instance with 1 and then 2 actors. Each
run is timed cold, from nothing loaded to the last row, since that is what a command-line run
pays: the local run builds its Captioner, each Ray run starts its actors (a fresh Python that
imports TensorFlow and builds the Captioner) and ships every row back. On a machine of few
cores, the ratio is the overhead; more actors only pay off with more cores or more nodes.
Encoder input is 112 px (64 with --quick) to keep the run short; the decoder is Flickr8k-sized.
"""

from __future__ import annotations

import os
import time

import benchkit
import our_captioner

PHOTOS, BATCH, BEAM = 200, 16, 3


def _local(model, weights, photos) -> tuple[float, float]:
    """(seconds to the last row, seconds to the first batch) of a cold local run."""
    from desktop_captioner.core.captioner import Captioner

    start = time.perf_counter()
    captioner = Captioner.load(model, weights=weights, precision="float32")
    first = None
    for index, result in enumerate(captioner.caption(photos, batch_size=BATCH, beam_width=BEAM)):
        if not result.ok:
            raise RuntimeError(result.error)
        if index == 0:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first


def _ray(model, weights, photos, actors: int) -> tuple[float, float]:
    """(seconds to the last row, seconds to the first batch) of a cold run on ``actors``."""
    from desktop_captioner.core.cluster_captioning import caption_on_cluster

    start = time.perf_counter()
    first = None
    rows = caption_on_cluster(photos, model_file=model, weights_file=weights,
                              precision="float32", batch_size=BATCH, beam_width=BEAM,
                              actors=actors)
    for index, result in enumerate(rows):
        if not result.ok:
            raise RuntimeError(result.error)
        if index == 0:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first


def main() -> None:
    args = benchkit.parse_args(__doc__.splitlines()[0])
    size = 64 if args.quick else 112
    benchkit.print_header("Captioning on a local Ray instance vs in-process", args.quick)
    from desktop_captioner.core.cluster import cluster_session, import_ray

    ray = import_ray()
    weights = benchkit.fake_weights()
    model = our_captioner.flickr8k_sized_model(weights, "float32", image_size=size)
    photos = benchkit.make_photos(PHOTOS)
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        with cluster_session("auto"):
            local_s, local_first = _local(model, weights, photos)
            runs = [(actors, *_ray(model, weights, photos, actors)) for actors in (1, 2)]
    finally:
        ray.shutdown()

    print(f"   {PHOTOS} photos 500x375 JPEG, {size} px, float32, batch {BATCH}, beam {BEAM}; "
          f"cold runs (model/actor start-up included); Ray {ray.__version__}")
    rows = [["local Captioner.caption", local_s, local_first, PHOTOS / local_s, 1.0]]
    rows += [[f"Ray, {actors} actor{'s' if actors > 1 else ''}", seconds, first,
              PHOTOS / seconds, seconds / local_s] for actors, seconds, first in runs]
    benchkit.print_table(["what", "seconds", "first batch s", "img/s", "time vs local"], rows)


if __name__ == "__main__":
    main()
