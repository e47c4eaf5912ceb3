/* turncoat watch probe: a socket to the hypervisor (AF_VSOCK), which no network namespace
 * covers. Prints one line, always exits 0. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

int main(void) {
    int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (fd < 0) printf("vsock result=fail errno=%d\n", errno);
    else { printf("vsock result=ok\n"); close(fd); }
    return 0;
}
