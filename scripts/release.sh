#!/usr/bin/env bash
# Builds Session Lab's downloads for people without Go: one archive per
# platform (the binary, README.md and the licence file when there is one) and
# SHA256SUMS, into dist/. It builds the commit checked out (HEAD) from a clean
# clone of it, so uncommitted changes never slip in and the same commit gives
# byte-identical archives anywhere: no paths, build IDs, clock times, owners
# or directory order in them (https://reproducible-builds.org/docs/).
#
#   scripts/release.sh                  every platform below
#   scripts/release.sh linux/amd64 ...  only these (GOOS/GOARCH)
#
# Environment: DIST (output folder, default dist), SOURCE_DATE_EPOCH (default
# the commit's time). Needs git, Go, GNU tar, gzip, zip (for windows), sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
[ $# -gt 0 ] && targets=("$@")
dist=${DIST:-dist}
commit=$(git rev-parse HEAD)
version=$(git describe --tags --always)
# Every timestamp in the archives is the commit's, not the clock's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export LC_ALL=C TZ=UTC # zip stores local time; sort order by bytes

need() { command -v "$1" >/dev/null || { echo "release: $1 is missing: $2" >&2; exit 1; }; }
need go "install Go from https://go.dev/dl/"
need sha256sum "install coreutils"
need gzip "install gzip (Debian/Ubuntu: sudo apt-get install gzip)"
tar --version 2>/dev/null | grep -q 'GNU tar' || { echo "release: GNU tar is needed (macOS: brew install gnu-tar, and put gtar first on PATH as tar)" >&2; exit 1; }
case " ${targets[*]} " in *" windows/"*) need zip "install it (Debian/Ubuntu: sudo apt-get install zip; macOS: brew install zip)" ;; esac

if [ -n "$(git status --porcelain)" ]; then
  echo "release: note: uncommitted changes are not in the release: it builds commit $version" >&2
fi

mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# A real clone, not a git worktree: go build stamps the commit only where
# .git is a directory (golang/go#58218).
git clone -q --shared . "$stage/src"
git -C "$stage/src" checkout -q --detach "$commit"
cd "$stage/src"

docs=(README.md)
for f in LICENSE LICENSE.md LICENSE.txt COPYING; do [ -f "$f" ] && docs+=("$f"); done
rm -f "$dist"/sessionlab-*.tar.gz "$dist"/sessionlab-*.zip "$dist"/SHA256SUMS

archives=()
echo "Session Lab $version (commit time $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)) into $dist/"
for target in "${targets[@]}"; do
  goos=${target%/*} goarch=${target#*/}
  name=sessionlab-$goos-$goarch
  exe=sessionlab
  [ "$goos" = windows ] && exe=sessionlab.exe
  dir=$stage/$name
  mkdir -p "$dir"
  # -trimpath: no local paths; -buildid=: no per-build ID; -buildvcs=true:
  # the commit for `sessionlab version` (this machine's GOFLAGS may turn it off).
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=true \
    -ldflags "-s -w -buildid= -X main.version=$version" -o "$dir/$exe" .
  cp "${docs[@]}" "$dir/"
  chmod 0755 "$dir" "$dir/$exe"
  (cd "$dir" && chmod 0644 "${docs[@]}")
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  if [ "$goos" = windows ]; then
    archive=$name.zip
    # -X: no uid/gid or extra timestamps; names fed in sorted order.
    (cd "$stage" && find "$name" | sort | zip -X -q -@ "$dist/$archive")
  else
    archive=$name.tar.gz
    tar -C "$stage" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
      --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n >"$dist/$archive"
  fi
  archives+=("$archive")
  printf '  %-34s %s\n' "$archive" "$(du -h "$dist/$archive" | cut -f1)"
done

(cd "$dist" && sha256sum $(printf '%s\n' "${archives[@]}" | sort) >SHA256SUMS)
echo "  SHA256SUMS"
echo "done in $(( $(date +%s) - start ))s"
