#!/bin/sh
# Provision the SE that test_seam.c expects, with the seam command line, for
# the user running this script (who then runs test_seam).
#
#   provision.sh ISSUER.pem SE [seam global options...]
#   e.g. on the device:  provision.sh issuer.pem c-test --backend tee
#        on a laptop:    SEAM=target/debug/seam provision.sh issuer.pem c-test --backend sim --store ./store
#
# ISSUER.pem is the private key of the issuer the node was initialised with.
# An SE of that name left by an earlier run is retired first.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 ISSUER.pem SE [seam options...]" >&2; exit 2; }
issuer=$1
se=$2
shift 2
seam() { "${SEAM:-seam}" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
me="uid:$(id -u)"

seam "$@" se retire "$se" --sign-with "$issuer" >/dev/null 2>&1 || true
seam "$@" keygen --out "$work/admin.pem" >"$work/admin.pub.pem"
seam "$@" se create "$se" --admin "$work/admin.pub.pem" --sign-with "$issuer" >/dev/null
admin="--sign-with $work/admin.pem"
seam "$@" key generate "$se/sig" --suid 45 $admin >/dev/null
seam "$@" key generate "$se/other" --suid 45 $admin >/dev/null
seam "$@" rand 16 | seam "$@" key import "$se/aes" --suid 24 --psk-stdin $admin >/dev/null
seam "$@" rand 32 | seam "$@" key import "$se/hmac" --suid 25 --psk-stdin $admin >/dev/null
seam "$@" acl grant "$se/sig" --to "$me" --ops sign,verify --suid 45 $admin >/dev/null
seam "$@" acl grant "$se/aes" --to "$me" --ops encrypt,decrypt --suid 24 $admin >/dev/null
seam "$@" acl grant "$se/hmac" --to "$me" --ops mac --suid 25 $admin >/dev/null
seam "$@" acl grant "$se/*" --to "$me" --ops create --suid 0 $admin >/dev/null
echo "provisioned SE $se for $me"
