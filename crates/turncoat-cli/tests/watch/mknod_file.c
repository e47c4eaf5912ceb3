/* turncoat watch probe: create a file without open(2) — mknodat(S_IFREG) is another syscall
 * that makes a regular file, so a filter that watches only open/creat misses it.
 * usage: mknod_file PATH...   Prints "mknod PATH ok" or "mknod PATH errno=N" per path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (mknodat(AT_FDCWD, argv[i], S_IFREG | 0755, 0) == 0)
            printf("mknod %s ok\n", argv[i]);
        else
            printf("mknod %s errno=%d\n", argv[i], errno);
    }
    return 0;
}
