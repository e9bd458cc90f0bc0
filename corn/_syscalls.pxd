# The system calls corn's compiled modules make directly: the socket calls of the I/O engines
# (corn/_stream.pyx, corn/_gevent_io.pyx), and the monotonic clock.
#
# Plane: data.

from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec
from posix.uio cimport iovec


cdef extern from "<errno.h>":
    int EWOULDBLOCK
    int EEXIST

cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t
    struct msghdr:
        void* msg_name
        socklen_t msg_namelen
        iovec* msg_iov
        size_t msg_iovlen
        void* msg_control
        size_t msg_controllen
        int msg_flags
    ssize_t c_recv "recv" (int fd, void* buf, size_t n, int flags)
    ssize_t c_send "send" (int fd, const void* buf, size_t n, int flags)
    ssize_t c_sendmsg "sendmsg" (int fd, const msghdr* msg, int flags)
    int MSG_NOSIGNAL, MSG_DONTWAIT


cdef inline ssize_t send_two(int fd, const char* first, size_t first_size, const char* second,
                             size_t second_size, int flags) noexcept nogil:
    """One sendmsg(2) of two buffers (the second may be empty): bytes sent, or -1 and errno."""
    cdef iovec iov[2]
    cdef msghdr msg
    iov[0].iov_base = <void*>first
    iov[0].iov_len = first_size
    iov[1].iov_base = <void*>second
    iov[1].iov_len = second_size
    msg.msg_name = NULL
    msg.msg_namelen = 0
    msg.msg_iov = iov
    msg.msg_iovlen = 2 if second_size else 1
    msg.msg_control = NULL
    msg.msg_controllen = 0
    msg.msg_flags = 0
    return c_sendmsg(fd, &msg, flags)


cdef inline double monotonic_now() noexcept nogil:
    """time.monotonic() without the call."""
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9
