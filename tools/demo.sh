#!/bin/sh
# demo.sh BIN SHARED NPM_TGZ OUT - the whole story on a small demo gallery
# it builds itself: a gallery under the detroit profile, its people, the
# enrolment, a request, the gated search with its comparison sheet, the
# review by distinct people, the report and its page, the release and the
# outcome, a request with no candidate and one whose probe is unfit, the
# oversight figures, the monthly audit sample and the trail's check.
#
# The faces come from what the build already has on a fresh machine: the
# six sample photos shipped in the npm package the network's weights come
# from (@vladmandic/face-api, MIT; group photos of adults, used here as
# stand-ins for mugshots), held to their sha256, and scikit-image's
# astronaut.png (NASA, public domain) as a probe of somebody not enrolled.
# With ../shared, identification is then measured on a labelled set.
#
# Everything goes under OUT (made afresh): the gallery, its key file,
# the sessions and the pages, which stay there to be opened in a browser.
set -eu
bin=$1
shared=$2
tgz=$3
out=$4
astronaut=${5:-}

case $out in /*) ;; *) out=$(pwd)/$out ;; esac
rm -rf "$out"
mkdir -p "$out/photos" "$out/mugshots" "$out/pages" "$out/run"
chmod 700 "$out" "$out/run"
export FACESEARCH_GALLERY="$out/gallery" XDG_CONFIG_HOME="$out/config" \
    XDG_RUNTIME_DIR="$out/run"
unset FACESEARCH_SOCKET
pages=$out/pages

tar -xzf "$tgz" -C "$out/photos" --strip-components=2 \
    package/demo/sample1.jpg package/demo/sample2.jpg \
    package/demo/sample3.jpg package/demo/sample4.jpg \
    package/demo/sample5.jpg package/demo/sample6.jpg
(cd "$out/photos" && sha256sum --quiet -c) <<'EOF'
8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51  sample1.jpg
7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691  sample2.jpg
8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936  sample3.jpg
729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc  sample4.jpg
6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938  sample5.jpg
9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87  sample6.jpg
EOF

say() { printf '\n== %s\n' "$*"; }
# Each person has a password of their own, random and used only here.
secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
password() { printf '%s %s' "$secret" "$1" | sha256sum | cut -c1-24; }
as() { password "$1" | "$bin" login --user "$1" --password-stdin >/dev/null; }
# the first "key":"value" of a JSON document on stdin
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

"$bin" --version
say "a gallery under the detroit profile (Manual Directive 307.5) and its administrator"
password admin.ortiz | "$bin" init --profile detroit \
    --admin admin.ortiz --unit "Crime Intelligence" --password-stdin
as admin.ortiz
say "the people of the workflow: two trained examiners, a supervisor, a requester, an auditor"
adduser() {
    password "$1" | "$bin" user add "$@" --unit "Crime Intelligence" \
        --password-stdin
}
adduser exam.lee --roles examiner --trained 2026-02-02
adduser exam.novak --roles examiner --trained 2026-03-09
adduser sup.garcia --roles supervisor --trained 2025-11-17
adduser det.jones --roles requester
adduser aud.kim --roles auditor
"$bin" user list

say "the mugshots: each face of the six photos cut out (detect --crop) as one subject"
n=0
for pick in 1:0 1:2 2:0 3:0 3:1 3:2 4:0 4:2 5:1 5:3 5:4 6:0 6:1 6:2 6:3; do
    photo=sample${pick%%:*}.jpg face=${pick#*:}
    n=$((n + 1))
    subject=$(printf 'DPD-26-%04d' "$n")
    mkdir -p "$out/mugshots/$subject"
    "$bin" detect "$out/photos/$photo" --face "$face" \
        --crop "$out/mugshots/$subject/booking.png" >/dev/null 2>&1
    echo "$subject $photo face $face" >> "$out/mugshots.txt"
done
"$bin" enroll "$out/mugshots" --source booking --report "$out/enrolment.csv" \
    2>/dev/null
"$bin" gallery stats

say "request R1: a robbery; the requester files it (G4, G5)"
as det.jones
r1=$("$bin" request new --case 2026-0042 --crime robbery \
    --requester "Det. R. Jones" --agency "Crime Intelligence" \
    --contact r.jones@example.org --source "photo posted by the victim" \
    --justification "Armed robbery of a gas station on 2026-11-28; the clerk saw the robber's face in the victim's party photo")
"$bin" request show "$r1"

as exam.lee
probe=$out/photos/sample6.jpg
say "without --human-review the gate releases nothing (G10)"
"$bin" search --request "$r1" "$probe" --face 2 2>&1 || true
say "the gated search and its comparison sheet (the probe is face 2 of sample6.jpg, the photo one mugshot was cut from: the demo shows the workflow; eval measures accuracy)"
"$bin" search --request "$r1" "$probe" --face 2 --human-review --k 5 \
    --html "$pages/R1-comparison-sheet.html" | tee "$out/search.txt"
s1=$(sed -n 's/^search \(S[0-9]*\) for request.*/\1/p' "$out/search.txt")
top=$(awk '$1 == "1" { print $2; exit }' "$out/search.txt")

say "review (G14): exam.lee proposes $top, exam.novak corroborates, sup.garcia approves"
lead=$("$bin" review propose --search "$s1" --subject "$top" \
    --note "Same eyebrow arch, nose bridge and philtrum; ear shape agrees; no unexplained difference")
echo "$lead"
echo "-- the proposer cannot corroborate her own lead:"
"$bin" review corroborate "$lead" --note "I agree with myself" 2>&1 || true
as det.jones
echo "-- nor can the report be issued before every sign-off (here by the requester, refused too):"
"$bin" report lead "$lead" 2>&1 || true
as exam.novak
"$bin" review corroborate "$lead" \
    --note "Independent comparison: facial proportions, eye spacing and mouth corners agree"
as sup.garcia
"$bin" review approve "$lead" \
    --note "Both examiners' comparisons are documented and consistent; approved as a lead"
"$bin" review show "$lead"

say "the possible-match report (G15), as text and as a page"
as exam.lee
"$bin" report lead "$lead"
rep=$("$bin" report lead "$lead" --json | json_field id)
say "its release to the requester (G16), its page, and the outcome (G17)"
"$bin" disseminate "$rep" --to "Det. R. Jones" --manner email:r.jones@example.org
"$bin" report show "$rep" --html "$pages/$rep-possible-match.html" | tail -1
as det.jones
"$bin" outcome "$r1" --positive-id yes
as exam.lee
"$bin" request close "$r1" --outcome lead

say "request R2: a probe of somebody not enrolled; no viable candidate"
as det.jones
r2=$("$bin" request new --case 2026-0057 --crime home-invasion-1 \
    --requester "Det. R. Jones" --agency "Crime Intelligence" \
    --contact r.jones@example.org --source "photo taken by a neighbour with her phone" \
    --justification "Home invasion on 2026-11-30; a neighbour photographed the intruder leaving")
as exam.lee
if [ -n "$astronaut" ] && [ -f "$astronaut" ]; then
    "$bin" search --request "$r2" "$astronaut" --human-review --k 3 \
        --html "$pages/R2-comparison-sheet.html"
else
    "$bin" search --request "$r2" "$out/photos/sample1.jpg" --face 3 \
        --human-review --k 3 --html "$pages/R2-comparison-sheet.html"
fi
echo "-- the examiner compares and finds no viable candidate:"
"$bin" report no-match "$r2"
rep2=$("$bin" report no-match "$r2" --json | json_field id)
"$bin" report show "$rep2" --html "$pages/$rep2-no-match.html" >/dev/null
"$bin" request close "$r2" --outcome no-candidate

say "request R3: the probe's face is tilted 44 degrees; the image is rejected (G13)"
as det.jones
r3=$("$bin" request new --case 2026-0061 --crime aggravated-assault \
    --requester "Det. R. Jones" --agency "Crime Intelligence" \
    --contact r.jones@example.org --source "photo handed in by a witness" \
    --justification "Aggravated assault outside a bar on 2026-12-01; the witness photographed the group")
as exam.lee
"$bin" search --request "$r3" "$out/photos/sample1.jpg" --face 1 \
    --human-review 2>&1 || true
"$bin" report rejection "$r3"
rep3=$("$bin" report rejection "$r3" --json | json_field id)
"$bin" report show "$rep3" --html "$pages/$rep3-image-rejection.html" >/dev/null

say "oversight (G19): this week's figures, and the monthly compliance audit sample"
as aud.kim
"$bin" stats weekly
"$bin" stats weekly --html "$pages/stats-weekly.html" >/dev/null
"$bin" audit sample --n 2 --seed 20261203 | cut -c1-150
say "the audit trail: every step above, chained and anchored (G18)"
"$bin" audit log | cut -c1-150 | tail -12
"$bin" audit verify

if [ -d "$shared/datasets/dlib_johns" ]; then
    say "identification measured on dlib's 'johns' (5 people, 55 photos)"
    "$bin" eval "$shared/datasets/dlib_johns" 2>/dev/null
fi

say "the pages, to open in a browser"
for f in "$pages"/*.html; do echo "  $f"; done
