/* turncoat watch probe: connect to a host daemon's unix socket (nscd answers name lookups
 * from outside the sandbox; docker.sock is a root shell).
 * usage: unix_connect PATH   (@NAME: the abstract socket NAME)
 * Prints one line, always exits 0. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "usage: unix_connect PATH\n"); return 2;
    }
    struct stat st;
    const char *exists = stat(argv[1], &st) == 0 ? (S_ISSOCK(st.st_mode) ? "socket" : "present") : "absent";
    struct sockaddr_un sa; memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    socklen_t len = sizeof sa;
    if (argv[1][0] == '@') {
        /* Abstract: a leading NUL, the name, and a length that counts only those bytes. */
        memcpy(sa.sun_path + 1, argv[1] + 1, strlen(argv[1]) - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(argv[1]));
    } else {
        strcpy(sa.sun_path, argv[1]);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) { printf("unix_connect %s path=%s result=fail socket errno=%d\n", argv[1], exists, errno); return 0; }
    if (connect(fd, (struct sockaddr *)&sa, len) != 0) {
        int e = errno; printf("unix_connect %s path=%s result=fail errno=%d (%s)\n", argv[1], exists, e, strerror(e));
    } else {
        printf("unix_connect %s path=%s result=ok\n", argv[1], exists);
    }
    close(fd);
    return 0;
}
