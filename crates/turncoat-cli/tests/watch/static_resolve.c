/* turncoat watch probe, linked statically (no libc interposition possible): a direct TCP
 * connect plus a getaddrinfo lookup.
 * usage: static_resolve PORT NAME   (connect to 127.0.0.1:PORT; NAME "-" skips the lookup)
 * Prints one line, always exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: static_resolve PORT NAME\n"); return 2; }
    char conn[96], res[96];
    struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET; sa.sin_port = htons(atoi(argv[1]));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(conn, sizeof conn, "fail errno=%d (%s)", errno, strerror(errno));
    } else {
        const char msg[] = "turncoat-probe static_resolve\n";
        ssize_t n = write(fd, msg, sizeof msg - 1);
        snprintf(conn, sizeof conn, "ok wrote=%zd", n);
    }
    if (fd >= 0) close(fd);
    if (strcmp(argv[2], "-") == 0) snprintf(res, sizeof res, "skipped");
    else {
        struct addrinfo hints, *ai = NULL; memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET; hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(argv[2], "80", &hints, &ai);
        if (rc == 0) { snprintf(res, sizeof res, "ok"); freeaddrinfo(ai); }
        else snprintf(res, sizeof res, "fail %s", gai_strerror(rc));
    }
    printf("static_resolve connect 127.0.0.1:%s=[%s] getaddrinfo %s=[%s]\n", argv[1], conn, argv[2], res);
    return 0;
}
