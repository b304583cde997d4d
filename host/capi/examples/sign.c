/*
 * sign.c: a CSE signing a request with its identity key held in the seam
 * Secure Environment, in C.
 *
 *   cc -std=c11 -Icapi/include host/capi/examples/sign.c -Ltarget/debug -lseam -o seam-sign
 *   ./seam-sign operator cse-key "hello"          # backend: tee if present, else sim
 *   SEAM_BACKEND=sim SEAM_STORE=./store ./seam-sign operator cse-key "hello"
 *
 * The key never leaves the SE: the program gets a signature (printed as DER
 * hex, the form openssl verifies) and the key's public half.
 */
#include <seam.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const char *label, const uint8_t *b, size_t n) {
    printf("%s", label);
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SE KEY MESSAGE\n", argv[0]);
        return 2;
    }
    const char *se = argv[1], *key = argv[2], *message = argv[3];

    seam_handle *h = NULL;
    uint16_t status = seam_open(getenv("SEAM_BACKEND"), getenv("SEAM_STORE"), &h);
    if (status != SEAM_OK) {
        fprintf(stderr, "seam_open: %u %s: %s\n", status, seam_status_name(status),
                seam_last_error(NULL));
        return 1;
    }

    /* SUID 0: use the key under its own SUID. */
    uint8_t sig[SEAM_SIGNATURE_LEN];
    status = seam_sign(h, se, key, 0, (const uint8_t *)message, strlen(message), sig);
    if (status != SEAM_OK) {
        fprintf(stderr, "seam_sign %s/%s: %u %s: %s\n", se, key, status,
                seam_status_name(status), seam_last_error(h));
        seam_close(h);
        return 1;
    }

    uint8_t der[SEAM_SIGNATURE_DER_MAX];
    size_t der_len = sizeof der;
    seam_signature_to_der(sig, der, &der_len);
    hex("signature (DER): ", der, der_len);

    seam_object_info_t info;
    if (seam_object_info(h, se, key, &info) == SEAM_OK && info.has_public_key)
        hex("public key:      ", info.public_key, SEAM_PUBLIC_KEY_LEN);

    bool valid = false;
    status = seam_verify(h, se, key, 0, (const uint8_t *)message, strlen(message), sig, &valid);
    if (status == SEAM_OK)
        printf("verified by the SE: %s\n", valid ? "yes" : "NO");
    else
        printf("seam_verify: %u %s (%s)\n", status, seam_status_name(status), seam_last_error(h));

    seam_close(h);
    return status == SEAM_OK && valid ? 0 : 1;
}
