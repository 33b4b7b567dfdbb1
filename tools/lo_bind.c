/* LD_PRELOAD shim: turn bind() to every interface into bind() to loopback.
 *
 * Orthanc 1.10 passes only a port to its HTTP server, which then listens on 0.0.0.0.
 * Preloading this keeps the test peer reachable from this machine only.
 * Build: cc -shared -fPIC -O2 -o lo-bind.so lo_bind.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (!real_bind)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");

    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in a;
        memcpy(&a, addr, sizeof a);
        if (a.sin_addr.s_addr == htonl(INADDR_ANY)) {
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a6;
        memcpy(&a6, addr, sizeof a6);
        if (IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr)) {
            a6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&a6, sizeof a6);
        }
    }
    return real_bind(fd, addr, len);
}
