/* turncoat watch probe: use a file descriptor inherited from whoever started turncoat (a
 * directory fd) to read a secret past the sandbox's masks: openat(FD, NAME).
 * usage: inherited_fd FD NAME
 * Prints one line, always exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: inherited_fd FD NAME\n"); return 2; }
    int fd = atoi(argv[1]);
    int f = openat(fd, argv[2], O_RDONLY);
    if (f < 0) { printf("inherited_fd result=fail errno=%d\n", errno); return 0; }
    char buf[256]; ssize_t n = read(f, buf, sizeof buf - 1);
    if (n < 0) n = 0;
    buf[n] = 0;
    for (ssize_t i = 0; i < n; i++) if (buf[i] == '\n') buf[i] = ' ';
    printf("inherited_fd result=ok content=%s\n", buf);
    return 0;
}
