/*
 * The anchor for seam's ECDSA P-256 sign in `cargo optee bench`: OP-TEE's
 * own PKCS#11 TA through libckteec. It initialises the first slot's token
 * (fresh for the bench's boot), logs in as the user, generates a P-256 token
 * key pair (CKA_TOKEN, so the private key lives in the TA's secure storage
 * as seam's do), then for each line on stdin signs a 32-byte digest with
 * CKM_ECDSA and prints the milliseconds C_SignInit + C_Sign took (the
 * PKCS#11 way to sign one digest: two TA invocations).
 */
#include <pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(CK_RV rv, const char *what) {
    if (rv != CKR_OK) {
        fprintf(stderr, "pkcs11_sign: %s failed: 0x%lx\n", what, (unsigned long)rv);
        exit(1);
    }
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void) {
    CK_UTF8CHAR so_pin[] = "seam-bench-so";
    CK_UTF8CHAR user_pin[] = "seam-bench-user";
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof label);
    memcpy(label, "seam-bench", 10);

    check(C_Initialize(NULL), "C_Initialize");
    CK_SLOT_ID slots[8];
    CK_ULONG count = 8;
    check(C_GetSlotList(CK_TRUE, slots, &count), "C_GetSlotList");
    if (count == 0) {
        fprintf(stderr, "pkcs11_sign: no token (is the PKCS#11 TA installed?)\n");
        return 1;
    }
    CK_SLOT_ID slot = slots[0];
    check(C_InitToken(slot, so_pin, sizeof so_pin - 1, label), "C_InitToken");
    CK_SESSION_HANDLE s;
    check(C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
          "C_OpenSession");
    check(C_Login(s, CKU_SO, so_pin, sizeof so_pin - 1), "C_Login(SO)");
    check(C_InitPIN(s, user_pin, sizeof user_pin - 1), "C_InitPIN");
    check(C_Logout(s), "C_Logout");
    check(C_Login(s, CKU_USER, user_pin, sizeof user_pin - 1), "C_Login(user)");

    /* DER of the OID prime256v1 (1.2.840.10045.3.1.7). */
    CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {
        {CKA_EC_PARAMS, p256, sizeof p256},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_VERIFY, &yes, sizeof yes},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_SIGN, &yes, sizeof yes},
    };
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE pub_h, priv_h;
    check(C_GenerateKeyPair(s, &gen, pub, 3, priv, 4, &pub_h, &priv_h), "C_GenerateKeyPair");

    CK_BYTE digest[32];
    for (int i = 0; i < 32; i++)
        digest[i] = (CK_BYTE)(i * 7 + 1);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        CK_BYTE sig[128];
        CK_ULONG sig_len = sizeof sig;
        double t0 = now_ms();
        check(C_SignInit(s, &ecdsa, priv_h), "C_SignInit");
        check(C_Sign(s, digest, sizeof digest, sig, &sig_len), "C_Sign");
        double ms = now_ms() - t0;
        if (sig_len != 64) {
            fprintf(stderr, "pkcs11_sign: a %lu-byte signature\n", (unsigned long)sig_len);
            return 1;
        }
        printf("%.4f\n", ms);
        fflush(stdout);
    }
    C_Logout(s);
    C_CloseSession(s);
    C_Finalize(NULL);
    return 0;
}
