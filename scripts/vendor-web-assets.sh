#!/usr/bin/env bash
# Fetches the web page's third-party JavaScript/CSS from the npm registry (`npm pack`, no
# install, no build) into core/web/page/static/vendor/, with each package's licence.
# Run by a maintainer to update them; the files are committed, so users never need Node
# and `pip install .` works offline. Pin the versions here; change them on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKET_IO_CLIENT_VERSION="4.8.4"
SWAGGER_UI_DIST_VERSION="5.35.0"

dest="core/web/page/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() { # name version -> prints the unpacked folder
	(cd "$work" && npm pack --silent "$1@$2" >/dev/null)
	local tarball
	tarball="$(ls "$work"/"${1//\//-}"-"$2".tgz)"
	mkdir -p "$work/$1"
	tar -xzf "$tarball" -C "$work/$1" --strip-components=1
	echo "$work/$1"
}

rm -rf "$dest"
mkdir -p "$dest/socket.io" "$dest/swagger-ui"

sio="$(unpack socket.io-client "$SOCKET_IO_CLIENT_VERSION")"
cp "$sio/dist/socket.io.min.js" "$dest/socket.io/"
cp "$sio/LICENSE" "$dest/socket.io/LICENSE"

sw="$(unpack swagger-ui-dist "$SWAGGER_UI_DIST_VERSION")"
cp "$sw/swagger-ui-bundle.js" "$sw/swagger-ui.css" "$dest/swagger-ui/"
cp "$sw/LICENSE" "$dest/swagger-ui/LICENSE"
[ -f "$sw/NOTICE" ] && cp "$sw/NOTICE" "$dest/swagger-ui/NOTICE"

cat > "$dest/VERSIONS" <<VERSIONS
socket.io-client $SOCKET_IO_CLIENT_VERSION (MIT) socket.io/socket.io.min.js
swagger-ui-dist $SWAGGER_UI_DIST_VERSION (Apache-2.0) swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css
VERSIONS
echo "vendored into $dest:" >&2
(cd "$dest" && find . -type f | sort) >&2
