// Starting libmicrohttpd from one struct of options (MHD_start_daemon is variadic, so Swift
// cannot call it), plus fixed-argument wrappers for the variadic info getters.
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include "shim_mhd.h"

// ---------------------------------------------------------------------------------------------
// Logging and unescaping callbacks

// MHD's messages usually end in a newline and sometimes carry several lines; voxgan logs one
// line per event, so newlines inside the message become spaces.
static void voxgan_mhd_log(void *context, const char *format, va_list arguments) {
    (void) context;
    char message[512];
    vsnprintf(message, sizeof message, format, arguments);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r')) {
        message[--length] = '\0';
    }
    for (size_t i = 0; i < length; i++) {
        if (message[i] == '\n' || message[i] == '\r') message[i] = ' ';
    }
    fprintf(stderr, "voxgan-serve: libmicrohttpd: %s\n", message);
}

static int voxgan_hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes %HH in place like MHD's default, except %00: a NUL inside a path or value would
// silently cut it short in every C string that follows, so it is left encoded and the route
// that receives it rejects it as an ordinary bad character.
static size_t voxgan_mhd_unescape(void *context, struct MHD_Connection *connection,
                                  char *text) {
    (void) context;
    (void) connection;
    char *read = text;
    char *write = text;
    while (*read != '\0') {
        if (read[0] == '%' && read[1] != '\0' && read[2] != '\0') {
            int high = voxgan_hex_value(read[1]);
            int low = voxgan_hex_value(read[2]);
            if (high >= 0 && low >= 0 && (high | low) != 0) {
                *write++ = (char) (high * 16 + low);
                read += 3;
                continue;
            }
        }
        *write++ = *read++;
    }
    *write = '\0';
    return (size_t) (write - text);
}

// ---------------------------------------------------------------------------------------------
// Starting the daemon

struct MHD_Daemon *voxgan_mhd_start(const struct voxgan_mhd_options *options,
                                    char *error, size_t error_size) {
    // 1. Resolve the numeric address; MHD binds to exactly this address, never to all.
    struct sockaddr_in address4;
    struct sockaddr_in6 address6;
    const struct sockaddr *address;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                       | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    memset(&address4, 0, sizeof address4);
    memset(&address6, 0, sizeof address6);
    if (inet_pton(AF_INET, options->host, &address4.sin_addr) == 1) {
        address4.sin_family = AF_INET;
        address4.sin_port = htons(options->port);
        address = (const struct sockaddr *) &address4;
    } else if (inet_pton(AF_INET6, options->host, &address6.sin6_addr) == 1) {
        address6.sin6_family = AF_INET6;
        address6.sin6_port = htons(options->port);
        address = (const struct sockaddr *) &address6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(error, error_size, "host '%s' is not a numeric IPv4 or IPv6 address",
                 options->host);
        return NULL;
    }

    // 2. The listening socket, bound here rather than by MHD, so that a taken port is one
    //    line naming it (MHD would log its own line and fail without saying which call).
    socklen_t address_size = address == (const struct sockaddr *) &address4
                           ? sizeof address4 : sizeof address6;
    int listener = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (listener < 0
        || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0
        || bind(listener, address, address_size) != 0
        || listen(listener, (int) options->listen_backlog) != 0) {
        int reason = errno;
        if (reason == EADDRINUSE) {
            snprintf(error, error_size, "port %u on %s is already in use",
                     (unsigned) options->port, options->host);
        } else {
            snprintf(error, error_size, "cannot listen on %s port %u: %s", options->host,
                     (unsigned) options->port, strerror(reason));
        }
        if (listener >= 0) close(listener);
        return NULL;
    }

    // 3. Every option explicitly; the logger first so that option errors are reported too.
    struct MHD_OptionItem items[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) voxgan_mhd_log, NULL},
        {MHD_OPTION_LISTEN_SOCKET, (intptr_t) listener, NULL},
        // A pool of 0 or 1 makes MHD warn; one thread is its polling thread without a pool,
        // so then the slot repeats the connection limit instead of naming a pool size.
        options->thread_pool_size > 1
            ? (struct MHD_OptionItem) {MHD_OPTION_THREAD_POOL_SIZE,
                                       (intptr_t) options->thread_pool_size, NULL}
            : (struct MHD_OptionItem) {MHD_OPTION_CONNECTION_LIMIT,
                                       (intptr_t) options->connection_limit, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t) options->connection_limit, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t) options->per_ip_connection_limit,
         NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t) options->connection_timeout_seconds, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) options->connection_memory_limit, NULL},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) voxgan_mhd_unescape, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) options->target_received,
         options->target_received_context},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) options->completed,
         options->completed_context},
        {MHD_OPTION_END, 0, NULL},
    };

    // 4. Start; MHD reports the reason through the logger. MHD_stop_daemon closes the listener
    //    (MHD_quiesce_daemon hands it back instead).
    struct MHD_Daemon *daemon = MHD_start_daemon(flags, options->port, NULL, NULL,
                                                 options->handler, options->handler_context,
                                                 MHD_OPTION_ARRAY, items, MHD_OPTION_END);
    if (daemon == NULL) {
        snprintf(error, error_size, "libmicrohttpd could not start on %s port %u: %s",
                 options->host, (unsigned) options->port, strerror(errno));
        close(listener);
    }
    return daemon;
}

// ---------------------------------------------------------------------------------------------
// Information

uint16_t voxgan_mhd_bound_port(struct MHD_Daemon *daemon) {
    // Read from the listening socket itself: the port the kernel picked for port 0.
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage address;
    socklen_t size = sizeof address;
    if (info == NULL || getsockname(info->listen_fd, (struct sockaddr *) &address, &size) != 0) {
        return 0;
    }
    return address.ss_family == AF_INET6
        ? ntohs(((struct sockaddr_in6 *) &address)->sin6_port)
        : ntohs(((struct sockaddr_in *) &address)->sin_port);
}

int voxgan_mhd_client_address(struct MHD_Connection *connection, char *buffer, size_t size) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *text = NULL;
    if (info != NULL && info->client_addr != NULL) {
        const struct sockaddr *address = info->client_addr;
        if (address->sa_family == AF_INET) {
            text = inet_ntop(AF_INET, &((const struct sockaddr_in *) address)->sin_addr,
                             buffer, (socklen_t) size);
        } else if (address->sa_family == AF_INET6) {
            text = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) address)->sin6_addr,
                             buffer, (socklen_t) size);
        }
    }
    if (text == NULL) {
        snprintf(buffer, size, "-");
        return -1;
    }
    return 0;
}
