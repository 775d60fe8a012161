// A TCP socket bound with SO_REUSEPORT, for protocol threads that each listen
// on the same port (the kernel spreads new connections over the listeners).
// Node 20's net module cannot set SO_REUSEPORT (its `reusePort` option came in
// 22.12); a thread passes the fd to `server.listen({ fd })`, which listens on it.
#pragma once

#include <string>

#include "core/status.h"

namespace infera { namespace core {

/// An fd and the port it is bound to (the chosen one when asked for port 0).
struct BoundSocket {
  int fd = -1;
  int port = 0;
};

/// Creates a non-blocking, close-on-exec TCP socket for `host` (an IPv4 or
/// IPv6 literal; "" or "0.0.0.0" = any IPv4, "::" = any IPv6 and IPv4), sets
/// SO_REUSEADDR and SO_REUSEPORT, and binds it to `port` (0 = the kernel
/// picks). It is not listening yet. The caller owns the fd.
/// @return INVALID_ARG for a host that is not an IP literal or a port out of
///   range; UNAVAILABLE with errno's text when socket/setsockopt/bind fail
///   (EADDRINUSE: the port is held by a socket without SO_REUSEPORT);
///   UNSUPPORTED where SO_REUSEPORT does not exist.
Status BindReusePortSocket(const std::string& host, int port, BoundSocket* out);

}}  // namespace infera::core
