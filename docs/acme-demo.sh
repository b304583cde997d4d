#!/usr/bin/env bash
# The ACME oneM2M CSE registering through seam, as a user runs it on one
# machine: an IN-CSE and an MN-CSE (ACME, plain HTTP on loopback), the Mcc
# link between them over mutual TLS by `seam tunnel`, each side's key
# generated inside its own SE. Two simulator stores stand for two devices
# (on a device: --backend tee, one node per device). Prints what a user sees;
# docs/acme-cse.md shows a run. Needs: seam on PATH (or SEAM=path), python3
# with venv, openssl, curl. Ports 8080-8082 and 8443 on 127.0.0.1.
#
#   docs/acme-demo.sh [WORKDIR]
set -euo pipefail
SEAM=${SEAM:-seam}
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
say() { printf '\n# %s\n' "$*"; }
# Shows the command (seam by name, on stderr so redirections keep it out).
show() {
    local w line=
    for w; do
        [[ $w == "$SEAM" ]] && w=seam
        [[ $w =~ ^[A-Za-z0-9_./:=,@%+~-]+$ ]] || w="'$w'"
        line+=" $w"
    done
    printf '$%s\n' "$line" >&2
}
run() { show "$@"; "$@"; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

say "ACME, pinned, in a venv"
[[ -x venv/bin/acmecse ]] || { python3 -m venv venv && venv/bin/pip install -q acmecse==2026.5.3; }

say "two nodes (two simulator stores), each with an operator SE and a key generated inside"
run "$SEAM" keygen --out issuer.pem > issuer.pub.pem
run "$SEAM" keygen --out admin.pem > admin.pub.pem
for side in in mn; do
    s=(--backend sim --store $side-node)
    run "$SEAM" "${s[@]}" init --issuer issuer.pub.pem >/dev/null
    run "$SEAM" "${s[@]}" se create operator --admin admin.pub.pem --sign-with issuer.pem
    # SUID 42: a certificate credential (4) for (D)TLS (2).
    run "$SEAM" "${s[@]}" key generate operator/mcc-key --suid 42 --sign-with admin.pem > $side.pub.pem
    run "$SEAM" "${s[@]}" acl grant operator/mcc-key --to "uid:$(id -u)" --ops handshake,sign --suid 42 --sign-with admin.pem
done

say "the operator's CA certifies each public key, the CSE-ID as a SAN URI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -subj "/CN=operator m2m CA" -days 30 2>/dev/null
for side in in mn; do
    printf 'subjectAltName=URI://m2m.seam.test/id-%s,DNS:%s-cse.seam.test\n' $side $side > $side.ext
    run openssl x509 -new -CA ca.pem -CAkey ca.key -force_pubkey $side.pub.pem -subj "/CN=$side-cse" \
        -extfile $side.ext -days 30 -out $side.pem
done

say "IN side: seam tunnel server on 8443 in front of the IN-CSE's plain HTTP on 8080"
server=("$SEAM" --backend sim --store in-node tunnel server --tls --listen 127.0.0.1:8443
    --forward 127.0.0.1:8080 --credential operator/mcc-key --cert in.pem --ca ca.pem)
show "${server[@]}"
"${server[@]}" 2> tunnel-server.log &
pids+=($!)
say "MN side: seam tunnel client on 8081 (the MN-CSE's registrar address) to 8443"
client=("$SEAM" --backend sim --store mn-node tunnel client --tls --listen 127.0.0.1:8081
    --connect 127.0.0.1:8443 --credential operator/mcc-key --cert mn.pem --ca ca.pem
    --server-name in-cse.seam.test)
show "${client[@]}"
"${client[@]}" 2> tunnel-client.log &
pids+=($!)

cse_ini() { # TYPE ID NAME HTTP-PORT EXTRA
    printf '[basic.config]\ncseType=%s\ncseID=%s\ncseName=%s\nserviceProviderID=//m2m.seam.test\n' "$1" "$2" "$3"
    printf 'adminID=CAdmin\nnetworkInterface=127.0.0.1\ncseHost=127.0.0.1\nhttpPort=%s\n' "$4"
    printf 'databaseType=memory\nlogLevel=info\n%b\n[logging]\nenableFileLogging=true\nenableScreenLogging=false\n' "$5"
}
mkdir -p in-cse mn-cse
# The IN-CSE advertises the tunnel client as its point of access: the MN-CSE
# talks to that address after registering.
cse_ini IN id-in cse-in 8080 '[cse]\npoa=http://127.0.0.1:8081\n[cse.registration]\nallowedCSROriginators=/id-mn' > in-cse/acme.ini
cse_ini MN id-mn cse-mn 8082 'registrarCseHost=127.0.0.1\nregistrarCsePort=8081\nregistrarCseID=id-in\nregistrarCseName=cse-in' > mn-cse/acme.ini
for cse in in-cse mn-cse; do
    say "starting the $cse (ACME)"
    show venv/bin/acmecse --base-directory $cse --headless
    venv/bin/acmecse --base-directory "$work/$cse" --headless > $cse.out 2>&1 &
    pids+=($!)
    # --headless exits 0 silently on a bad config: wait for its ready line.
    for _ in $(seq 120); do grep -q "CSE started" $cse.out && break; sleep 0.5; done
    grep "CSE started" $cse.out
done

m2m=(-s -H 'X-M2M-Origin: CAdmin' -H 'X-M2M-RI: demo' -H 'X-M2M-RVI: 3' -H 'Accept: application/json')
say "the MN-CSE's <remoteCSE> on the IN-CSE"
for _ in $(seq 60); do
    curl "${m2m[@]}" 'http://127.0.0.1:8080/~/id-in/cse-in?fu=1&ty=16' | grep -q id-mn && break
    sleep 1
done
run curl "${m2m[@]}" 'http://127.0.0.1:8080/~/id-in/cse-in?fu=1&ty=16'; echo
run curl "${m2m[@]}" 'http://127.0.0.1:8080/~/id-in/cse-in/id-mn'; echo

say "a container on the IN-CSE, written through the MN-CSE (retargeted over the tunnel)"
acp=$(curl "${m2m[@]}" -X POST -H 'Content-Type: application/json;ty=1' http://127.0.0.1:8080/~/id-in/cse-in \
    -d '{"m2m:acp":{"rn":"acpMn","pv":{"acr":[{"acor":["/id-mn/CAdmin"],"acop":63}]},"pvs":{"acr":[{"acor":["CAdmin"],"acop":63}]}}}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["m2m:acp"]["ri"])')
curl "${m2m[@]}" -X POST -H 'Content-Type: application/json;ty=3' http://127.0.0.1:8080/~/id-in/cse-in \
    -d "{\"m2m:cnt\":{\"rn\":\"fromMn\",\"acpi\":[\"$acp\"]}}" >/dev/null
run curl "${m2m[@]}" -X POST -H 'Content-Type: application/json;ty=4' http://127.0.0.1:8082/~/id-in/cse-in/fromMn \
    -d '{"m2m:cin":{"con":"hello from the MN-CSE"}}'; echo
run curl "${m2m[@]}" http://127.0.0.1:8080/~/id-in/cse-in/fromMn/la; echo

say "what the tunnels logged"
run cat tunnel-server.log
run cat tunnel-client.log
