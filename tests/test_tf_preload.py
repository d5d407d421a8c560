"""TensorFlow's import lets go of the GIL (see core/tf_preload.py for the measurements).

Each check runs in a fresh interpreter: this test process may have imported TensorFlow already,
and then nothing would be left to observe. How long the window stalls is measured by
benchmarks/bench_gui.py; these tests pin the three mechanisms that make it short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent("""
    import gc, json, sys, importlib.util
    from desktop_captioner.core import tf_preload
    calls = []
    original = tf_preload.load_libraries_without_gil
    def recording():
        calls.append({"loaded": original(), "tensorflow_imported": "tensorflow" in sys.modules})
        return calls[-1]["loaded"]
    tf_preload.load_libraries_without_gil = recording
    import desktop_captioner.core.tf_runtime as runtime
    schema = sys.modules["tensorflow.lite.python.schema_py_generated"]
    lazy_before_use = isinstance(schema, importlib.util._LazyModule)
    quantize = schema.BuiltinOperator.QUANTIZE
    from tensorflow.lite.tools import flatbuffer_utils
    print(json.dumps({
        "preloads": calls,
        "lazy_before_use": lazy_before_use,
        "quantize": quantize,
        "flatbuffer_utils_works": flatbuffer_utils.type_to_name(schema.TensorType.FLOAT32),
        "gc_enabled": gc.isenabled(),
        "frozen": gc.get_freeze_count(),
        "matmul": float(runtime.tf.linalg.matmul([[1.0, 2.0]], [[3.0], [4.0]])[0, 0]),
    }))
""")


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("home")
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                               timeout=300, env={**os.environ, "DESKTOP_CAPTIONER_HOME": str(home)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload is Linux-only")
def test_tensorflow_libraries_are_loaded_through_libc_before_the_import(probe):
    assert probe["preloads"] == [{"loaded": ["libtensorflow_framework.so.2",
                                             "libtensorflow_cc.so.2"],
                                  "tensorflow_imported": False}]
    assert probe["matmul"] == 11.0  # and TensorFlow works on top of them


def test_tf_lite_schema_is_lazy_yet_loads_unchanged_on_first_use(probe):
    assert probe["lazy_before_use"] is True
    assert isinstance(probe["quantize"], int)
    assert probe["flatbuffer_utils_works"] == "FLOAT32"


def test_collector_is_back_on_with_tensorflow_frozen_out_of_its_reach(probe):
    assert probe["gc_enabled"] is True
    assert probe["frozen"] > 100_000  # TensorFlow's module-level objects
