/* lmkd pattern on the real kernel: SIGKILL a robust-mutex owner, then process_mrelease at once
 * (or after a delay). Counts waiter fates and process_mrelease results per CPU placement, and the
 * trials whose owner ran its exit on a CPU other than the killer's (/proc/PID/stat "processor" of
 * the zombie: where it last ran).
 * usage: lmkd_race TRIALS PLACEMENT(same|other|any|any-busy) HOLDER(main|thread) DELAY_US [NTHREADS]
 * any-busy: unpinned, with a busy loop pinned to CPU 1 for the whole run (the other CPU never idle),
 * in a session of its own, as another program's would be (see setsid() below).
 * Own processes only; no cgroups. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

static pthread_mutex_t *m;
static volatile int *word;
static int nthreads = 1;

static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}
static int rfd[2];
static void *holder(void *arg) {
    pthread_mutex_lock(m);
    char c = 'L'; write(rfd[1], &c, 1);
    for (;;) pause();
}
static void *idle(void *arg) { for (;;) pause(); }

static void count_maps_above(void) {
    struct robust_list_head *h; size_t len;
    syscall(SYS_get_robust_list, 0, &h, &len);
    FILE *f = fopen("/proc/self/maps", "r"); char line[512]; int above = 0, total = 0;
    unsigned long lo, hi, a = (unsigned long)h;
    while (fgets(line, sizeof line, f)) { sscanf(line, "%lx-%lx", &lo, &hi); total++; if (lo > a) above++; }
    fclose(f);
    fprintf(stderr, "main thread robust head %p: %d of %d mappings above it\n", (void *)h, above, total);
}

/* field 39 of /proc/PID/stat: the CPU the task last ran on */
static int last_cpu(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');  /* the comm may hold spaces */
    if (!p) return -1;
    int field = 2;
    for (p++; *p && field < 39; p++) if (*p == ' ') field++;
    return field == 39 ? atoi(p) : -1;
}

int main(int argc, char **argv) {
    int trials = atoi(argv[1]);
    const char *place = argv[2];
    int thread_holds = strcmp(argv[3], "thread") == 0;
    int delay_us = atoi(argv[4]);
    if (argc > 5) nthreads = atoi(argv[5]);
    int killer_cpu = 0, victim_cpu = !strcmp(place, "same") ? 0 : !strcmp(place, "other") ? 1 : -1;
    /* A session of its own is a task group of its own (autogroup): a busy task of the caller's session
     * on CPU 0 kept the woken victim from preempting the killer in 97 of 100 trials (3 of 100 alone).
     * A process-group leader (a shell's job) cannot: a child of it can. */
    if (setsid() < 0) {
        pid_t c = fork();
        if (c > 0) { int st; waitpid(c, &st, 0); return WIFEXITED(st) ? WEXITSTATUS(st) : 1; }
        setsid();
    }
    pin(killer_cpu);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pid_t spinner = 0;
    if (!strcmp(place, "any-busy")) {
        /* the first trial waits until the loop runs on CPU 1: forked beside the killer on CPU 0, it
         * reached CPU 1 only after the first trials had begun (3 of 30 victims moved to an idle CPU 1) */
        int ready[2];
        if (pipe(ready) < 0) { perror("pipe"); return 1; }
        if ((spinner = fork()) == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            setsid();
            pin(1);
            while (sched_getcpu() != 1) sched_yield();
            if (write(ready[1], "r", 1) != 1) _exit(1);
            for (;;) ;
        }
        char c;
        close(ready[1]);
        if (read(ready[0], &c, 1) != 1) { fprintf(stderr, "the busy loop did not start\n"); return 1; }
        close(ready[0]);
        printf("busy loop running on CPU 1\n");  /* the lab counts CPU 1's idle time from here */
        fflush(stdout);
    }
    int hung = 0, owner_died = 0, esrch = 0, ok = 0, other = 0, hung_esrch = 0, ran_other = 0;
    for (int i = 0; i < trials; i++) {
        void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        m = page; word = page;
        pthread_mutexattr_t at; pthread_mutexattr_init(&at);
        pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(m, &at);
        pipe(rfd);
        pid_t owner = fork();
        if (owner == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            pin(victim_cpu);
            if (victim_cpu < 0) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(0, &s); CPU_SET(1, &s); sched_setaffinity(0, sizeof s, &s); }
            if (i == 0) count_maps_above();
            pthread_t t;
            for (int j = 1; j < nthreads - thread_holds; j++) pthread_create(&t, NULL, idle, NULL);
            if (thread_holds) pthread_create(&t, NULL, holder, NULL); else holder(NULL);
            for (;;) pause();
        }
        char c; read(rfd[0], &c, 1);
        pid_t waiter = fork();
        if (waiter == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            cpu_set_t s; CPU_ZERO(&s); CPU_SET(0, &s); CPU_SET(1, &s); sched_setaffinity(0, sizeof s, &s);
            struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); ts.tv_nsec += 300000000;
            if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
            int rc = pthread_mutex_timedlock(m, &ts);
            _exit(rc);
        }
        while (!(*word & FUTEX_WAITERS)) usleep(200);
        usleep(2000);
        int pidfd = syscall(SYS_pidfd_open, owner, 0);
        kill(owner, SIGKILL);
        if (delay_us) usleep(delay_us);
        long r = syscall(448, pidfd, 0);
        int e = r ? errno : 0;
        siginfo_t si;
        waitid(P_PID, owner, &si, WEXITED | WNOWAIT);  /* a zombie: its stat says where it exited */
        int cpu = last_cpu(owner);
        ran_other += cpu >= 0 && cpu != killer_cpu;
        int st; waitpid(owner, &st, 0); waitpid(waiter, &st, 0);
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (rc == EOWNERDEAD) owner_died++; else if (rc == ETIMEDOUT) hung++;
        if (e == ESRCH) esrch++; else if (e == 0) ok++; else other++;
        if (rc == ETIMEDOUT && e == ESRCH) hung_esrch++;
        close(pidfd); close(rfd[0]); close(rfd[1]); munmap(page, 4096);
    }
    if (spinner > 0) { kill(spinner, SIGKILL); waitpid(spinner, NULL, 0); }
    printf("{\"placement\":\"%s\",\"holder\":\"%s\",\"delay_us\":%d,\"threads\":%d,\"trials\":%d,\"hung\":%d,\"eownerdead\":%d,\"mrelease_ok\":%d,\"esrch\":%d,\"other\":%d,\"hung_with_esrch\":%d,\"ran_other\":%d}\n",
           place, argv[3], delay_us, nthreads, trials, hung, owner_died, ok, esrch, other, hung_esrch, ran_other);
    return 0;
}
