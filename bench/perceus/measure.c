/* measure REPORT STACK_BYTES PROGRAM [ARG...]: runs PROGRAM with the stack
 * limit raised to STACK_BYTES (cfold and deriv recurse a million frames deep,
 * as in Koka), and writes "EXIT_STATUS WALL_SECONDS MAX_RSS_KIB" to REPORT.
 *
 * bench/perceus/run measures through this small program rather than from
 * Python: a child's ru_maxrss starts at its parent's resident size at the
 * fork (about 14 MiB for the Python runner, under 2 MiB for this one).
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fputs("usage: measure REPORT STACK_BYTES PROGRAM [ARG...]\n", stderr);
        return 2;
    }
    struct rlimit stack;
    if (getrlimit(RLIMIT_STACK, &stack) == 0) {
        rlim_t want = (rlim_t)strtoull(argv[2], NULL, 10);
        stack.rlim_cur = stack.rlim_max == RLIM_INFINITY || want < stack.rlim_max ? want
                                                                                  : stack.rlim_max;
        setrlimit(RLIMIT_STACK, &stack);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execv(argv[3], argv + 3);
        perror(argv[3]);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *report = fopen(argv[1], "w");
    if (report == NULL) {
        perror(argv[1]);
        return 2;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(report, "%d %.6f %ld\n", code, wall, usage.ru_maxrss);
    return fclose(report) == 0 ? 0 : 2;
}
