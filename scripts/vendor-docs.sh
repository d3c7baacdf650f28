#!/usr/bin/env bash
# Refresh the Swagger UI assets that plugins/docs serves at /docs from the npm registry.
# The built files are committed, so the Python package works without Node; run this (it needs
# npm) only to move to another Swagger UI version:  scripts/vendor-docs.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=swagger-ui-dist
VERSION=${1:-5.35.0}
DEST=plugins/docs/static
FILES=(swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm pack fetches the published tarball only: no install scripts, no dependencies.
tarball=$(cd "$work" && npm pack --silent "$PACKAGE@$VERSION")
tar -xzf "$work/$tarball" -C "$work"
for file in "${FILES[@]}"; do
  install -m 0644 "$work/package/$file" "$DEST/$file"
done
# Drop the source-map pointer: the map is not vendored, and browsers would ask for it.
sed -i '/^\/\/# sourceMappingURL=/d' "$DEST/swagger-ui-bundle.js"
sed -i 's@/\*# sourceMappingURL=[^*]*\*/@@' "$DEST/swagger-ui.css"
echo "$PACKAGE@$VERSION" > "$DEST/VERSION"
echo "vendored $PACKAGE@$VERSION into $DEST: ${FILES[*]}"
