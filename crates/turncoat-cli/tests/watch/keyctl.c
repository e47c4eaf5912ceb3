/* turncoat watch probe: a syscall the sandbox refuses outright (keyctl: the kernel keyring
 * holds other sessions' credentials). Prints one line, always exits 0. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    /* KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3). */
    long r = syscall(SYS_keyctl, 0, -3, 0);
    if (r < 0) printf("keyctl result=fail errno=%d\n", errno);
    else printf("keyctl result=ok\n");
    return 0;
}
