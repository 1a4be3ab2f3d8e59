// Thin wrappers so Swift can reach these calls; the mirrored struct is checked against glibc's.
#ifndef _GNU_SOURCE
#error "CLinux needs _GNU_SOURCE (set in Package.swift)"
#endif
#include "CLinux.h"
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <unistd.h>

_Static_assert(sizeof(struct CLinux_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr mirror");
_Static_assert(offsetof(struct CLinux_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr mirror");

const int CLinux_MSG_WAITFORONE = MSG_WAITFORONE;
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

int CLinux_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int CLinux_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int CLinux_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int CLinux_signalfd(int fd, const sigset_t *mask, int flags) { return signalfd(fd, mask, flags); }
