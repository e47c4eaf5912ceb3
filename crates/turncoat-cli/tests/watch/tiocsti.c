/* turncoat watch probe: push a command into the user's terminal input (TIOCSTI) and take over
 * the console (TIOCLINUX), from stdin and from /dev/tty.
 * Prints one line: the controlling terminal (tty_nr from /proc/self/stat), whether /dev/tty
 * opens, and each ioctl's result. Always exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tty_nr(void) {
    char buf[1024]; int n = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f); fclose(f); buf[len] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    /* ") state ppid pgrp session tty_nr" */
    char state; int ppid, pgrp, sid;
    if (sscanf(p + 1, " %c %d %d %d %d", &state, &ppid, &pgrp, &sid, &n) != 5) return -1;
    return n;
}

static void try(const char *what, int fd, unsigned long req, void *arg) {
    if (ioctl(fd, req, arg) == 0) printf(" %s=ok", what);
    else printf(" %s=errno%d", what, errno);
}

int main(void) {
    printf("tiocsti tty_nr=%d", tty_nr());
    int t = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (t < 0) printf(" devtty=errno%d", errno); else printf(" devtty=open");
    char c = '#';
    char sub = 0; /* TIOCLINUX subcode 0 is invalid; any answer but EPERM means it got through */
    try("sti0", 0, TIOCSTI, &c);
    if (t >= 0) try("stitty", t, TIOCSTI, &c);
    try("linux0", 0, TIOCLINUX, &sub);
    printf("\n");
    return 0;
}
