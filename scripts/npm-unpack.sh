# Sourced by scripts/test-node.sh and scripts/test-wine.sh.
# npm_unpack SPEC DIR: the npm registry's tarball of SPEC (name@version), unpacked into DIR
# (emptied first); the tarball itself is not kept.
npm_unpack() {
  local spec=$1 dir=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
}
