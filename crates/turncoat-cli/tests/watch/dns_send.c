/* turncoat watch probe: DNS queries sent straight to a literal resolver address,
 * bypassing /etc/resolv.conf: one over UDP (sendto), one over TCP (connect + write).
 * usage: dns_send PORT NAME   (resolver 127.0.0.1:PORT)
 * Prints one line, always exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A TXT query for NAME; returns its length or -1. */
static int build_query(const char *name, unsigned char *q, size_t cap) {
    size_t n = 0;
    const unsigned char hdr[12] = {0x4a, 0x11, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(q, hdr, 12); n = 12;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || n + l + 1 + 5 > cap) return -1;
        q[n++] = (unsigned char)l; memcpy(q + n, p, l); n += l;
        p += l; if (*p == '.') p++;
    }
    q[n++] = 0; q[n++] = 0; q[n++] = 16; q[n++] = 0; q[n++] = 1; /* TXT IN */
    return (int)n;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: dns_send PORT NAME\n"); return 2; }
    unsigned char q[300];
    int qlen = build_query(argv[2], q, sizeof q);
    if (qlen < 0) { printf("dns_send bad name\n"); return 0; }
    struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET; sa.sin_port = htons(atoi(argv[1]));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {1, 0};
    char udp[96], tcp[96];
    unsigned char buf[512];

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    if (u < 0) snprintf(udp, sizeof udp, "fail socket errno=%d", errno);
    else {
        setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t s = sendto(u, q, qlen, 0, (struct sockaddr *)&sa, sizeof sa);
        if (s < 0) snprintf(udp, sizeof udp, "fail sendto errno=%d (%s)", errno, strerror(errno));
        else {
            ssize_t r = recv(u, buf, sizeof buf, 0);
            if (r > 0) snprintf(udp, sizeof udp, "ok sent=%zd answer=%zd", s, r);
            else snprintf(udp, sizeof udp, "fail sent=%zd answer=none errno=%d", s, errno);
        }
        close(u);
    }

    int t = socket(AF_INET, SOCK_STREAM, 0);
    if (t < 0) snprintf(tcp, sizeof tcp, "fail socket errno=%d", errno);
    else if (connect(t, (struct sockaddr *)&sa, sizeof sa) != 0)
        snprintf(tcp, sizeof tcp, "fail connect errno=%d (%s)", errno, strerror(errno));
    else {
        setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        unsigned char framed[302];
        framed[0] = (unsigned char)(qlen >> 8); framed[1] = (unsigned char)qlen;
        memcpy(framed + 2, q, qlen);
        ssize_t s = write(t, framed, qlen + 2);
        ssize_t r = recv(t, buf, sizeof buf, 0);
        if (r > 0) snprintf(tcp, sizeof tcp, "ok sent=%zd answer=%zd", s, r);
        else snprintf(tcp, sizeof tcp, "fail sent=%zd answer=none", s);
    }
    if (t >= 0) close(t);
    printf("dns_send %s via 127.0.0.1:%s udp=[%s] tcp=[%s]\n", argv[2], argv[1], udp, tcp);
    return 0;
}
