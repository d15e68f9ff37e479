#!/bin/sh
# service-smoke.sh [GALLERY] - the service's whole flow replayed on this
# machine, as an agency would run it: a gallery made by the system user
# facesearch, facesearchd started the way facesearchd.socket starts it (the
# socket made by root, 0660 for the group facesearch, handed over on fd 3),
# then two people, each their own OS user in the group, doing their work
# through it: alice the administrator (enrolment, accounts, the audit) and
# bob the examiner (a request, the gated searches).  Also checked: a user
# outside the group cannot reach the socket, and bob's session token copied
# into alice's account opens nothing.
#
# Run as root after `make install` (it installs nothing).  GALLERY is a
# path that must not exist yet (default /var/lib/facesearch/smoke-gallery);
# its key file goes to GALLERY-keys/, beside it.  Everything it made goes
# at the end: the gallery, its keys, the service, the socket, and the OS
# users alice and bob and their group membership when it added them.
# While it runs, its service has /run/facesearch/facesearch.sock when no
# service has it (plain `facesearch` commands reach it, as they would a
# real one), else a socket of its own.
# Uses FACESEARCH_SHARED (default ../shared beside the tree) for mugshots
# when it is there; the probe is the test photo (make check fetches it).
# Exit status: 0 when every step went as expected, else 1.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
bin=$prefix/bin
gallery=${1:-/var/lib/facesearch/smoke-gallery}
keys=$gallery-keys
shared=${FACESEARCH_SHARED:-$(dirname "$here")/shared}
photo=${FACESEARCH_FACE:-$here/build/testdata/astronaut.png}
sock_default=/run/facesearch/facesearch.sock

die() { echo "service-smoke: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run it as root (it acts as several OS users)"
[ -x "$bin/facesearchd" ] || die "no $bin/facesearchd: run 'make install' first"
getent passwd facesearch >/dev/null || die "no user facesearch: run 'make install' first"
if [ -e "$gallery" ] || [ -e "$keys" ]; then die "'$gallery' or '$keys' exists"; fi
[ -f "$photo" ] || die "no test photo '$photo' (make check fetches it)"

tmp=$(mktemp -d /tmp/fs-smoke.XXXXXX)
chmod 0755 "$tmp"
made_users='' added_to_group='' remove_run='' pid='' fails=0
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$gallery" "$keys"
    [ -n "$remove_run" ] && rm -rf "$remove_run"
    for u in $added_to_group; do gpasswd -d "$u" facesearch >/dev/null; done
    for u in $made_users; do userdel -r "$u" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# as USER CMD...: CMD as that OS user, with their groups and a clean
# environment; sessions go to a runtime directory of their own under $tmp
as() {
    u=$1
    shift
    mkdir -p "$tmp/run-$u" && chown "$u:" "$tmp/run-$u" && chmod 0700 "$tmp/run-$u"
    setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
        env -i PATH=/usr/bin:/bin HOME="$(getent passwd "$u" | cut -d: -f6)" \
        XDG_RUNTIME_DIR="$tmp/run-$u" $sock_env "$@"
}

# check STATUS WHAT CMD...: runs CMD, whose exit status must be STATUS;
# its output is shown indented
check() {
    want=$1 what=$2
    shift 2
    set +e
    "$@" > "$tmp/out" 2>&1
    st=$?
    set -e
    if [ "$st" = "$want" ]; then
        echo "ok    $what"
    else
        echo "FAIL  $what (exit $st, wanted $want)"
        fails=$((fails + 1))
    fi
    sed -e 's/^/        /' "$tmp/out" | head -n 14
}

echo "== two people, each their own OS user, in the group facesearch"
for u in alice bob; do
    if ! id "$u" >/dev/null 2>&1; then
        useradd -m "$u"
        made_users="$made_users $u"
    fi
    if ! id -nG "$u" | tr ' ' '\n' | grep -qx facesearch; then
        gpasswd -a "$u" facesearch >/dev/null
        added_to_group="$added_to_group $u"
    fi
done
for u in alice bob facesearch; do
    head -c 18 /dev/urandom | base64 > "$tmp/pw-$u"
done
id alice
id bob

echo "== the gallery made by the system user facesearch (init, in its own process)"
sock_env=
check 0 "init $gallery, key file $keys/gallery.key" \
    as facesearch "$bin/facesearch" init --gallery "$gallery" \
    --key-file "$keys/gallery.key" --profile detroit --admin alice \
    --unit CIU --password-stdin < "$tmp/pw-alice"
ls -ld "$gallery" "$keys" "$keys/gallery.key" | sed 's/^/        /'

echo "== facesearchd under facesearch, socket-activated as facesearchd.socket does it"
if [ -e "$sock_default" ]; then
    sock=$tmp/facesearch.sock       # a real service has the default: untouched
    sock_env=FACESEARCH_SOCKET=$sock
else
    if [ ! -d /run/facesearch ]; then
        mkdir -m 0755 /run/facesearch
        remove_run=/run/facesearch
    fi
    sock=$sock_default              # found by plain `facesearch` commands
    [ -n "$remove_run" ] || remove_run=$sock     # the directory was there
fi
# the environment is cleared before systemd-socket-activate, never after
# it: LISTEN_FDS and LISTEN_PID are how the service finds its socket
clean="env -i PATH=/usr/bin:/bin HOME=/var/lib/facesearch"
daemon="$bin/facesearchd --gallery $gallery"
if command -v systemd-socket-activate >/dev/null; then
    $clean systemd-socket-activate -l "$sock" \
        setpriv --reuid=facesearch --regid=facesearch --clear-groups \
        $daemon > "$tmp/service.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    chgrp facesearch "$sock" && chmod 0660 "$sock"
else
    # by hand: the service makes the socket in a directory only the group
    # can enter, and the socket is narrowed as the unit narrows it
    echo "(no systemd-socket-activate: the service binds the socket itself)"
    sock=$tmp/sockdir/facesearch.sock
    sock_env=FACESEARCH_SOCKET=$sock
    install -d -m 0750 -o facesearch -g facesearch "$tmp/sockdir"
    $clean setpriv --reuid=facesearch --regid=facesearch --clear-groups \
        $daemon --socket "$sock" > "$tmp/service.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    chmod 0660 "$sock"
fi
ls -l "$sock" | sed 's/^/        /'
echo "        clients: ${sock_env:-the default socket, no option}"

echo "== who is outside the group cannot reach it"
check 3 "nobody: login refused at the socket" \
    as nobody "$bin/facesearch" login --user alice --password-stdin < "$tmp/pw-alice"

echo "== alice, the administrator"
check 0 "alice: login" \
    as alice "$bin/facesearch" login --user alice --password-stdin < "$tmp/pw-alice"
check 0 "alice: user add bob (examiner, requester)" \
    as alice "$bin/facesearch" user add bob --roles examiner,requester \
    --unit CIU --trained 2026-01-15 --password-stdin < "$tmp/pw-bob"
mug=$tmp/mugshots
mkdir -p "$mug"
if [ -d "$shared/datasets/faces94" ]; then
    for p in $(ls "$shared/datasets/faces94" | head -5); do
        mkdir -p "$mug/$p"
        cp "$shared/datasets/faces94/$p/$p.1.jpg" "$mug/$p/"
    done
    mated=$(ls "$mug" | sed -n 3p)
    mated=$shared/datasets/faces94/$mated/$mated.5.jpg
fi
# the service cannot read these: alice's client opens each for it
chmod -R go-rwx "$mug" && chown -R alice: "$mug"
if [ -n "$(ls "$mug")" ]; then
    check 0 "alice: enroll 5 mugshots from her own directory" \
        as alice "$bin/facesearch" enroll "$mug" --report "$mug/report.csv"
    check 0 "alice: the report is hers (her client made it)" \
        test "$(stat -c %U "$mug/report.csv")" = alice
    check 0 "alice: gallery stats" as alice "$bin/facesearch" gallery stats
else
    echo "(no $shared/datasets/faces94: nothing enrolled)"
fi

echo "== bob, the examiner"
check 0 "bob: login" \
    as bob "$bin/facesearch" login --user bob --password-stdin < "$tmp/pw-bob"
check 0 "bob: request new" \
    as bob "$bin/facesearch" request new --case 2026-0042 --crime robbery \
    --requester "Det. R. Jones" --agency CIU --contact r.jones@example.org \
    --source "photo from the victim's phone" \
    --justification "Armed robbery of a gas station; the clerk saw the face"
req=$(tail -n 1 "$tmp/out")
cp "$photo" "$tmp/probe.png" && chown bob: "$tmp/probe.png" && chmod 0600 "$tmp/probe.png"
check 1 "bob: search without --human-review is refused (G10)" \
    as bob "$bin/facesearch" search --request "$req" "$tmp/probe.png" --face 0
check 0 "bob: search the test photo, face 0" \
    as bob "$bin/facesearch" search --request "$req" "$tmp/probe.png" \
    --face 0 --human-review --k 3
if [ -n "${mated:-}" ]; then
    cp "$mated" "$tmp/mated.jpg" && chown bob: "$tmp/mated.jpg" && chmod 0600 "$tmp/mated.jpg"
    check 0 "bob: search another photo of an enrolled person" \
        as bob "$bin/facesearch" search --request "$req" "$tmp/mated.jpg" \
        --human-review --k 3
fi
# files are opened by the caller's own client: nobody reads another's through it
mkdir -p "$tmp/bob-private/someone"
cp "$tmp/probe.png" "$tmp/bob-private/someone/"
chown -R bob: "$tmp/bob-private" && chmod -R go-rwx "$tmp/bob-private"
check 2 "alice: enroll bob's private directory is refused (her client lists it as her)" \
    as alice "$bin/facesearch" enroll "$tmp/bob-private"

echo "== bob's token copied into alice's account opens nothing"
id_file=$(ls "$tmp/run-bob/facesearch/")
mv "$tmp/run-alice/facesearch/$id_file" "$tmp/alice.session"
cp "$tmp/run-bob/facesearch/$id_file" "$tmp/run-alice/facesearch/$id_file"
chown alice: "$tmp/run-alice/facesearch/$id_file"
check 1 "alice with bob's token: request list refused" \
    as alice "$bin/facesearch" request list
mv "$tmp/alice.session" "$tmp/run-alice/facesearch/$id_file"

echo "== the trail and the gallery, checked by the administrator"
check 0 "alice: audit verify" as alice "$bin/facesearch" audit verify
check 0 "alice: gallery verify" as alice "$bin/facesearch" gallery verify

echo "== the service's log (user, command, exit status; never arguments)"
sed 's/^/        /' "$tmp/service.log"
if [ "$fails" -gt 0 ]; then
    echo "service-smoke: $fails step(s) failed"
    exit 1
fi
echo "service-smoke: every step as expected"
