#!/usr/bin/env bash
# Install the built bundle for the current user: the app in ~/.local/opt/desktop-captioner, a
# `desktop-captioner` command in ~/.local/bin, and a menu entry with its icon.
#
#   packaging/install-linux.sh            (after packaging/build.sh)
#   packaging/install-linux.sh --uninstall
set -euo pipefail
cd "$(dirname "$0")/.."
data=${XDG_DATA_HOME:-$HOME/.local/share}
app=$HOME/.local/opt/desktop-captioner
bin=$HOME/.local/bin/desktop-captioner
entry=$data/applications/desktop-captioner.desktop
icon=$data/icons/hicolor/256x256/apps/desktop-captioner.png

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app" "$bin" "$entry" "$icon"
    echo "uninstalled desktop-captioner"
    exit 0
fi
[ -x dist/desktop-captioner/desktop-captioner ] || {
    echo "install-linux.sh: build first: packaging/build.sh" >&2; exit 2; }

rm -rf "$app"
mkdir -p "$(dirname "$app")" "$(dirname "$bin")" "$(dirname "$entry")" "$(dirname "$icon")"
cp -a dist/desktop-captioner "$app"
ln -sfn "$app/desktop-captioner" "$bin"
cp resources/icons/desktop-captioner.png "$icon"
sed "s|^Exec=desktop-captioner|Exec=$app/desktop-captioner|" packaging/desktop-captioner.desktop > "$entry"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "installed $app; run: desktop-captioner (or find Desktop Captioner in the menu)"
