/*
 * test_seam.c: libseam from C, every operation and its error paths.
 *
 * Usage: test_seam BACKEND STORE_DIR SE
 *   BACKEND    "sim" or "tee" ("-" for the library's default)
 *   STORE_DIR  the simulator's store ("-" for the default; ignored by tee)
 *   SE         an SE provisioned as host/capi/tests/c/provision.sh does: keys
 *              sig (P-256, SUID 45: sign,verify), other (P-256, SUID 45, no
 *              grant), aes (16-byte secret, SUID 24: encrypt,decrypt), hmac
 *              (32-byte secret, SUID 25: mac), and SE-wide create, all
 *              granted to the user running this program.
 *
 * Prints one line per check and ends with "N passed, N failed"; exits 1 if
 * any check failed.
 */
#include <seam.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (cond) {                                        \
            passed++;                                      \
        } else {                                           \
            failed++;                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

/* A call's status is `want`; say what the library said if not. */
#define EXPECT(h, want, call)                                                  \
    do {                                                                       \
        uint16_t got_ = (call);                                                \
        CHECK(got_ == (want), "%s: got %u (%s: %s), want %u", #call, got_,     \
              seam_status_name(got_), seam_last_error(h), (unsigned)(want));   \
    } while (0)

static const char *arg(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s BACKEND STORE_DIR SE\n", argv[0]);
        return 2;
    }
    const char *backend = arg(argv[1]), *store = arg(argv[2]), *se = argv[3];
    const uint8_t msg[] = "a oneM2M request";
    size_t msg_len = sizeof msg - 1;

    /* ---- open, with its error paths ---- */
    seam_handle *h = NULL;
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_open(backend, store, NULL));
    CHECK(strlen(seam_last_error(NULL)) > 0, "open without out: no message");
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_open("bogus", store, &h));
    CHECK(h == NULL, "a failed open leaves *out NULL");
    CHECK(strstr(seam_last_error(NULL), "bogus") != NULL, "message names the backend: %s",
          seam_last_error(NULL));
    EXPECT(NULL, SEAM_OK, seam_open(backend, store, &h));
    if (h == NULL) {
        printf("cannot open: %s\n0 passed, 1 failed\n", seam_last_error(NULL));
        return 1;
    }

    /* ---- node and SEs ---- */
    seam_node_info_t node;
    EXPECT(h, SEAM_OK, seam_node_info(h, &node));
    CHECK(node.initialised, "node initialised");
    CHECK(node.key_agreement_public_key[0] == 0x04, "node key is an uncompressed point");

    char names[512];
    size_t len = 0;
    EXPECT(h, SEAM_BAD_REQUEST, seam_se_list(h, NULL, &len));
    CHECK(len > 1 && len <= sizeof names, "se_list reports the size needed: %zu", len);
    len = sizeof names;
    EXPECT(h, SEAM_OK, seam_se_list(h, names, &len));
    CHECK(strstr(names, se) != NULL, "se_list names %s: %s", se, names);
    CHECK(len == strlen(names) + 1, "se_list length includes the NUL");

    seam_se_info_t info;
    EXPECT(h, SEAM_OK, seam_se_info(h, se, &info));
    CHECK(strcmp(info.name, se) == 0, "se_info name");
    CHECK(info.se_type == 3, "SEType 3 (TEE)");
    CHECK(strncmp(info.m2m_se_id, "3-", 2) == 0, "m2mSeID starts with the type code");
    CHECK(info.supported_resource_types & SEAM_RT_SIGNATURE, "supports <signature>");
    EXPECT(h, SEAM_NOT_FOUND, seam_se_info(h, "no-such-se", &info));

    seam_object_info_t obj;
    EXPECT(h, SEAM_OK, seam_object_info(h, se, "sig", &obj));
    CHECK(obj.kind == SEAM_KIND_EC_P256 && obj.suid == 45 && obj.has_public_key,
          "sig is a P-256 key with SUID 45");
    len = sizeof names;
    EXPECT(h, SEAM_OK, seam_object_list(h, se, names, &len));
    CHECK(strstr(names, "sig") && strstr(names, "aes") && !strstr(names, "other"),
          "object_list shows granted objects only: %s", names);

    /* ---- <signature> ---- */
    uint8_t sig[SEAM_SIGNATURE_LEN];
    bool valid = false;
    EXPECT(h, SEAM_OK, seam_sign(h, se, "sig", 0, msg, msg_len, sig));
    EXPECT(h, SEAM_OK, seam_verify(h, se, "sig", 45, msg, msg_len, sig, &valid));
    CHECK(valid, "the signature verifies");
    sig[10] ^= 1;
    EXPECT(h, SEAM_OK, seam_verify(h, se, "sig", 0, msg, msg_len, sig, &valid));
    CHECK(!valid, "a changed signature does not verify");
    sig[10] ^= 1;
    uint8_t der[SEAM_SIGNATURE_DER_MAX];
    size_t der_len = sizeof der;
    EXPECT(NULL, SEAM_OK, seam_signature_to_der(sig, der, &der_len));
    CHECK(der[0] == 0x30 && der_len >= 8 && der_len <= SEAM_SIGNATURE_DER_MAX, "DER sequence");
    uint8_t digest[SEAM_DIGEST_LEN];
    EXPECT(h, SEAM_OK, seam_hash(h, msg, msg_len, digest));
    EXPECT(h, SEAM_OK, seam_sign_digest(h, se, "sig", 45, digest, sig));
    EXPECT(h, SEAM_OK, seam_verify(h, se, "sig", 45, msg, msg_len, sig, &valid));
    CHECK(valid, "a digest signature verifies over the message");

    /* ---- <hash>, <rand> ---- */
    static const uint8_t abc_sha256[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    EXPECT(h, SEAM_OK, seam_hash(h, (const uint8_t *)"abc", 3, digest));
    CHECK(memcmp(digest, abc_sha256, 32) == 0, "SHA-256(abc)");
    uint8_t rnd[32] = {0}, zero[32] = {0};
    EXPECT(h, SEAM_OK, seam_rand(h, rnd, sizeof rnd));
    CHECK(memcmp(rnd, zero, sizeof rnd) != 0, "random bytes are not all zero");
    EXPECT(h, SEAM_BAD_REQUEST, seam_rand(h, rnd, SEAM_RANDOM_MAX + 1));

    /* ---- <cipher> ---- */
    /* The SE draws the encryption nonce and hands it back. */
    uint8_t nonce[12], nonce2[12];
    const uint8_t aad[] = "header";
    uint8_t ct[sizeof msg + SEAM_TAG_MAX], pt[sizeof msg];
    size_t ct_len = sizeof ct, pt_len = sizeof pt;
    EXPECT(h, SEAM_OK,
           seam_encrypt(h, se, "aes", 24, SEAM_AEAD_AES_128_GCM, nonce2, 12, aad, 6, msg, msg_len,
                        ct, &ct_len));
    ct_len = sizeof ct;
    EXPECT(h, SEAM_OK,
           seam_encrypt(h, se, "aes", 24, SEAM_AEAD_AES_128_GCM, nonce, 12, aad, 6, msg, msg_len,
                        ct, &ct_len));
    CHECK(memcmp(nonce, nonce2, 12) != 0, "each encryption draws a fresh nonce");
    CHECK(ct_len == msg_len + 16, "GCM adds a 16-byte tag: %zu", ct_len);
    EXPECT(h, SEAM_OK,
           seam_decrypt(h, se, "aes", 0, SEAM_AEAD_AES_128_GCM, nonce, 12, aad, 6, ct, ct_len, pt,
                        &pt_len));
    CHECK(pt_len == msg_len && memcmp(pt, msg, msg_len) == 0, "decrypt gives the plaintext");
    ct[0] ^= 1;
    pt_len = sizeof pt;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_decrypt(h, se, "aes", 24, SEAM_AEAD_AES_128_GCM, nonce, 12, aad, 6, ct, ct_len, pt,
                        &pt_len));
    ct_len = 4;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_encrypt(h, se, "aes", 24, SEAM_AEAD_AES_128_GCM, nonce, 12, aad, 6, msg, msg_len,
                        ct, &ct_len));
    CHECK(ct_len == msg_len + 16, "a small buffer reports the size needed: %zu", ct_len);
    ct_len = sizeof ct;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_encrypt(h, se, "aes", 24, 99, nonce, 12, aad, 6, msg, msg_len, ct, &ct_len));

    /* ---- MAC ---- */
    uint8_t tag[SEAM_DIGEST_LEN];
    EXPECT(h, SEAM_OK, seam_mac(h, se, "hmac", 25, msg, msg_len, tag));
    EXPECT(h, SEAM_OK, seam_mac_verify(h, se, "hmac", 25, msg, msg_len, tag, &valid));
    CHECK(valid, "the MAC verifies");
    tag[0] ^= 1;
    EXPECT(h, SEAM_OK, seam_mac_verify(h, se, "hmac", 25, msg, msg_len, tag, &valid));
    CHECK(!valid, "a changed MAC does not verify");

    /* ---- <sensitiveDataObject> ---- */
    const uint8_t secret[] = "a sensitive value", other_secret[] = "replaced";
    uint8_t back[64];
    size_t back_len = sizeof back;
    seam_sdo_delete(h, se, "c-sdo"); /* left over from an earlier run, if any */
    EXPECT(h, SEAM_CREATED, seam_sdo_create(h, se, "c-sdo", secret, sizeof secret));
    EXPECT(h, SEAM_CONFLICT, seam_sdo_create(h, se, "c-sdo", secret, sizeof secret));
    EXPECT(h, SEAM_OK, seam_sdo_retrieve(h, se, "c-sdo", back, &back_len));
    CHECK(back_len == sizeof secret && memcmp(back, secret, back_len) == 0, "retrieve");
    EXPECT(h, SEAM_UPDATED, seam_sdo_update(h, se, "c-sdo", other_secret, sizeof other_secret));
    back_len = sizeof back;
    EXPECT(h, SEAM_OK, seam_sdo_retrieve(h, se, "c-sdo", back, &back_len));
    CHECK(back_len == sizeof other_secret && memcmp(back, other_secret, back_len) == 0,
          "retrieve after update");
    EXPECT(h, SEAM_DELETED, seam_sdo_delete(h, se, "c-sdo"));
    back_len = sizeof back;
    CHECK(seam_sdo_retrieve(h, se, "c-sdo", back, &back_len) >= 4000, "gone after delete");

    /* ---- access rules ---- */
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE, seam_sign(h, se, "other", 45, msg, msg_len, sig));
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE, seam_sign(h, se, "sig", 22, msg, msg_len, sig));
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE, seam_sign(h, se, "aes", 24, msg, msg_len, sig));
    EXPECT(h, SEAM_NOT_FOUND, seam_sign(h, "no-such-se", "sig", 45, msg, msg_len, sig));

    /* ---- bad arguments: 4000 with a message, nothing read ---- */
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, NULL, "sig", 45, msg, msg_len, sig));
    CHECK(strstr(seam_last_error(h), "`se` is NULL") != NULL, "names the NULL: %s",
          seam_last_error(h));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "sig", 45, msg, msg_len, NULL));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "sig", 45, NULL, 5, sig));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "sig", 45, msg, SEAM_DATA_MAX + 1, sig));
    CHECK(strstr(seam_last_error(h), "limit") != NULL, "names the limit: %s", seam_last_error(h));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "sig", 45, msg, (size_t)-1, sig));
    char long_name[64];
    memset(long_name, 'x', sizeof long_name); /* not NUL-terminated: must not be followed */
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, long_name, 25, msg, msg_len, sig));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "", 25, msg, msg_len, sig));
    EXPECT(h, SEAM_BAD_REQUEST, seam_sign(h, se, "a/b", 25, msg, msg_len, sig));
    EXPECT(h, SEAM_BAD_REQUEST, seam_se_info(h, se, NULL));
    EXPECT(h, SEAM_BAD_REQUEST, seam_se_list(h, names, NULL));
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_sign(NULL, se, "sig", 45, msg, msg_len, sig));
    CHECK(strstr(seam_last_error(NULL), "handle") != NULL, "NULL handle message: %s",
          seam_last_error(NULL));
    EXPECT(h, SEAM_OK, seam_hash(h, NULL, 0, digest));
    CHECK(strlen(seam_last_error(h)) == 0, "success clears the handle's error");

    /* ---- identities and names ---- */
    char uuid[SEAM_UUID_STR_LEN];
    EXPECT(NULL, SEAM_OK, seam_identity_uid(0, uuid));
    CHECK(strcmp(uuid, "ef0180a3-13f3-5d1c-b7f5-888c0e21059a") == 0, "uid 0's UUID: %s", uuid);
    EXPECT(NULL, SEAM_OK, seam_identity_gid(0, uuid));
    CHECK(strlen(uuid) == 36, "a gid UUID");
    EXPECT(NULL, SEAM_OK, seam_identity_current(uuid));
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_identity_current(NULL));
    CHECK(strcmp(seam_status_name(4103), "ORIGINATOR_HAS_NO_PRIVILEGE") == 0, "status name");
    CHECK(strcmp(seam_status_name(1234), "UNKNOWN_STATUS") == 0, "unknown status name");

    seam_close(h);
    seam_close(NULL);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
