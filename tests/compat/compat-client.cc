// SPDX-License-Identifier: MIT
//
// compat-client.cc — a C++ program written against the original
// mini-sandbox project's header, as its C++ users do (std::string paths
// passed with .c_str(), iostream, -DLIBMINISANDBOX [-DMINITAP]), compiled
// unchanged with g++ and clang++ by tests/compat/meson.build and run by
// tests/integration/test_compat.py.  Scenarios: see compat-client.c.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "linux-sandbox-api.h"

namespace {

void check(const std::string& what, int res) {
  if (res != 0) {
    std::cout << "failed " << what << " " << res << " "
              << mini_sandbox_get_last_error_code() << " "
              << mini_sandbox_get_last_error_msg() << std::endl;
    std::exit(3);
  }
}

bool try_write_home() {
  const char* home = std::getenv("HOME");
  if (home == nullptr) return false;
  std::ofstream out(std::string(home) + "/libminisandbox.test");
  out << "libmini-sandbox" << std::endl;
  return out.good();
}

bool try_connect(const std::string& host, int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<unsigned short>(port));
  sa.sin_addr.s_addr = inet_addr(host.c_str());
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(s);
  return ok;
}

int scenario_errors() {
  std::string relative = "a/b/c";
  int res = mini_sandbox_mount_write(relative.c_str());
  std::cout << "relative " << res << " " << mini_sandbox_get_last_error_code() << std::endl;
  res = mini_sandbox_setup_default();
  std::cout << "default " << res << " " << mini_sandbox_get_last_error_code() << std::endl;
  res = mini_sandbox_setup_hermetic(std::string("/tmp").c_str());
  std::cout << "hermetic-after-default " << res << " "
            << mini_sandbox_get_last_error_code() << std::endl;
#ifdef MINITAP
  std::cout << "subnet-bare " << mini_sandbox_allow_ipv4_subnet("198.51.100.7") << std::endl;
#else
  std::cout << "share " << mini_sandbox_share_network() << std::endl;
#endif
  return 0;
}

int scenario_default(const std::string& host, int port) {
  check("setup_default", mini_sandbox_setup_default());
  check("start", mini_sandbox_start());
  std::cout << "inside" << std::endl;
  std::cout << "home-write " << (try_write_home() ? "ok" : "failed") << std::endl;
  std::cout << "connect " << (try_connect(host, port) ? "ok" : "refused") << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "errors" && argc == 2) return scenario_errors();
  if (mode == "default" && argc == 4) return scenario_default(argv[2], std::atoi(argv[3]));
  std::cerr << "usage: " << argv[0] << " errors|default HOST PORT" << std::endl;
  return 2;
}
