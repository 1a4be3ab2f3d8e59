// A minimal io_uring for sending datagrams: one ring per process, SQEs filled in submission order,
// submitted and waited for in one io_uring_enter, completions read back. Every send carries
// MSG_DONTWAIT, so the kernel finishes each one inside that call (sent, or -EAGAIN at once):
// nothing is still in flight when CLinux_uring_submit returns, and the caller may reuse its buffers.
#ifndef _GNU_SOURCE
#error "CLinux needs _GNU_SOURCE (set in Package.swift)"
#endif
#include "CLinux.h"
#include <errno.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_enter(int fd, unsigned submit, unsigned complete, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, submit, complete, flags, NULL, 0);
}

int CLinux_uring_open(struct CLinux_uring *ring, unsigned entries) {
    memset(ring, 0, sizeof *ring);
    ring->fd = -1;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0 && errno == EINVAL) {
        // A kernel older than 6.0 knows only some of those flags; none of them is needed.
        memset(&params, 0, sizeof params);
        fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    }
    if (fd < 0) return -errno;
    if (!(params.features & IORING_FEAT_SINGLE_MMAP) || !(params.features & IORING_FEAT_NODROP)) {
        close(fd);
        return -ENOSYS;
    }
    size_t sqLength = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cqLength = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    size_t ringLength = sqLength > cqLength ? sqLength : cqLength;
    void *rings = mmap(NULL, ringLength, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (rings == MAP_FAILED) {
        int error = errno;
        close(fd);
        return -error;
    }
    size_t sqesLength = params.sq_entries * sizeof(struct io_uring_sqe);
    void *sqes = mmap(NULL, sqesLength, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) {
        int error = errno;
        munmap(rings, ringLength);
        close(fd);
        return -error;
    }
    char *base = rings;
    ring->fd = fd;
    ring->entries = params.sq_entries;
    ring->rings = rings;
    ring->ringsLength = ringLength;
    ring->sqes = sqes;
    ring->sqesLength = sqesLength;
    ring->sqTail = (unsigned *)(base + params.sq_off.tail);
    ring->sqMask = *(unsigned *)(base + params.sq_off.ring_mask);
    ring->sqArray = (unsigned *)(base + params.sq_off.array);
    ring->cqHead = (unsigned *)(base + params.cq_off.head);
    ring->cqTail = (unsigned *)(base + params.cq_off.tail);
    ring->cqMask = *(unsigned *)(base + params.cq_off.ring_mask);
    ring->cqes = base + params.cq_off.cqes;
    return 0;
}

void CLinux_uring_close(struct CLinux_uring *ring) {
    if (ring->fd < 0) return;
    munmap(ring->sqes, ring->sqesLength);
    munmap(ring->rings, ring->ringsLength);
    close(ring->fd);
    ring->fd = -1;
}

int CLinux_uring_queue_send(struct CLinux_uring *ring, int fd, const struct msghdr *message, unsigned long long token) {
    if (ring->queued == ring->entries) return -1;
    // Only this thread moves the tail, so it can be read plainly; the kernel reads it after the store below.
    unsigned tail = *ring->sqTail + ring->queued;
    unsigned index = tail & ring->sqMask;
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)ring->sqes + index;
    memset(sqe, 0, sizeof *sqe);
    sqe->fd = fd;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    sqe->user_data = token;
    if (message->msg_iovlen == 1 && message->msg_name == NULL) {
        // One piece: a plain send, which spares the kernel copying a msghdr and an iovec array.
        sqe->opcode = IORING_OP_SEND;
        sqe->addr = (unsigned long long)(uintptr_t)message->msg_iov[0].iov_base;
        sqe->len = (unsigned)message->msg_iov[0].iov_len;
    } else {
        sqe->opcode = IORING_OP_SENDMSG;
        sqe->addr = (unsigned long long)(uintptr_t)message;
        sqe->len = 1;
    }
    ring->sqArray[index] = index;
    ring->queued += 1;
    return 0;
}

int CLinux_uring_submit(struct CLinux_uring *ring) {
    unsigned queued = ring->queued;
    if (queued == 0) return 0;
    atomic_store_explicit((_Atomic unsigned *)ring->sqTail, *ring->sqTail + queued, memory_order_release);
    ring->queued = 0;
    // The completion queue is empty on entry (the caller reaps everything), so waiting for `queued`
    // completions waits for exactly these sends; normally the first call submits and finds them all.
    unsigned submitted = 0;
    for (;;) {
        unsigned ready = atomic_load_explicit((_Atomic unsigned *)ring->cqTail, memory_order_acquire) - *ring->cqHead;
        if (submitted == queued && ready >= queued) break;
        int result = ring_enter(ring->fd, queued - submitted, queued, IORING_ENTER_GETEVENTS);
        if (result < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EBUSY) continue;
            return -errno;
        }
        submitted += (unsigned)result;
    }
    return (int)queued;
}

int CLinux_uring_reap(struct CLinux_uring *ring, unsigned long long *token, int *result) {
    unsigned head = *ring->cqHead;
    unsigned tail = atomic_load_explicit((_Atomic unsigned *)ring->cqTail, memory_order_acquire);
    if (head == tail) return 0;
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)ring->cqes + (head & ring->cqMask);
    *token = cqe->user_data;
    *result = cqe->res;
    atomic_store_explicit((_Atomic unsigned *)ring->cqHead, head + 1, memory_order_release);
    return 1;
}
