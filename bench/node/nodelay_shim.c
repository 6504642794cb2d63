/* Diagnostic only (bench/node/run.sh, latency section): an LD_PRELOAD shim
 * that sets TCP_NODELAY on every TCP socket a process connects or accepts,
 * to show what disabling Nagle's algorithm on bagpipe-bgp's BGP sessions
 * changes without touching src/. Built by node_bench.py with the system cc:
 *   cc -shared -fPIC -O2 -o nodelay.so nodelay_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return;
    if (getsockname(fd, (struct sockaddr*)&ss, &sl) != 0) return;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    static int (*real)(int, const struct sockaddr*, socklen_t);
    if (!real) real = (int (*)(int, const struct sockaddr*, socklen_t))dlsym(RTLD_NEXT, "connect");
    nodelay(fd);
    return real(fd, addr, len);
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
    static int (*real)(int, struct sockaddr*, socklen_t*);
    if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
    int r = real(fd, addr, len);
    nodelay(r);
    return r;
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
    static int (*real)(int, struct sockaddr*, socklen_t*, int);
    if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
    int r = real(fd, addr, len, flags);
    nodelay(r);
    return r;
}
