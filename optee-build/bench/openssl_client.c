/*
 * The OpenSSL side of `cargo optee bench`: an OpenSSL client doing one
 * handshake against the benchmark's `openssl s_server` for each line it
 * reads on stdin, printing the handshake's wall time in milliseconds (from
 * socket creation to SSL_connect's return, as the seam side is timed) and
 * the negotiated protocol and suite. The shutdown is not timed.
 *
 *   openssl_client dtls12-psk  PORT PSK_HEX IDENTITY
 *   openssl_client tls12-ecdhe PORT CA CERT KEY
 *   openssl_client tls13       PORT CA CERT KEY
 *
 * The guest has libssl3 but no OpenSSL headers (the dev package is not in
 * the image's package set), so the few functions used are declared here by
 * their OpenSSL 3 ABI; the constants are OpenSSL 3's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct bio_st BIO;

const SSL_METHOD *TLS_client_method(void);
const SSL_METHOD *DTLS_client_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *m);
long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg);
int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *s);
int SSL_CTX_set_ciphersuites(SSL_CTX *ctx, const char *s);
int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file);
int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type);
int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *file, const char *path);
void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, void *cb);
typedef unsigned int (*psk_client_cb)(SSL *, const char *, char *, unsigned int,
                                      unsigned char *, unsigned int);
void SSL_CTX_set_psk_client_callback(SSL_CTX *ctx, psk_client_cb cb);
SSL *SSL_new(SSL_CTX *ctx);
void SSL_free(SSL *s);
int SSL_set_fd(SSL *s, int fd);
void SSL_set_bio(SSL *s, BIO *rbio, BIO *wbio);
long SSL_ctrl(SSL *s, int cmd, long larg, void *parg);
int SSL_connect(SSL *s);
int SSL_shutdown(SSL *s);
const char *SSL_get_version(const SSL *s);
const SSL_CIPHER *SSL_get_current_cipher(const SSL *s);
const char *SSL_CIPHER_get_name(const SSL_CIPHER *c);
BIO *BIO_new_dgram(int fd, int close_flag);
long BIO_ctrl(BIO *b, int cmd, long larg, void *parg);
unsigned long ERR_get_error(void);
void ERR_error_string_n(unsigned long e, char *buf, size_t len);

#define SSL_CTRL_SET_MIN_PROTO_VERSION 123
#define SSL_CTRL_SET_MAX_PROTO_VERSION 124
#define SSL_CTRL_SET_GROUPS_LIST 92
#define SSL_CTRL_SET_TLSEXT_HOSTNAME 55
#define BIO_CTRL_DGRAM_SET_CONNECTED 32
#define BIO_NOCLOSE 0
#define SSL_FILETYPE_PEM 1
#define SSL_VERIFY_PEER 1
#define TLS1_2_VERSION 0x0303
#define TLS1_3_VERSION 0x0304
#define DTLS1_2_VERSION 0xFEFD

static const char *psk_identity;
static unsigned char psk[64];
static unsigned int psk_len;

static unsigned int psk_cb(SSL *s, const char *hint, char *id, unsigned int max_id,
                           unsigned char *out, unsigned int max_psk) {
    (void)s;
    (void)hint;
    if (strlen(psk_identity) + 1 > max_id || psk_len > max_psk)
        return 0;
    strcpy(id, psk_identity);
    memcpy(out, psk, psk_len);
    return psk_len;
}

static void die(const char *what) {
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    fprintf(stderr, "openssl_client: %s %s\n", what, buf);
    exit(1);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: openssl_client dtls12-psk|tls12-ecdhe|tls13 PORT ...\n");
        return 2;
    }
    const char *mode = argv[1];
    int dtls = strcmp(mode, "dtls12-psk") == 0;
    int tls13 = strcmp(mode, "tls13") == 0;
    if (!dtls && !tls13 && strcmp(mode, "tls12-ecdhe") != 0) {
        fprintf(stderr, "openssl_client: unknown mode %s\n", mode);
        return 2;
    }
    if ((dtls && argc != 5) || (!dtls && argc != 6)) {
        fprintf(stderr, "openssl_client: wrong arguments for %s\n", mode);
        return 2;
    }
    struct sockaddr_in peer = {0};
    peer.sin_family = AF_INET;
    peer.sin_port = htons((unsigned short)atoi(argv[2]));
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    SSL_CTX *ctx = SSL_CTX_new(dtls ? DTLS_client_method() : TLS_client_method());
    if (!ctx)
        die("SSL_CTX_new");
    long version = dtls ? DTLS1_2_VERSION : tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, version, NULL);
    SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, version, NULL);
    if (dtls) {
        const char *hex = argv[3];
        psk_len = (unsigned int)strlen(hex) / 2;
        if (psk_len == 0 || psk_len > sizeof psk)
            die("PSK length");
        for (unsigned int i = 0; i < psk_len; i++)
            sscanf(hex + 2 * i, "%2hhx", &psk[i]);
        psk_identity = argv[4];
        if (!SSL_CTX_set_cipher_list(ctx, "PSK-AES128-CCM8:@SECLEVEL=0"))
            die("cipher list");
        SSL_CTX_set_psk_client_callback(ctx, psk_cb);
    } else {
        if (tls13) {
            if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
                die("ciphersuites");
        } else if (!SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0")) {
            die("cipher list");
        }
        /* The group the server is limited to, so no HelloRetryRequest. */
        if (!SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0, "P-256"))
            die("groups");
        if (!SSL_CTX_load_verify_locations(ctx, argv[3], NULL))
            die("CA file");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (!SSL_CTX_use_certificate_chain_file(ctx, argv[4]))
            die("certificate");
        if (!SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM))
            die("key");
    }

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        double t0 = now_ms();
        int fd = socket(AF_INET, dtls ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0)
            die("connect");
        if (!dtls) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        SSL *ssl = SSL_new(ctx);
        if (!ssl)
            die("SSL_new");
        if (dtls) {
            BIO *bio = BIO_new_dgram(fd, BIO_NOCLOSE);
            BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
            SSL_set_bio(ssl, bio, bio);
        } else {
            SSL_set_fd(ssl, fd);
        }
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, 0, "localhost");
        if (SSL_connect(ssl) != 1)
            die("handshake");
        double ms = now_ms() - t0;
        printf("%.4f %s %s\n", ms, SSL_get_version(ssl),
               SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
        fflush(stdout);
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
    }
    return 0;
}
