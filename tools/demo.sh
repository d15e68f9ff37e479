#!/bin/sh
# demo.sh BIN SHARED - the main job on a small demo: face descriptors of
# aligned chips and how far apart they are, then a small mugshot gallery
# enrolled and an identification measured.  Uses the golden chips and data
# sets of ../shared when they are there, else a chip it draws itself.
set -eu
bin=$1
shared=$2
"$bin" --version
echo
if [ -f "$shared/golden/face1.png" ]; then
    g=$shared/golden
    echo "== descriptors of two face chips and of the first one mirrored"
    "$bin" embed "$g/face1.png" "$g/face1_flip.png" "$g/face2.png" | \
        awk '/L2 norm/ { print } /^ / { n++; if (n % 16 == 1) print "  ..." }'
    echo
    echo "== euclidean distances between raw descriptors (dlib: same person below 0.6)"
    "$bin" embed --json "$g/face1.png" "$g/face1_flip.png" "$g/face2.png" | \
        tr -d '[]{}"' | tr ',' '\n' | awk -F: '
            /^file/ { f[++n] = $2; k = 0; next }
            /^descriptor/ { v[n, ++k] = $2; next }
            NF { v[n, ++k] = $1 }
            END {
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                    s = 0
                    for (d = 1; d <= 128; d++) s += (v[i, d] - v[j, d]) ^ 2
                    sub(".*/", "", f[i]); sub(".*/", "", f[j])
                    printf "  %-16s %-16s %.3f\n", f[i], f[j], sqrt(s)
                }
            }'
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # a 150x150 24-bit BMP of noise: 54-byte header, rows of 452 bytes
    { printf 'BM\016\011\001\000\000\000\000\000\066\000\000\000'
      printf '\050\000\000\000\226\000\000\000\226\000\000\000'
      printf '\001\000\030\000\000\000\000\000\330\010\001\000'
      printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
      head -c 67800 /dev/urandom; } > "$tmp/noise.bmp"
    echo "== ../shared is absent: the descriptor of a noise chip"
    "$bin" embed "$tmp/noise.bmp"
fi

faces=$shared/datasets/faces94
if [ -d "$faces" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # ten people, two photos each, as DIR/<subject>/<image>
    for p in $(ls "$faces" | head -10); do
        mkdir -p "$tmp/mugshots/$p"
        for f in $(ls "$faces/$p" | head -2); do
            ln -s "$faces/$p/$f" "$tmp/mugshots/$p/$f"
        done
    done
    # the demo's own gallery, key file and session, gone at the end; its
    # administrator's password is random and used once
    export FACESEARCH_GALLERY="$tmp/gallery" XDG_CONFIG_HOME="$tmp/config" \
        XDG_RUNTIME_DIR="$tmp/run"
    pw=$(head -c 18 /dev/urandom | base64)
    echo
    echo "== a gallery under the detroit profile, its administrator logged in"
    echo "$pw" | "$bin" init --profile detroit --admin demo.admin \
        --unit "Crime Intelligence" --password-stdin
    echo "$pw" | "$bin" login --user demo.admin --password-stdin
    echo
    echo "== enrolling 20 mugshots of 10 people (report: per image)"
    "$bin" enroll "$tmp/mugshots" --report "$tmp/report.csv" 2>/dev/null
    head -3 "$tmp/report.csv" | cut -c1-110
    echo
    "$bin" gallery stats
    echo
    echo "== a requester files a request; a trained examiner searches for it"
    for u in "demo.examiner examiner --trained 2026-01-15" "demo.requester requester"; do
        set -- $u
        name=$1 role=$2
        shift 2
        echo "$pw" | "$bin" user add "$name" --roles "$role" --unit \
            "Crime Intelligence" "$@" --password-stdin
    done
    echo "$pw" | "$bin" login --user demo.requester --password-stdin
    req=$("$bin" request new --case 2026-0042 --crime robbery \
        --requester "Det. R. Jones" --agency "Crime Intelligence" \
        --contact r.jones@example.org --source "photo from the victim's phone" \
        --justification "Armed robbery of a gas station; the clerk saw the robber's face")
    "$bin" request show "$req"
    echo "$pw" | "$bin" login --user demo.examiner --password-stdin
    who=$(ls "$tmp/mugshots" | sed -n 4p)
    probe=$(ls "$faces/$who" | sed -n 5p)
    echo
    echo "== without --human-review the gate releases nothing (G10)"
    "$bin" search --request "$req" "$faces/$who/$probe" || true
    echo
    echo "== the gated search of $who's photo $probe (not enrolled)"
    "$bin" search --request "$req" "$faces/$who/$probe" --human-review --k 5
    echo "$pw" | "$bin" login --user demo.admin --password-stdin
    echo
    echo "== the audit trail: every action, chained (G18)"
    "$bin" audit log | cut -c1-150
    "$bin" audit verify
    echo
    echo "== identification on dlib's 'johns' (5 people, 55 photos)"
    "$bin" eval "$shared/datasets/dlib_johns" 2>/dev/null
fi
