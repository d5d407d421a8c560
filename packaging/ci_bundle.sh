#!/usr/bin/env bash
# CI: build the app bundle with embedded (test) weights and a tiny trained model, then run the
# frozen app's --self-test. Run inside the CI virtualenv, after the tests: bash packaging/ci_bundle.sh
#
# The bundle is windowed. On Linux PyInstaller's windowed flag changes nothing and the frozen
# app's stdout is this terminal; on Windows/macOS the self-test still reaches the terminal through
# desktop_captioner.frozen.print_to_terminal. So one bundle serves users and CI alike.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== $1 ($(( $(date +%s) - start )) s)"; }
out=build/ci
rm -rf "$out"
mkdir -p "$out"

step "install the package extra"
pip install --quiet -e ".[package]"

step "test weights and a tiny model"
python -m tests.support.fake_vgg16 "$out/weights.h5"
desktop-captioner sample-dataset "$out/sample" --images 60
desktop-captioner train "$out/sample" --out "$out/model.dcmodel" --weights "$out/weights.h5" \
    --image-size 64 --epochs 2

step "build the bundle"
PYTHON=python bash packaging/build.sh --weights "$out/weights.h5" --model "$out/model.dcmodel"

step "frozen self-test"
# No --weights/--model: the self-test must find both inside the bundle.
QT_QPA_PLATFORM=offscreen DESKTOP_CAPTIONER_HOME="$out/home" \
    dist/desktop-captioner/desktop-captioner --self-test | tee "$out/self-test.txt"
grep -q "^self-test ok: .*weights(bundled).*model(bundled)" "$out/self-test.txt"
# Again with --train, so training (tf.data, optimisers, BLEU via nltk) also runs frozen.
QT_QPA_PLATFORM=offscreen DESKTOP_CAPTIONER_HOME="$out/home" \
    dist/desktop-captioner/desktop-captioner --self-test --train | tee "$out/self-test.txt"
grep -q "^self-test ok: .*model(trained 1 epoch)" "$out/self-test.txt"

echo "bundle built and self-tested in $(( $(date +%s) - start )) s"
