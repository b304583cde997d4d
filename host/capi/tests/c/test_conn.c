/*
 * test_conn.c: seam_conn_* from C, a (D)TLS 1.2 connection over a socket
 * this program owns, against an OpenSSL peer started by whoever runs it.
 *
 * Usage: test_conn BACKEND STORE_DIR SE MODE PORT [DIR]
 *   BACKEND, STORE_DIR  as test_seam ("-" for the defaults)
 *   SE     an SE holding `psk` (a PSK, SUID 21: handshake) and `cert` (a
 *          P-256 key, SUID 42: handshake, sign), granted to this user
 *   MODE   tls-psk | tls-ecdhe | dtls-psk: connect to an `openssl s_server`
 *          on 127.0.0.1:PORT (PSK identity "c-test-client", the PSK;
 *          ECDHE: a certificate chaining to DIR/ca.pem with the SAN URI
 *          //m2m.seam.test/id-peer, asking for ours, DIR/se.pem);
 *          accept-tls-ecdhe: listen on 127.0.0.1:PORT (0: any; the port is
 *          printed as "LISTENING <port>") and accept one `openssl s_client`
 *          holding DIR/peer.pem.
 *   Each mode sends "hello from C", expects "hello from openssl" back, and
 *   (PSK) exports EXPORTER-oneM2M-Connection into a new key.
 *
 * Prints one line per failed check and ends with "N passed, N failed";
 * exits 1 if any check failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <seam.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

#define EXPECT(h, want, call)                                                  \
    do {                                                                       \
        uint16_t got_ = (call);                                                \
        CHECK(got_ == (want), "%s: got %u (%s: %s), want %u", #call, got_,     \
              seam_status_name(got_), seam_last_error(h), (unsigned)(want));   \
    } while (0)

static const char *arg(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

static char *read_file(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("cannot open %s\n", path);
        exit(2);
    }
    static char bufs[4][16384];
    static int next;
    char *buf = bufs[next++ % 4];
    size_t n = fread(buf, 1, sizeof bufs[0] - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int socket_to(int type, int port) {
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(2);
    }
    return fd;
}

/* Sends our line and reads until the peer's line arrived (or 20 s). */
static void exchange(seam_handle *h, seam_conn *c, int dtls) {
    const char *hello = "hello from C\n";
    EXPECT(h, SEAM_OK, seam_conn_write(c, (const uint8_t *)hello, strlen(hello)));
    char got[4096] = {0};
    size_t total = 0;
    for (int i = 0; i < 40 && strstr(got, "hello from openssl") == NULL; i++) {
        size_t len = sizeof got - 1 - total;
        bool closed = false;
        uint16_t s = seam_conn_read(c, (uint8_t *)got + total, &len, 500, &closed);
        if (s != SEAM_OK) {
            CHECK(0, "read: %u %s", s, seam_last_error(h));
            break;
        }
        total += len;
        if (closed) break;
        /* DTLS: s_server answers each datagram; say hello again if lost. */
        if (dtls && len == 0)
            seam_conn_write(c, (const uint8_t *)hello, strlen(hello));
    }
    CHECK(strstr(got, "hello from openssl") != NULL, "the peer's line arrived: %s", got);
}

static void check_export(seam_handle *h, seam_conn *c, const char *se, const char *object) {
    uint8_t relative[SEAM_RELATIVE_ID_LEN] = {0}, suid = 0;
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_export_key(c, 7, object, relative, &suid));
    CHECK(strstr(seam_last_error(h), "label 7") != NULL, "names the label: %s",
          seam_last_error(h));
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_export_key(c, SEAM_EXPORT_CONNECTION, "bad/name",
                                                     relative, &suid));
    /* Kc is stored under the SUID registered with the MAF (TS-0004 has no 31). */
    suid = 31;
    EXPECT(h, SEAM_BAD_REQUEST,
           seam_conn_export_key(c, SEAM_EXPORT_CONNECTION, object, relative, &suid));
    suid = 34;
    EXPECT(h, SEAM_CREATED,
           seam_conn_export_key(c, SEAM_EXPORT_CONNECTION, object, relative, &suid));
    uint8_t zero[SEAM_RELATIVE_ID_LEN] = {0};
    CHECK(memcmp(relative, zero, sizeof zero) != 0, "a RelativeKeID came back");
    CHECK(suid == 34, "the exported key has the SUID asked for: %u", suid);
    seam_object_info_t info;
    EXPECT(h, SEAM_OK, seam_object_info(h, se, object, &info));
    CHECK(info.kind == SEAM_KIND_SECRET && info.suid == suid && info.size > 0,
          "the exported key exists in the SE: kind %u suid %u size %u", info.kind, info.suid,
          info.size);
    /* The label this PSK's SUID does not allow. */
    uint16_t s = seam_conn_export_key(c, SEAM_EXPORT_BOOTSTRAP, "ke", relative, &suid);
    CHECK(s != SEAM_CREATED && s != SEAM_OK, "a Bootstrap export from a MAF PSK is refused");
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE, seam_object_info(h, se, "ke", &info));
}

static void bad_input(seam_handle *h, const char *se) {
    seam_conn_options_t o;
    memset(&o, 0, sizeof o);
    seam_conn *c = (seam_conn *)1;
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, NULL, &c));
    CHECK(c == NULL, "a failed connect leaves *out NULL");
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_conn_connect(NULL, udp, &o, &c));
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, NULL));
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    CHECK(strstr(seam_last_error(h), "protocol") != NULL, "names the protocol: %s",
          seam_last_error(h));
    o.protocol = SEAM_CONN_TLS;
    o.se = se;
    o.key = "psk";
    o.psk_identity = "c-test-client";
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    CHECK(strstr(seam_last_error(h), "datagram") != NULL, "a UDP fd for TLS: %s",
          seam_last_error(h));
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, -1, &o, &c));
    o.protocol = SEAM_CONN_DTLS;
    o.suites = "RC4-MD5";
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    CHECK(strstr(seam_last_error(h), "RC4-MD5") != NULL, "names the suite: %s",
          seam_last_error(h));
    o.suites = "ECDHE-ECDSA-AES128-CCM8";
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    o.suites = NULL;
    /* An object the caller cannot use looks the same whether it exists or not. */
    o.key = "nothing";
    EXPECT(h, SEAM_ORIGINATOR_HAS_NO_PRIVILEGE, seam_conn_connect(h, udp, &o, &c));
    o.key = "psk";
    o.psk_identity = NULL;
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    CHECK(strstr(seam_last_error(h), "identity") != NULL, "a PSK needs an identity: %s",
          seam_last_error(h));
    o.psk_identity = "c-test-client";
    o.ca_pem = "not a certificate";
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    o.ca_pem = NULL;
    uint8_t not_a_point[65] = {4};
    o.peer_key = not_a_point;
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    o.peer_key = NULL;
    o.mtu = 10;
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_connect(h, udp, &o, &c));
    close(udp);

    /* The calls on a connection refuse NULL. */
    size_t len = 8;
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_conn_read(NULL, (uint8_t *)"", &len, 0, NULL));
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_conn_write(NULL, (const uint8_t *)"x", 1));
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_conn_info(NULL, NULL));
    EXPECT(NULL, SEAM_BAD_REQUEST, seam_conn_export_key(NULL, 1, "k", NULL, NULL));
    seam_conn_close(NULL);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s BACKEND STORE_DIR SE MODE PORT [DIR]\n", argv[0]);
        return 2;
    }
    const char *se = argv[3], *mode = argv[4], *dir = argc > 6 ? argv[6] : ".";
    int port = atoi(argv[5]);
    seam_handle *h = NULL;
    if (seam_open(arg(argv[1]), arg(argv[2]), &h) != SEAM_OK) {
        printf("cannot open: %s\n0 passed, 1 failed\n", seam_last_error(NULL));
        return 1;
    }
    bad_input(h, se);

    int dtls = strncmp(mode, "dtls", 4) == 0;
    int psk = strstr(mode, "psk") != NULL;
    int accept_mode = strncmp(mode, "accept", 6) == 0;
    seam_conn_options_t o;
    memset(&o, 0, sizeof o);
    o.protocol = dtls ? SEAM_CONN_DTLS : SEAM_CONN_TLS;
    o.se = se;
    o.handshake_timeout_ms = 20000;
    if (psk) {
        o.key = "psk";
        o.psk_identity = "c-test-client";
        o.keep_for_export = true;
    } else {
        o.key = "cert";
        o.certificate_pem = read_file(dir, "se.pem");
        o.ca_pem = read_file(dir, "ca.pem");
        o.server_name = "server.seam.test";
        o.require_client_certificate = accept_mode;
    }

    int fd;
    seam_conn *c = NULL;
    if (accept_mode) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t alen = sizeof a;
        if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
            getsockname(l, (struct sockaddr *)&a, &alen) != 0) {
            perror("listen");
            return 2;
        }
        printf("LISTENING %u\n", ntohs(a.sin_port));
        fflush(stdout);
        fd = accept(l, NULL, NULL);
        close(l);
        EXPECT(h, SEAM_OK, seam_conn_accept(h, fd, &o, &c));
    } else {
        fd = socket_to(dtls ? SOCK_DGRAM : SOCK_STREAM, port);
        EXPECT(h, SEAM_OK, seam_conn_connect(h, fd, &o, &c));
    }
    if (c == NULL) {
        printf("no connection: %s\n%d passed, %d failed\n", seam_last_error(h), passed,
               failed + 1);
        return 1;
    }

    seam_conn_info_t info;
    EXPECT(h, SEAM_OK, seam_conn_info(c, &info));
    CHECK(info.protocol == o.protocol, "protocol %u", info.protocol);
    const char *want_suite = dtls ? "TLS_PSK_WITH_AES_128_CCM_8"
                             : psk ? "TLS_PSK_WITH_AES_128_CBC_SHA256"
                                   : "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256";
    CHECK(strcmp(info.suite_name, want_suite) == 0, "suite %s (0x%04X), want %s",
          info.suite_name, info.suite, want_suite);
    char text[1024];
    size_t len = sizeof text;
    if (psk) {
        EXPECT(h, SEAM_OK, seam_conn_psk_identity(c, text, &len));
        CHECK(strcmp(text, "c-test-client") == 0, "psk identity %s", text);
        len = sizeof text;
        EXPECT(h, SEAM_NOT_FOUND, seam_conn_peer_subject(c, text, &len));
        CHECK(!info.has_peer_public_key, "no peer key on PSK");
    } else {
        len = 1;
        EXPECT(h, SEAM_BAD_REQUEST, seam_conn_peer_subject(c, text, &len));
        CHECK(len > 1, "the size needed: %zu", len);
        len = sizeof text;
        EXPECT(h, SEAM_OK, seam_conn_peer_subject(c, text, &len));
        CHECK(strstr(text, "CN=peer") != NULL, "peer subject %s", text);
        len = sizeof text;
        EXPECT(h, SEAM_OK, seam_conn_peer_uris(c, text, &len));
        CHECK(strcmp(text, "//m2m.seam.test/id-peer") == 0, "peer URIs %s", text);
        CHECK(info.has_peer_public_key && info.peer_public_key[0] == 4, "the peer's key");
        len = sizeof text;
        EXPECT(h, SEAM_NOT_FOUND, seam_conn_psk_identity(c, text, &len));
        /* Opened without keep_for_export. */
        EXPECT(h, SEAM_OPERATION_NOT_ALLOWED,
               seam_conn_export_key(c, SEAM_EXPORT_CONNECTION, "kc", NULL, NULL));
    }
    EXPECT(h, SEAM_BAD_REQUEST, seam_conn_write(c, NULL, 5));
    if (dtls) {
        static uint8_t big[4000];
        EXPECT(h, SEAM_BAD_REQUEST, seam_conn_write(c, big, sizeof big));
        CHECK(info.max_payload > 100 && info.max_payload < 1200, "max payload %u",
              info.max_payload);
    }

    exchange(h, c, dtls);
    if (psk) {
        char object[33];
        snprintf(object, sizeof object, "kc-%s", mode);
        check_export(h, c, se, object);
    }
    seam_conn_close(c);
    close(fd);
    seam_close(h);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
