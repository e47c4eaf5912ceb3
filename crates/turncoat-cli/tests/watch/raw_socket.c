/* turncoat watch probe: open a raw ICMP socket (a covert channel that needs no connect).
 * usage: raw_socket
 * Prints one line, always exits 0. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) { int e = errno; printf("raw_socket result=fail errno=%d (%s)\n", e, strerror(e)); return 0; }
    printf("raw_socket result=ok fd=%d\n", fd);
    close(fd);
    return 0;
}
