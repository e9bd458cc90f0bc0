# The socket system calls the I/O engines make directly (corn/_stream.pyx, corn/_gevent_io.pyx).

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
