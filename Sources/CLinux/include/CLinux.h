// Linux calls that Glibc's Swift overlay does not show: batched datagram I/O, prctl,
// pidfds and closefrom for posix_spawn. Every symbol carries the CLinux_ prefix.
#ifndef CLINUX_H
#define CLINUX_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <spawn.h>
#include <signal.h>

struct CLinux_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

int CLinux_sendmmsg(int fd, struct CLinux_mmsghdr *msgs, unsigned int count, int flags);
int CLinux_recvmmsg(int fd, struct CLinux_mmsghdr *msgs, unsigned int count, int flags);
int CLinux_prctl_set_pdeathsig(int signal);
int CLinux_prctl_set_name(const char *name);
/// This process's nice value: set (0 or -1 with errno) and read.
int CLinux_set_nice(int nice);
int CLinux_get_nice(void);
int CLinux_pidfd_open(pid_t pid);
int CLinux_pidfd_send_signal(int pidfd, int signal);
int CLinux_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);
int CLinux_signalfd(int fd, const sigset_t *mask, int flags);

// epoll with an unpacked event struct (the kernel's is packed on x86-64, awkward for Swift).
struct CLinux_epoll_event {
    unsigned int events;
    unsigned long long token;
};

int CLinux_epoll_create(void);
int CLinux_epoll_ctl(int epfd, int op, int fd, unsigned int events, unsigned long long token);
int CLinux_epoll_wait(int epfd, struct CLinux_epoll_event *events, int capacity, int timeout);
/// The pid, uid and gid of the peer of a connected unix socket (SO_PEERCRED); 0 on success.
int CLinux_accept4(int fd, int flags);
int CLinux_peer_credentials(int fd, int *pid, unsigned int *uid, unsigned int *gid);
/// Opens (creating) the tap interface `name` in the caller's network namespace, non-blocking, without
/// packet information headers: one Ethernet frame per read and write. Returns the fd, or -1 (errno set).
int CLinux_tap_open(const char *name);
// A raw packet socket bound to one interface (every frame it receives, none it sends), nonblocking.
int CLinux_packet_open(const char *name);
/// The MTU of interface `name` in the caller's network namespace, or -1 (errno set).
int CLinux_interface_mtu(const char *name);
/// Reads one signal from a signalfd: its number, or -1.
int CLinux_signalfd_read(int fd);

// An io_uring used only to send datagrams (uring.c): queue sends, submit them all in one call that
// returns when every one has finished, then reap one result per send.
struct CLinux_uring {
    int fd;
    unsigned entries;
    unsigned queued;
    unsigned sqMask, cqMask;
    unsigned *sqTail, *sqArray, *cqHead, *cqTail;
    void *sqes, *cqes, *rings;
    size_t ringsLength, sqesLength;
};

/// 0, or -errno when this kernel (or its seccomp policy) offers no io_uring.
int CLinux_uring_open(struct CLinux_uring *ring, unsigned entries);
void CLinux_uring_close(struct CLinux_uring *ring);
/// Queues one non-blocking send of `message` on the connected socket `fd`; -1 when the ring is full.
int CLinux_uring_queue_send(struct CLinux_uring *ring, int fd, const struct msghdr *message, unsigned long long token);
/// Submits what is queued and waits until each has completed: their count, or -errno.
int CLinux_uring_submit(struct CLinux_uring *ring);
/// One completion: 1 with its token and result (bytes sent or -errno), 0 when none is left.
int CLinux_uring_reap(struct CLinux_uring *ring, unsigned long long *token, int *result);

extern const int CLinux_EPOLL_CTL_ADD, CLinux_EPOLL_CTL_MOD, CLinux_EPOLL_CTL_DEL;
extern const unsigned int CLinux_EPOLLIN, CLinux_EPOLLOUT, CLinux_EPOLLHUP, CLinux_EPOLLRDHUP, CLinux_EPOLLERR;
extern const int CLinux_MSG_WAITFORONE;
extern const int CLinux_POSIX_SPAWN_SETSID;
extern const int CLinux_MSG_TRUNC;
extern const int CLinux_SFD_NONBLOCK;
extern const int CLinux_SFD_CLOEXEC;

#endif
