#!/bin/sh
# seeds.sh CORPUS SHARED - a starting corpus for fuzz_intake: the
# test-suite's byte-built fixtures are written by the suite itself; here
# real files: the golden PNG chips and a few LFW JPEGs, when ../shared is
# there, and small files of each supported type made on the spot.
set -eu
out=$1
shared=$2
mkdir -p "$out"
if [ -d "$shared/golden" ]; then
    cp "$shared"/golden/syn_*.png "$shared"/golden/face1.png "$out"/ 2>/dev/null || true
fi
if [ -d "$shared/datasets/lfw-dev" ]; then
    find "$shared/datasets/lfw-dev" -name '*.jpg' | head -n 8 | while read -r f; do
        cp "$f" "$out/"
    done
fi
# a 4x4 BMP and the smallest TIFF header, by hand
printf 'BM\106\000\000\000\000\000\000\000\066\000\000\000\050\000\000\000\004\000\000\000\004\000\000\000\001\000\030\000\000\000\000\000\060\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' > "$out/seed.bmp"
head -c 48 /dev/zero >> "$out/seed.bmp"
printf 'II*\000\010\000\000\000' > "$out/seed.tif"
