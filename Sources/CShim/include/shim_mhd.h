// libmicrohttpd calls Swift cannot make itself: MHD_start_daemon and the info getters are
// variadic, so voxgan-serve starts its daemon from one struct of explicit options, and reads
// the bound port and a client's address through the fixed-argument wrappers below.
#ifndef VOXGAN_SHIM_MHD_H
#define VOXGAN_SHIM_MHD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Every option voxgan-serve starts libmicrohttpd with; nothing is left to MHD's defaults
/// except what is named here.
struct voxgan_mhd_options {
    /// Numeric IPv4 or IPv6 address to listen on (no host names), such as "127.0.0.1".
    const char *host;
    /// TCP port; 0 lets the kernel pick one (read it back with voxgan_mhd_bound_port).
    uint16_t port;
    /// Worker threads, each with its own epoll set (MHD_OPTION_THREAD_POOL_SIZE).
    unsigned int thread_pool_size;
    /// Connections open at once over all workers (MHD_OPTION_CONNECTION_LIMIT).
    unsigned int connection_limit;
    /// Connections open at once from one client address (MHD_OPTION_PER_IP_CONNECTION_LIMIT).
    unsigned int per_ip_connection_limit;
    /// Seconds of inactivity after which a connection, idle keep-alive ones included, is
    /// closed (MHD_OPTION_CONNECTION_TIMEOUT).
    unsigned int connection_timeout_seconds;
    /// Bytes of each connection's memory pool: request line, headers and MHD's read and
    /// write buffers (MHD_OPTION_CONNECTION_MEMORY_LIMIT).
    size_t connection_memory_limit;
    /// Pending connections the kernel may hold before accept (MHD_OPTION_LISTEN_BACKLOG_SIZE).
    unsigned int listen_backlog;
    /// Called with each request's raw target (path and query, still percent-encoded) once its
    /// request line is in, before libmicrohttpd parses it; the pointer it returns is the
    /// request's `*con_cls` (MHD_OPTION_URI_LOG_CALLBACK).
    void *(*target_received)(void *context, const char *uri, struct MHD_Connection *connection);
    void *target_received_context;
    /// Called for each request; see MHD_AccessHandlerCallback.
    MHD_AccessHandlerCallback handler;
    void *handler_context;
    /// Called once when each request ends, successfully or not (MHD_OPTION_NOTIFY_COMPLETED).
    MHD_RequestCompletedCallback completed;
    void *completed_context;
};

/// Starts a daemon with MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
/// MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG and the options above. Escapes in URLs and
/// arguments are decoded except %00, which stays as the three characters "%00" so that no
/// path or value can be cut short by a NUL. MHD's own error messages go to standard error as
/// single lines prefixed "voxgan-serve: libmicrohttpd: ". Returns NULL on failure with a
/// message in `error` (at most `error_size` bytes, NUL-terminated).
struct MHD_Daemon *voxgan_mhd_start(const struct voxgan_mhd_options *options,
                                    char *error, size_t error_size);

/// The TCP port the daemon is bound to (what port 0 resolved to), or 0 if unknown.
uint16_t voxgan_mhd_bound_port(struct MHD_Daemon *daemon);

/// Writes the connection's client address as text ("127.0.0.1", "::1") into `buffer`;
/// returns 0 on success, -1 if it is unknown (then `buffer` holds "-").
int voxgan_mhd_client_address(struct MHD_Connection *connection, char *buffer, size_t size);

#endif
