#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "core/reuse_port_socket.h"

using infera::core::BindReusePortSocket;
using infera::core::BoundSocket;
using infera::core::StatusCode;

TEST(two_sockets_share_a_port_and_both_listen)
{
  BoundSocket a, b;
  CHECK(BindReusePortSocket("127.0.0.1", 0, &a).IsOk());
  CHECK(a.port > 0);
  CHECK(BindReusePortSocket("127.0.0.1", a.port, &b).IsOk());
  CHECK(b.port == a.port);
  CHECK(listen(a.fd, 16) == 0);
  CHECK(listen(b.fd, 16) == 0);
  close(a.fd);
  close(b.fd);
}

TEST(a_port_held_without_reuseport_is_in_use)
{
  const int plain = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(plain, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  CHECK(listen(plain, 1) == 0);
  socklen_t len = sizeof(addr);
  CHECK(getsockname(plain, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  BoundSocket s;
  const auto status = BindReusePortSocket("127.0.0.1", ntohs(addr.sin_port), &s);
  CHECK(status.Code() == StatusCode::UNAVAILABLE);
  CHECK(status.Message().find("bind") == 0);
  close(plain);
}

TEST(rejects_a_host_that_is_not_an_ip_literal_and_bad_ports)
{
  BoundSocket s;
  CHECK(BindReusePortSocket("localhost", 0, &s).Code() == StatusCode::INVALID_ARG);
  CHECK(BindReusePortSocket("127.0.0.1", 70000, &s).Code() == StatusCode::INVALID_ARG);
}

int main() { return infera::test::RunTests(); }
