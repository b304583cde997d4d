#!/bin/sh
# libseam's C tests against one node, each on SEs provisioned for it with the
# seam command line and retired afterwards: test_seam, test_jose, and
# test_conn against openssl's s_server and s_client (TLS and DTLS, PSK and
# ECDHE, client and server). `make -C host/capi device-test` runs it on a
# device; `cargo optee test` runs it in the emulated device.
#
#   device-test.sh BIN_DIR ISSUER.pem
#
# BIN_DIR holds test_seam, test_jose and test_conn; ISSUER.pem is the private
# key of the issuer the node is bound to. SEAM names the seam command line
# (default: seam on PATH). BACKEND is the backend (tee, the default, or sim
# with STORE the simulator's store). SE is the prefix of the SEs' names
# (default c-test). Without openssl on PATH, test_conn counts as failed.
#
# Each program prints "N passed, M failed"; this script exits 1 if any
# program failed, ran fewer checks than it has, or its peer missed a line.
set -u
[ $# -eq 2 ] || { echo "usage: $0 BIN_DIR ISSUER.pem" >&2; exit 2; }
bin=$1
issuer=$2
here=$(cd "$(dirname "$0")" && pwd)
backend=${BACKEND:-tee}
if [ "$backend" = sim ]; then
    [ -n "${STORE:-}" ] || { echo "BACKEND=sim needs STORE" >&2; exit 2; }
    store=$STORE
    set -- --backend sim --store "$STORE"
else
    store=-
    set -- --backend "$backend"
fi
se=${SE:-c-test}
seam() { "${SEAM:-seam}" "$@"; }
work=$(mktemp -d)
failed=0
created=
# Retires the SEs made so far (the node holds only a few).
retire() {
    for s in $created; do
        seam "$@" se retire "$s" --sign-with "$issuer" >/dev/null 2>&1 ||
            fail "cannot retire SE $s"
    done
    created=
}
trap 'retire "$@"; rm -rf "$work"' EXIT
fail() { echo "FAIL device-test: $*"; failed=1; }

# Judges a C test program's output ($1: its name, $2: the fewest checks it
# makes when it runs to the end, $3: its exit status, $4: what it printed).
judge() {
    cat "$4"
    last=$(tail -n 1 "$4")
    n=${last%% *}
    case "$last" in
        *" passed, 0 failed") ;;
        *) fail "$1 did not end with 'N passed, 0 failed' (exit $3)"; return ;;
    esac
    [ "$3" -eq 0 ] || fail "$1 exited $3"
    [ "$n" -ge "$2" ] 2>/dev/null || fail "$1 ran $n checks, expected at least $2"
}

# Runs a C test program ($1: the fewest checks; the rest: the program and its
# arguments) and judges it.
run() {
    min=$1
    shift
    "$@" >"$work/out" 2>&1
    rc=$?
    judge "$(basename "$1")" "$min" "$rc" "$work/out"
}

provision() {
    script=$1
    shift
    if ! SEAM=${SEAM:-seam} sh "$here/$script" "$@" >"$work/prov" 2>&1; then
        cat "$work/prov"
        fail "$script could not provision"
        return 1
    fi
    cat "$work/prov"
}

echo "== test_seam"
created="$se"
if provision provision.sh "$issuer" "$se" "$@"; then
    run 90 "$bin/test_seam" "$backend" "$store" "$se"
fi
retire "$@"

echo "== test_jose"
created="$se-a $se-b"
if provision provision_jose.sh "$issuer" "$se-a" "$se-b" "$@"; then
    run 60 "$bin/test_jose" "$backend" "$store" "$se-a" "$se-b"
fi
retire "$@"

# Starts openssl ($1: log file; the rest: its arguments) with "hello from
# openssl" on its standard input, which stays open until stop_openssl.
start_openssl() {
    log=$1
    shift
    rm -f "$work/fifo"
    mkfifo "$work/fifo"
    openssl "$@" <"$work/fifo" >"$log" 2>&1 &
    openssl_pid=$!
    exec 3>"$work/fifo"
    echo "hello from openssl" >&3
}
stop_openssl() {
    exec 3>&-
    kill "$openssl_pid" 2>/dev/null
    wait "$openssl_pid" 2>/dev/null
}
# Waits up to 20 s for a line matching $2 in file $1.
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 200 ] || return 1
        sleep 0.1
    done
}

echo "== test_conn"
if ! command -v openssl >/dev/null 2>&1; then
    fail "openssl is not on PATH: seam_conn_* went untested"
else
    conn="$se-conn"
    created=$conn
    certs="$work/certs"
    psk=$(seam "$@" rand 16)
    if [ -n "$psk" ] && provision provision_conn.sh "$issuer" "$conn" "$psk" "$certs" "$@"; then
        for mode in tls-psk tls-ecdhe dtls-psk; do
            echo "-- test_conn $mode"
            case $mode in
                dtls-psk) args="-dtls1_2 -cipher PSK-AES128-CCM8:@SECLEVEL=0 -nocert" ;;
                tls-psk) args="-tls1_2 -cipher PSK-AES128-CBC-SHA256:@SECLEVEL=0 -nocert" ;;
                *) args="-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256 -cert $certs/peer.pem \
                    -key $certs/peer.key -Verify 1 -CAfile $certs/ca.pem -verify_return_error" ;;
            esac
            case $mode in
                *psk) args="$args -psk $psk -psk_identity c-test-client" ;;
            esac
            # shellcheck disable=SC2086 # $args is a list of words
            start_openssl "$work/server.log" s_server -accept 127.0.0.1:0 -naccept 1 $args
            if ! wait_for "$work/server.log" '^ACCEPT'; then
                cat "$work/server.log"
                fail "s_server ($mode) did not start"
                stop_openssl
                continue
            fi
            port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$work/server.log")
            run 30 "$bin/test_conn" "$backend" "$store" "$conn" "$mode" "$port" "$certs"
            wait_for "$work/server.log" "hello from C" ||
                fail "$mode: s_server never got our line: $(cat "$work/server.log")"
            stop_openssl
        done

        # The server side, requiring and checking OpenSSL's client certificate.
        echo "-- test_conn accept-tls-ecdhe"
        "$bin/test_conn" "$backend" "$store" "$conn" accept-tls-ecdhe 0 "$certs" \
            >"$work/accept.out" 2>&1 &
        accept_pid=$!
        if wait_for "$work/accept.out" '^LISTENING '; then
            port=$(sed -n 's/^LISTENING //p' "$work/accept.out")
            start_openssl "$work/client.log" s_client -connect "127.0.0.1:$port" -tls1_2 \
                -servername server.seam.test -ign_eof -CAfile "$certs/ca.pem" \
                -verify_return_error -cert "$certs/peer.pem" -key "$certs/peer.key"
            wait "$accept_pid"
            rc=$?
            judge "test_conn accept-tls-ecdhe" 30 "$rc" "$work/accept.out"
            wait_for "$work/client.log" "hello from C" ||
                fail "accept-tls-ecdhe: s_client never got our line: $(cat "$work/client.log")"
            stop_openssl
        else
            cat "$work/accept.out"
            kill "$accept_pid" 2>/dev/null
            fail "test_conn accept-tls-ecdhe did not listen"
        fi
    else
        fail "no SE for test_conn"
    fi
    retire "$@"
fi

if [ $failed -eq 0 ]; then
    echo "device-test: every C test passed"
else
    echo "device-test: FAILED"
fi
exit $failed
