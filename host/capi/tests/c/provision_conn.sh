#!/bin/sh
# Provision the SE test_conn.c expects, and the certificates around it, with
# the seam command line and openssl, for the user running this script (who
# then runs test_conn).
#
#   provision_conn.sh ISSUER.pem SE PSK-HEX DIR [seam global options...]
#
# SE: psk (PSK-HEX, SUID 21: handshake), cert (a P-256 key made inside the
# SE, SUID 42: handshake, sign). DIR gets a throw-away CA (ca.pem, ca.key),
# cert's certificate (se.pem, SAN URI //m2m.seam.test/id-c) and the OpenSSL
# side's key and certificate (peer.key, peer.pem, SAN URI
# //m2m.seam.test/id-peer), all for the name server.seam.test. An SE of that
# name left by an earlier run is retired first.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 ISSUER.pem SE PSK-HEX DIR [seam options...]" >&2; exit 2; }
issuer=$1
se=$2
psk=$3
dir=$4
shift 4
seam() { "${SEAM:-seam}" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
me="uid:$(id -u)"
mkdir -p "$dir"

seam "$@" se retire "$se" --sign-with "$issuer" >/dev/null 2>&1 || true
seam "$@" keygen --out "$work/admin.pem" >"$work/admin.pub.pem"
seam "$@" se create "$se" --admin "$work/admin.pub.pem" --sign-with "$issuer" >/dev/null
admin="--sign-with $work/admin.pem"
printf '%s\n' "$psk" | seam "$@" key import "$se/psk" --suid 21 --psk-stdin $admin >/dev/null
seam "$@" key generate "$se/cert" --suid 42 $admin >"$dir/se.pub.pem"
seam "$@" acl grant "$se/psk" --to "$me" --ops handshake --suid 21 $admin >/dev/null
seam "$@" acl grant "$se/cert" --to "$me" --ops handshake,sign --suid 42 $admin >/dev/null

# A config of our own: a device image need not carry openssl.cnf.
cat >"$work/x509.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[se]
basicConstraints = CA:FALSE
subjectAltName = DNS:server.seam.test, URI://m2m.seam.test/id-c
[peer]
basicConstraints = CA:FALSE
subjectAltName = DNS:server.seam.test, URI://m2m.seam.test/id-peer
EOF
ssl() { openssl "$@" 2>"$work/openssl.err" || { cat "$work/openssl.err" >&2; exit 1; }; }
p256="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
ssl req -x509 -config "$work/x509.cnf" -extensions ca $p256 -days 2 \
    -subj "/CN=c-test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem"
# The SE's certificate: its public key, signed by the CA (the private key
# never leaves the SE, so there is no CSR).
ssl x509 -new -force_pubkey "$dir/se.pub.pem" -subj "/CN=seam SE key" -days 2 \
    -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -extfile "$work/x509.cnf" -extensions se \
    -out "$dir/se.pem"
ssl req -new -config "$work/x509.cnf" $p256 -subj "/CN=peer" \
    -keyout "$dir/peer.key" -out "$work/peer.csr"
ssl x509 -req -in "$work/peer.csr" -days 2 -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -extfile "$work/x509.cnf" -extensions peer -out "$dir/peer.pem"
echo "provisioned SE $se for $me, certificates in $dir"
