#include "agent/hollow.h"

#include <cstdio>
#include <memory>

namespace lintel::agent {

std::string HollowHostName(const std::string& prefix, int index) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%05d", index);
  return prefix + digits;
}

void AddHollowHosts(Agent& agent, const HollowOptions& options) {
  drivers::fake::FakeOptions fake = options.fake;
  if (!fake.timers) fake.timers = std::make_shared<drivers::fake::Timers>(fake.clock);
  for (int i = 0; i < options.hosts; ++i) {
    HostConfig c = options.host;
    c.name = HollowHostName(options.name_prefix, i);
    c.addresses = Json::array({{{"type", "Hostname"}, {"address", c.name}}});
    agent.AddHost(std::move(c), std::make_unique<drivers::fake::FakeDriver>(fake),
                  std::make_unique<MemoryHandleStore>());
  }
}

}  // namespace lintel::agent
