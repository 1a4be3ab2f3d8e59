// Thin wrappers so Swift can reach these calls; the mirrored struct is checked against glibc's.
#ifndef _GNU_SOURCE
#error "CLinux needs _GNU_SOURCE (set in Package.swift)"
#endif
#include "CLinux.h"
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <errno.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>

_Static_assert(sizeof(struct CLinux_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr mirror");
_Static_assert(offsetof(struct CLinux_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr mirror");

const int CLinux_MSG_WAITFORONE = MSG_WAITFORONE;
const int CLinux_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;
const int CLinux_MSG_TRUNC = MSG_TRUNC;
const int CLinux_SFD_NONBLOCK = SFD_NONBLOCK;
const int CLinux_SFD_CLOEXEC = SFD_CLOEXEC;

int CLinux_sendmmsg(int fd, struct CLinux_mmsghdr *msgs, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)msgs, count, flags);
}

int CLinux_recvmmsg(int fd, struct CLinux_mmsghdr *msgs, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)msgs, count, flags, NULL);
}

int CLinux_prctl_set_pdeathsig(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }

int CLinux_prctl_set_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

int CLinux_set_nice(int nice) { return setpriority(PRIO_PROCESS, 0, nice); }

int CLinux_get_nice(void) {
    errno = 0;
    return getpriority(PRIO_PROCESS, 0);
}

int CLinux_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int CLinux_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int CLinux_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int CLinux_signalfd(int fd, const sigset_t *mask, int flags) { return signalfd(fd, mask, flags); }

const int CLinux_EPOLL_CTL_ADD = EPOLL_CTL_ADD, CLinux_EPOLL_CTL_MOD = EPOLL_CTL_MOD, CLinux_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
const unsigned int CLinux_EPOLLIN = EPOLLIN, CLinux_EPOLLOUT = EPOLLOUT, CLinux_EPOLLHUP = EPOLLHUP,
    CLinux_EPOLLRDHUP = EPOLLRDHUP, CLinux_EPOLLERR = EPOLLERR;

int CLinux_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int CLinux_epoll_ctl(int epfd, int op, int fd, unsigned int events, unsigned long long token) {
    struct epoll_event event = { .events = events, .data.u64 = token };
    return epoll_ctl(epfd, op, fd, &event);
}

int CLinux_epoll_wait(int epfd, struct CLinux_epoll_event *events, int capacity, int timeout) {
    struct epoll_event raw[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, raw, capacity, timeout);
    for (int i = 0; i < count; i++) {
        events[i].events = raw[i].events;
        events[i].token = raw[i].data.u64;
    }
    return count;
}

int CLinux_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t count = read(fd, &info, sizeof info);
    return count == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

int CLinux_peer_credentials(int fd, int *pid, unsigned int *uid, unsigned int *gid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}

int CLinux_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

int CLinux_tap_open(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int CLinux_packet_open(const char *name) {
    unsigned int index = if_nametoindex(name);
    if (index == 0) return -1;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) return -1;
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int)index;
    int one = 1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0
        || setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int CLinux_interface_mtu(const char *name) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = ioctl(fd, SIOCGIFMTU, &request);
    int error = errno;
    close(fd);
    if (result < 0) {
        errno = error;
        return -1;
    }
    return request.ifr_mtu;
}
