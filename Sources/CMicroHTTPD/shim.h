// libmicrohttpd for Swift. MHD_start_daemon is variadic, which Swift cannot call:
// this wrapper takes the options we use as plain arguments and passes them as one MHD_OPTION_ARRAY.
#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

typedef void (*CMicroHTTPD_Logger)(void *cls, const char *message);

// The shim formats MHD's printf-style log lines so Swift sees one finished string.
struct CMicroHTTPD_LoggerBox { CMicroHTTPD_Logger log; void *cls; };

static inline void CMicroHTTPD_logTrampoline(void *cls, const char *fmt, va_list ap) {
    struct CMicroHTTPD_LoggerBox *box = (struct CMicroHTTPD_LoggerBox *)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    box->log(box->cls, line);
}

static inline struct MHD_Daemon *CMicroHTTPD_start(
    unsigned int flags, int listenFD, unsigned int threads, unsigned int connectionLimit,
    unsigned int connectionTimeoutSeconds, size_t connectionMemoryLimit,
    MHD_AccessHandlerCallback handler, void *handlerContext,
    MHD_RequestCompletedCallback completed, void *completedContext,
    struct CMicroHTTPD_LoggerBox *logger)
{
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_LISTEN_SOCKET, listenFD, NULL },
        { MHD_OPTION_THREAD_POOL_SIZE, threads, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, connectionLimit, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, connectionTimeoutSeconds, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)connectionMemoryLimit, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completedContext },
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)CMicroHTTPD_logTrampoline, logger },
        { MHD_OPTION_END, 0, NULL },
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handlerContext,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

// MHD_get_connection_info is variadic too. The connection's socket lets a long, quiet stream notice
// that its client has gone: MHD reads nothing from a connection it has suspended.
static inline int CMicroHTTPD_connectionFD(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

#endif
