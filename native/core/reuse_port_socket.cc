#include "core/reuse_port_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace infera { namespace core {

namespace {

Status
Errno(const char* what, int err)
{
  return Status(
      StatusCode::UNAVAILABLE, std::string(what) + ": " + std::strerror(err));
}

}  // namespace

Status
BindReusePortSocket(const std::string& host, int port, BoundSocket* out)
{
#ifndef SO_REUSEPORT
  (void)host;
  (void)port;
  (void)out;
  return Status(StatusCode::UNSUPPORTED, "SO_REUSEPORT is not available");
#else
  if (port < 0 || port > 65535) {
    return Status(
        StatusCode::INVALID_ARG, "port must be 0..65535, got " +
                                     std::to_string(port));
  }
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  const std::string h = host.empty() ? "0.0.0.0" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in6);
  } else {
    return Status(
        StatusCode::INVALID_ARG,
        "address '" + h + "' is not an IPv4 or IPv6 literal");
  }
  const int fd = socket(
      addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket", errno);
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    const int err = errno;
    close(fd);
    return Errno("setsockopt", err);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    const int err = errno;
    close(fd);
    return Errno("bind", err);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    const int err = errno;
    close(fd);
    return Errno("getsockname", err);
  }
  out->fd = fd;
  out->port = bound.ss_family == AF_INET6
                  ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                  : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::Success();
#endif
}

}}  // namespace infera::core
