#include "agent/estate_network.h"

#include <gtest/gtest.h>

namespace lintel::agent {
namespace {

TEST(EstateNetworkTest, UpstreamsAreTheHostsIpv4Nameservers) {
  EXPECT_EQ(ResolvConfNameservers("# generated\nsearch example.com\nnameserver 10.0.0.2\n"
                                  "nameserver ::1\nnameserver 127.0.0.53\noptions edns0\n"
                                  "nameserver not-an-ip\n"),
            (std::vector<std::string>{"10.0.0.2", "127.0.0.53"}));
  EXPECT_TRUE(ResolvConfNameservers("").empty());
}

}  // namespace
}  // namespace lintel::agent
