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
int CLinux_pidfd_open(pid_t pid);
int CLinux_pidfd_send_signal(int pidfd, int signal);
int CLinux_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);
int CLinux_signalfd(int fd, const sigset_t *mask, int flags);

extern const int CLinux_MSG_WAITFORONE;
extern const int CLinux_MSG_TRUNC;
extern const int CLinux_SFD_NONBLOCK;
extern const int CLinux_SFD_CLOEXEC;

#endif
