/* turncoat watch probe: read other processes' environments through /proc (pid 1 first,
 * then every pid visible). NULs are printed as spaces so the test can search the output.
 * usage: proc_environ
 * Prints one line, always exits 0. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void dump(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf(" %s=[fail errno=%d]", path, errno); return; }
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0) { printf(" %s=[fail read errno=%d]", path, e); return; }
    for (ssize_t i = 0; i < n; i++) if (buf[i] == '\0' || buf[i] == '\n') buf[i] = ' ';
    buf[n] = '\0';
    printf(" %s=[ok %zd bytes: %s]", path, n, buf);
}

int main(void) {
    printf("proc_environ self=%d", (int)getpid());
    dump("/proc/1/environ");
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *e;
        char path[300];
        while ((e = readdir(d)) != NULL) {
            if (!isdigit((unsigned char)e->d_name[0]) || strcmp(e->d_name, "1") == 0) continue;
            snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
            dump(path);
        }
        closedir(d);
    }
    printf("\n");
    return 0;
}
