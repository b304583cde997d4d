#!/bin/sh
# Provision the two SEs test_jose.c expects, with the seam command line, for
# the user running this script (who then runs test_jose).
#
#   provision_jose.sh ISSUER.pem SE_A SE_B [seam global options...]
#
# SE_A: sig (P-256, SUID 45), hs (32-byte secret, 15), kw (16-byte secret,
# 14), e2e (32-byte secret, 13, role pairwise); SE_B: e2e, the same secret
# (the pairwise ESPrim key, which only ESPrim may use). SEs of those names
# left by an earlier run are retired first.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 ISSUER.pem SE_A SE_B [seam options...]" >&2; exit 2; }
issuer=$1
a=$2
b=$3
shift 3
seam() { "${SEAM:-seam}" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
me="uid:$(id -u)"
e2e=$(seam "$@" rand 32)

for se in "$a" "$b"; do
    seam "$@" se retire "$se" --sign-with "$issuer" >/dev/null 2>&1 || true
    seam "$@" keygen --out "$work/$se.pem" >"$work/$se.pub.pem"
    seam "$@" se create "$se" --admin "$work/$se.pub.pem" --sign-with "$issuer" >/dev/null
    admin="--sign-with $work/$se.pem"
    printf '%s\n' "$e2e" | seam "$@" key import "$se/e2e" --suid 13 --psk-stdin --role pairwise $admin >/dev/null
    seam "$@" acl grant "$se/e2e" --to "$me" --ops encrypt,decrypt --suid 13 $admin >/dev/null
done
admin="--sign-with $work/$a.pem"
seam "$@" key generate "$a/sig" --suid 45 $admin >/dev/null
seam "$@" rand 32 | seam "$@" key import "$a/hs" --suid 15 --psk-stdin $admin >/dev/null
seam "$@" rand 16 | seam "$@" key import "$a/kw" --suid 14 --psk-stdin $admin >/dev/null
seam "$@" acl grant "$a/sig" --to "$me" --ops sign,verify --suid 45 $admin >/dev/null
seam "$@" acl grant "$a/hs" --to "$me" --ops mac --suid 15 $admin >/dev/null
seam "$@" acl grant "$a/kw" --to "$me" --ops encrypt,decrypt --suid 14 $admin >/dev/null
echo "provisioned SEs $a and $b for $me"
