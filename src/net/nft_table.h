// NftTable: applies the nft script of one `table ip <name>` through libnftables
// (no `nft` process) and deletes that table.
//
// A script runs as one netlink transaction: it applies whole or not at all, and
// a failure leaves the previous ruleset in place. The error's message carries
// nft's own text ("Error: syntax error, unexpected ..." with the offending
// line). The last script applied is remembered so that re-applying the same
// text is a cheap no-op.
//
// Network namespace: libnftables talks netlink from the calling thread; call
// Open and the other methods from a thread in the namespace to change (the
// agent's thread in the host namespace; tests setns() a thread elsewhere).
//
// Thread-safety: thread-compatible. One thread at a time per object (the agent
// calls it from its network loop); distinct objects are independent.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

struct nft_ctx;

namespace lintel::net {

class NftTable {
 public:
  // A libnftables context for `table ip <table>`. Invalid when the name is not
  // an nft identifier; Internal when libnftables cannot allocate its context.
  static Result<std::unique_ptr<NftTable>> Open(std::string table);
  ~NftTable();
  NftTable(const NftTable&) = delete;
  NftTable& operator=(const NftTable&) = delete;

  const std::string& table() const { return table_; }

  // Runs `script` (RenderRules output, or any script that declares
  // `table ip <table>`) as one transaction. Skipped (OK) when it equals the
  // last script applied successfully. Invalid when the script does not name
  // this table; Internal with nft's error text when nft rejects it, in which
  // case nothing changed. Blocks for the netlink round trips (milliseconds).
  Status Apply(const std::string& script);

  // Checks `script` with the kernel without committing anything (`nft -c`).
  Status Check(const std::string& script);

  // Deletes the table; OK when it does not exist. Forgets the last script.
  Status Delete();

  // Makes the next Apply run even if its script equals the last one (e.g.
  // after something else may have changed the table).
  void ForgetApplied() { applied_.reset(); }

 private:
  NftTable(std::string table, nft_ctx* ctx);
  // Runs `commands` in one transaction; `what` prefixes errors.
  Status Run(const std::string& commands, const char* what);
  // nft's error for `commands` with its line and column; "" if none.
  std::string LocatedError(const std::string& commands);

  std::string table_;
  nft_ctx* ctx_;
  std::optional<std::string> applied_;
};

}  // namespace lintel::net
