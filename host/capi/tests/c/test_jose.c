/*
 * test_jose.c: JOSE and ESPrim through libseam from C: JWS, JWE, tokens,
 * ESPrim between two SEs, and their error paths.
 *
 * Usage: test_jose BACKEND STORE_DIR SE_A SE_B
 *   SE_A  keys sig (P-256, SUID 45: sign,verify), hs (32-byte secret, SUID
 *         15: mac), kw (16-byte secret, SUID 14: encrypt,decrypt), e2e
 *         (32-byte secret, SUID 13, role pairwise: encrypt,decrypt, which
 *         for a pairwise key means ESPrim only)
 *   SE_B  e2e, the same secret as SE_A's (the pairwise ESPrim key)
 *
 * Prints one line per failed check and ends with "N passed, N failed".
 */
#include <seam.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

#define EXPECT(h, want, call)                                                \
    do {                                                                     \
        uint16_t got_ = (call);                                              \
        CHECK(got_ == (want), "%s: got %u (%s: %s), want %u", #call, got_,   \
              seam_status_name(got_), seam_last_error(h), (unsigned)(want)); \
    } while (0)

#define SAYS(h, text) \
    CHECK(strstr(seam_last_error(h), text) != NULL, "error says \"%s\": %s", text, seam_last_error(h))

static const char *arg(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s BACKEND STORE_DIR SE_A SE_B\n", argv[0]);
        return 2;
    }
    const char *a = argv[3], *b = argv[4];
    seam_handle *h = NULL;
    EXPECT(NULL, SEAM_OK, seam_open(arg(argv[1]), arg(argv[2]), &h));
    if (h == NULL) {
        printf("cannot open: %s\n0 passed, 1 failed\n", seam_last_error(NULL));
        return 1;
    }
    const uint8_t msg[] = "a oneM2M content instance";
    size_t msg_len = sizeof msg - 1;
    static char text[8192];
    static uint8_t back[4096];
    size_t len, back_len;

    /* ---- JWS: ES256 chosen by the key, HS256 asked for ---- */
    len = sizeof text;
    EXPECT(h, SEAM_OK, seam_jws_sign(h, a, "sig", 0, 0, NULL, false, msg, msg_len, text, &len));
    CHECK(len == strlen(text) + 1, "the length includes the NUL");
    CHECK(strncmp(text, "eyJhbGciOiJFUzI1NiJ9.", 21) == 0, "ES256 by the key: %s", text);
    back_len = sizeof back;
    EXPECT(h, SEAM_OK, seam_jws_verify(h, a, "sig", 45, text, strlen(text), back, &back_len));
    CHECK(back_len == msg_len && memcmp(back, msg, msg_len) == 0, "the payload comes back");
    text[30] = text[30] == 'A' ? 'B' : 'A';
    back_len = sizeof back;
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_jws_verify(h, a, "sig", 45, text, strlen(text), back, &back_len));
    len = sizeof text;
    EXPECT(h, SEAM_OK,
           seam_jws_sign(h, a, "hs", 0, SEAM_JWS_HS256, NULL, true, msg, msg_len, text, &len));
    CHECK(text[0] == '{', "flattened JSON: %s", text);
    back_len = sizeof back;
    EXPECT(h, SEAM_OK, seam_jws_verify(h, a, "hs", 0, text, strlen(text), back, &back_len));
    const char none[] = "eyJhbGciOiJub25lIn0.e30.";
    EXPECT(h, SEAM_BAD_REQUEST, seam_jws_verify(h, a, "hs", 0, none, strlen(none), back, &back_len));
    SAYS(h, "none");
    len = 10;
    EXPECT(h, SEAM_BAD_REQUEST, seam_jws_sign(h, a, "sig", 0, 0, NULL, false, msg, msg_len, text, &len));
    CHECK(len > 10, "a small buffer reports the size needed: %zu", len);
    len = sizeof text;
    EXPECT(h, SEAM_BAD_REQUEST, seam_jws_sign(h, a, "sig", 0, 7, NULL, false, msg, msg_len, text, &len));
    SAYS(h, "SEAM_JWS_");
    EXPECT(h, SEAM_BAD_REQUEST, seam_jws_verify(h, a, "sig", 0, NULL, 10, back, &back_len));
    SAYS(h, "`jws` is NULL");
    EXPECT(h, SEAM_BAD_REQUEST, seam_jws_verify(h, a, "sig", 0, none, strlen(none), back, NULL));

    /* ---- JWE: A128KW with A256GCM ---- */
    len = sizeof text;
    EXPECT(h, SEAM_OK,
           seam_jwe_encrypt(h, a, "kw", 14, SEAM_JWE_A128KW, SEAM_JWE_A256GCM, false, msg, msg_len,
                            text, &len));
    CHECK(strstr(text, "content instance") == NULL, "the JWE hides the plaintext");
    back_len = sizeof back;
    EXPECT(h, SEAM_OK, seam_jwe_decrypt(h, a, "kw", 0, text, strlen(text), back, &back_len));
    CHECK(back_len == msg_len && memcmp(back, msg, msg_len) == 0, "decrypt gives the plaintext");
    size_t n = strlen(text);
    text[n - 5] = text[n - 5] == 'A' ? 'B' : 'A';
    back_len = sizeof back;
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_jwe_decrypt(h, a, "kw", 0, text, strlen(text), back, &back_len));
    SAYS(h, "authenticat");
    len = sizeof text;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_jwe_encrypt(h, a, "kw", 14, 99, SEAM_JWE_A256GCM, false, msg, msg_len, text, &len));
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_jwe_encrypt(h, a, "kw", 14, SEAM_JWE_A128KW, 0, false, msg, msg_len, text, &len));
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_jwe_encrypt(h, a, "kw", 14, SEAM_JWE_A128KW, SEAM_JWE_A128GCM, false, msg,
                            SEAM_DATA_MAX + 1, text, &len));
    SAYS(h, "limit");
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_jwe_decrypt(h, a, "kw", 0, text, SEAM_JOSE_TEXT_MAX + 1, back, &back_len));

    /* ---- a dynamic authorization token ---- */
    const char claims[] = "{\"iss\":\"/das\",\"nbf\":1000,\"exp\":2000,\"aud\":\"/cse-mn-1\"}";
    len = sizeof text;
    EXPECT(h, SEAM_OK,
           seam_jws_sign(h, a, "sig", 45, SEAM_JWS_ES256, "JWT", false, (const uint8_t *)claims,
                         strlen(claims), text, &len));
    char out_claims[512];
    size_t claims_len = sizeof out_claims;
    EXPECT(h, SEAM_OK,
           seam_token_verify(h, a, "sig", 45, text, strlen(text), "/cse-mn-1", 1500, out_claims,
                             &claims_len));
    CHECK(strstr(out_claims, "\"iss\":\"/das\"") != NULL, "claims: %s", out_claims);
    claims_len = sizeof out_claims;
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_token_verify(h, a, "sig", 45, text, strlen(text), "/cse-mn-1", 2000, out_claims,
                             &claims_len));
    SAYS(h, "expired");
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_token_verify(h, a, "sig", 45, text, strlen(text), "/cse-other", 1500, out_claims,
                             &claims_len));
    SAYS(h, "audience");
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_token_verify(h, a, "sig", 45, text, strlen(text), NULL, 1500, out_claims,
                             &claims_len));

    /* ---- ESPrim: A (originator) to B (target) and back ---- */
    char rand[512], session_a[2048], session_b[2048], object[4096];
    const uint8_t request[] = "{\"op\":2,\"fr\":\"CAE-1\",\"to\":\"/CSE-IN/meter\",\"rqi\":\"1\"}";
    const uint8_t response[] = "{\"rsc\":2000,\"rqi\":\"1\",\"pc\":\"42 kWh\"}";
    len = sizeof rand;
    EXPECT(h, SEAM_OK, seam_esprim_rand(h, "rand-1", 3000, rand, &len));
    CHECK(strstr(rand, "\"esprimRandID\":\"rand-1\"") != NULL, "random object: %s", rand);
    size_t object_len = sizeof object, session_len = sizeof session_a;
    EXPECT(h, SEAM_OK,
           seam_esprim_protect_request(h, a, "e2e", 13, "CAE-1", "CSE-IN", rand, 1000, request,
                                       sizeof request, object, &object_len, session_a,
                                       &session_len));
    CHECK(strstr(object, "CSE-IN/meter") == NULL, "the ESPrim object hides the request");
    back_len = sizeof back;
    session_len = sizeof session_b;
    EXPECT(h, SEAM_OK,
           seam_esprim_unprotect_request(h, b, "e2e", 0, "CSE-IN", rand, 1001, object,
                                         strlen(object), back, &back_len, session_b,
                                         &session_len));
    CHECK(back_len == sizeof request && memcmp(back, request, back_len) == 0,
          "the target gets the request");
    object_len = sizeof object;
    EXPECT(h, SEAM_OK,
           seam_esprim_protect_response(h, b, "e2e", 13, session_b, 1002, response,
                                        sizeof response, object, &object_len));
    back_len = sizeof back;
    EXPECT(h, SEAM_OK,
           seam_esprim_unprotect_response(h, a, "e2e", 13, session_a, 1003, object,
                                          strlen(object), back, &back_len));
    CHECK(back_len == sizeof response && memcmp(back, response, back_len) == 0,
          "the originator gets the response");
    /* A tampered response, a response as a request, another target: 4106. */
    n = strlen(object);
    object[n - 3] = object[n - 3] == 'A' ? 'B' : 'A';
    back_len = sizeof back;
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_esprim_unprotect_response(h, a, "e2e", 13, session_a, 1003, object,
                                          strlen(object), back, &back_len));
    object[n - 3] = object[n - 3] == 'A' ? 'B' : 'A';
    session_len = sizeof session_b;
    EXPECT(h, SEAM_ORIGINATOR_NOT_AUTHENTICATED,
           seam_esprim_unprotect_request(h, b, "e2e", 0, "CSE-IN", rand, 1001, object,
                                         strlen(object), back, &back_len, session_b,
                                         &session_len));
    SAYS(h, "request");
    /* Bad input: 4000 naming it. */
    object_len = sizeof object;
    session_len = sizeof session_a;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_esprim_protect_request(h, a, "e2e", 13, "CAE-1", "CSE-IN", NULL, 1000, request,
                                       sizeof request, object, &object_len, session_a,
                                       &session_len));
    SAYS(h, "`receiver_rand` is NULL");
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_esprim_protect_request(h, a, "e2e", 13, "CAE-1", "CSE-IN", "{not json", 1000,
                                       request, sizeof request, object, &object_len, session_a,
                                       &session_len));
    SAYS(h, "not JSON");
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_esprim_protect_request(h, a, "e2e", 13, "CAE 1", "CSE-IN", rand, 1000, request,
                                       sizeof request, object, &object_len, session_a,
                                       &session_len));
    SAYS(h, "printable ASCII");
    session_len = 8;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_esprim_protect_request(h, a, "e2e", 13, "CAE-1", "CSE-IN", rand, 1000, request,
                                       sizeof request, object, &object_len, session_a,
                                       &session_len));
    CHECK(session_len > 8, "a small session buffer reports the size needed: %zu", session_len);
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_esprim_unprotect_response(h, a, "e2e", 13, "{}", 1003, object, strlen(object),
                                          back, &back_len));
    /* A key of another use (ESData, SUID 14) is no ESPrim key. */
    object_len = sizeof object;
    session_len = sizeof session_a;
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE,
           seam_esprim_protect_request(h, a, "kw", 14, "CAE-1", "CSE-IN", rand, 1000, request,
                                       sizeof request, object, &object_len, session_a,
                                       &session_len));

    seam_close(h);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
