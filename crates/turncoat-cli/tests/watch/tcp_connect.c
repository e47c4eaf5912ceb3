/* turncoat watch probe: a direct TCP connect that ignores the proxy.
 * usage: tcp_connect ADDR PORT   (ADDR is a literal IPv4 or IPv6 address)
 * On success it writes one line to the peer. Prints one line, always exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: tcp_connect ADDR PORT\n"); return 2; }
    struct sockaddr_storage ss; memset(&ss, 0, sizeof ss);
    socklen_t len; int family;
    int port = atoi(argv[2]);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
        family = AF_INET; a4->sin_family = AF_INET; a4->sin_port = htons(port); len = sizeof *a4;
    } else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
        family = AF_INET6; a6->sin6_family = AF_INET6; a6->sin6_port = htons(port); len = sizeof *a6;
    } else { printf("tcp_connect %s:%d result=fail bad-address\n", argv[1], port); return 0; }
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) { int e = errno; printf("tcp_connect %s:%d result=fail socket errno=%d (%s)\n", argv[1], port, e, strerror(e)); return 0; }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno; printf("tcp_connect %s:%d result=fail errno=%d (%s)\n", argv[1], port, e, strerror(e)); return 0;
    }
    const char msg[] = "turncoat-probe tcp_connect\n";
    ssize_t n = write(fd, msg, sizeof msg - 1);
    printf("tcp_connect %s:%d result=ok wrote=%zd\n", argv[1], port, n);
    close(fd);
    return 0;
}
