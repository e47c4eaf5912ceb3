/* turncoat watch probe: double fork + setsid, leaving a daemon that tries to connect to
 * 127.0.0.1:PORT every 100 ms, so the process outlives the command it came from.
 * usage: daemon PORT MARKER   (MARKER only has to appear in argv, for the test to find it)
 * The daemon gives up after 60 s so a failed test cannot leave it running for long.
 * The parent prints one line with the daemon's pid and exits 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: daemon PORT MARKER\n"); return 2; }
    int port = atoi(argv[1]);
    int pfd[2];
    if (pipe(pfd) != 0) { printf("daemon result=fail pipe\n"); return 0; }
    pid_t c = fork();
    if (c < 0) { printf("daemon result=fail fork\n"); return 0; }
    if (c == 0) {
        setsid();
        pid_t g = fork();
        if (g != 0) _exit(0);
        close(pfd[0]);
        pid_t me = getpid();
        (void)!write(pfd[1], &me, sizeof me);
        close(pfd[1]);
        int null = open("/dev/null", 2);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); }
        struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET; sa.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        struct timespec ts = {0, 100 * 1000 * 1000};
        for (int i = 0; i < 600; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd >= 0) {
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                    (void)!write(fd, "turncoat-probe daemon\n", 22);
                close(fd);
            }
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    close(pfd[1]);
    waitpid(c, NULL, 0);
    pid_t g = 0;
    if (read(pfd[0], &g, sizeof g) != (ssize_t)sizeof g) { printf("daemon result=fail no pid\n"); return 0; }
    printf("daemon result=ok pid=%d\n", (int)g);
    return 0;
}
