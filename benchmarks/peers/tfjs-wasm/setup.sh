#!/bin/sh
# Install the tfjs-wasm benchmark peer into a build directory.
#
#   sh setup.sh DESTDIR
#
# Copies package.json, package-lock.json and peer_tfjs_wasm.mjs into DESTDIR
# and runs `npm ci` there when DESTDIR/node_modules is missing or older than
# the lock file. Needs node (>= 18) and npm, and the npm registry (nothing
# else is downloaded: the wasm binaries and the model weights ship inside the
# npm packages). Quiet on success.
set -eu

me="setup.sh (tfjs-wasm peer)"
die() {
    echo "$me: $*" >&2
    exit 1
}

[ "$#" -eq 1 ] || die "usage: sh setup.sh DESTDIR"
dest=$1
[ -n "$dest" ] || die "DESTDIR is empty"

srcdir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || die "cannot locate the peer sources"

command -v node >/dev/null 2>&1 || die "node not found on PATH (Node.js >= 18 is needed)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"

mkdir -p -- "$dest" || die "cannot create $dest"

# Copy only when the content differs, so that an unchanged lock file keeps
# its mtime and does not trigger a reinstall.
for f in package.json package-lock.json peer_tfjs_wasm.mjs; do
    [ -f "$srcdir/$f" ] || die "missing $srcdir/$f"
    if ! cmp -s "$srcdir/$f" "$dest/$f"; then
        cp -- "$srcdir/$f" "$dest/$f.tmp.$$" || die "cannot write $dest/$f"
        mv -f -- "$dest/$f.tmp.$$" "$dest/$f" || die "cannot write $dest/$f"
    fi
done

if [ -d "$dest/node_modules" ] && ! [ "$dest/package-lock.json" -nt "$dest/node_modules" ]; then
    exit 0
fi

# npm's output goes to a log that is shown only on failure; --loglevel=error
# (rather than --silent, which would also hide the reason of a failure).
log="$dest/npm-ci.log"
if (cd -- "$dest" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    # npm ci recreates node_modules; touch it anyway so it is newer than
    # the lock file even on coarse-mtime file systems.
    touch -- "$dest/node_modules"
    rm -f -- "$log"
    for f in @vladmandic/face-api/dist/face-api.node-wasm.js \
        @vladmandic/face-api/model/face_recognition_model.bin \
        @tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm; do
        [ -f "$dest/node_modules/$f" ] || {
            rm -rf -- "$dest/node_modules"
            die "npm ci finished but node_modules/$f is missing"
        }
    done
    exit 0
fi

# Leave no half-installed tree behind (it would look up to date next time).
rm -rf -- "$dest/node_modules"
echo "$me: 'npm ci' failed in $dest; its output:" >&2
sed 's/^/    /' "$log" >&2 || true
die "install failed (is the npm registry reachable?)"
