/* turncoat watch probe (x86_64): syscalls through another ABI, which a filter keyed on the
 * x86_64 numbers alone would let through: `int 0x80` (i386 numbers) and x32 numbers
 * (0x40000000 | nr). Each runs in a child; prints what it got and how the child ended. */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what) {
    int st;
    wait(&st);
    printf("%s child %s %d\n", what, WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void) {
    if (fork() == 0) {
        long r;
        /* i386 getpid is 20 */
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
        printf("int80 result=%ld\n", r);
        fflush(stdout);
        _exit(0);
    }
    report("int80");
    if (fork() == 0) {
        long r = syscall(0x40000000 | SYS_getpid);
        printf("x32 result=%ld\n", r);
        fflush(stdout);
        _exit(0);
    }
    report("x32");
    return 0;
}
