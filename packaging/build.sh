#!/usr/bin/env bash
# Build the desktop-captioner app bundle: dist/desktop-captioner/desktop-captioner (PyInstaller onedir).
#
#   packaging/build.sh [--weights VGG16_NOTOP.h5] [--model MODEL.dcmodel]
#
# Run from any folder, in a Python environment with the package extra installed
# (pip install -e ".[package]"); set PYTHON to use a specific interpreter.
# --weights embeds the VGG16 weights and --model a default caption model, so the bundled app
# captions offline on first launch.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}  # the TensorFlow hook imports TF; keep its chatter out

usage() { echo "usage: packaging/build.sh [--weights FILE] [--model MODEL]" >&2; exit 2; }
spec_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --weights|--model)
            [ $# -ge 2 ] || usage
            [ -f "$2" ] || { echo "build.sh: $1 $2: no such file" >&2; exit 2; }
            spec_args+=("$1" "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")")
            shift 2 ;;
        -h|--help) usage ;;
        *) echo "build.sh: unknown option $1" >&2; usage ;;
    esac
done

# Refuse to embed a file the app would reject at run time: fail the build, not the user.
"$PYTHON" - ${spec_args[@]+"${spec_args[@]}"} <<'PY'
import sys
from desktop_captioner.core.errors import CaptionerError
from desktop_captioner.core.modelfile import read_manifest
from desktop_captioner.core.weights import validate_weights_file
options = dict(zip(sys.argv[1::2], sys.argv[2::2]))
try:
    if "--weights" in options:
        validate_weights_file(options["--weights"])
    if "--model" in options:
        read_manifest(options["--model"])
except CaptionerError as exc:
    sys.exit(f"build.sh: {exc}")
PY

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    packaging/desktop_captioner.spec -- ${spec_args[@]+"${spec_args[@]}"}
echo "built dist/desktop-captioner in $(( $(date +%s) - start )) s"
du -sh dist/desktop-captioner
