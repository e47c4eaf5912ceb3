/* turncoat watch probe: run a program without a path on disk: copy /bin/true (argv[1]) into a
 * memfd and execveat(memfd, "", AT_EMPTY_PATH); then execve("/proc/self/fd/N") of it.
 * Each attempt runs in a child; prints one line with each child's exit status. Exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int memfd_of(const char *src) {
    int in = open(src, O_RDONLY);
    if (in < 0) return -1;
    int m = memfd_create("turncoat-fileless", 0);
    if (m < 0) return -1;
    char buf[65536]; ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) if (write(m, buf, n) != n) return -1;
    close(in);
    return m;
}

static int run(int how, int m) {
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {"fileless", NULL};
        char *envp[] = {NULL};
        if (how == 0) {
            syscall(SYS_execveat, m, "", argv, envp, AT_EMPTY_PATH);
        } else {
            char path[64]; snprintf(path, sizeof path, "/proc/self/fd/%d", m);
            execve(path, argv, envp);
        }
        _exit(100 + (errno & 0x1f));
    }
    int st = 0; waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: fileless_exec /bin/true\n"); return 2; }
    int m = memfd_of(argv[1]);
    if (m < 0) { printf("fileless_exec memfd=fail errno=%d\n", errno); return 0; }
    printf("fileless_exec execveat=%d procfd=%d\n", run(0, m), run(1, m));
    return 0;
}
