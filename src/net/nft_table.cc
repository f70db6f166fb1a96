#include "net/nft_table.h"

#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <string_view>
#include <utility>

namespace lintel::net {
namespace {

// nft identifiers: a letter, then letters, digits, '_', '-', '.', '/'.
bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 255 || std::isalpha(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-' && c != '.' &&
        c != '/') {
      return false;
    }
  }
  return true;
}

// nft's message without trailing newlines; "no error text" if it gave none.
std::string ErrorText(const char* buffer) {
  std::string text = buffer != nullptr ? buffer : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "nft failed without error text" : text;
}

}  // namespace

Result<std::unique_ptr<NftTable>> NftTable::Open(std::string table) {
  if (!IsIdentifier(table)) return Invalid("nft table name \"" + table + "\" is not an identifier");
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr)
    return Internal("nft table " + table + ": cannot create a libnftables context");
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return Internal("nft table " + table + ": cannot buffer libnftables output");
  }
  return std::unique_ptr<NftTable>(new NftTable(std::move(table), ctx));
}

NftTable::NftTable(std::string table, nft_ctx* ctx) : table_(std::move(table)), ctx_(ctx) {}

NftTable::~NftTable() { nft_ctx_free(ctx_); }

Status NftTable::Run(const std::string& commands, const char* what) {
  int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
  // Reading a buffer also rewinds it for the next command.
  std::string error = ErrorText(nft_ctx_get_error_buffer(ctx_));
  (void)nft_ctx_get_output_buffer(ctx_);
  if (rc == 0) return Status::Ok();
  std::string located = LocatedError(commands);
  return Internal(std::string(what) + " nft table ip " + table_ + ": " +
                  (located.empty() ? error : located));
}

// nft 1.0.6 quotes the first line of a buffer in its errors, whichever line
// failed; read from a file, the same script gets "file:line:col" and the right
// line. So a failed script is checked again, without committing, from a memfd.
std::string NftTable::LocatedError(const std::string& commands) {
  int fd = ::memfd_create("lintel-nft", MFD_CLOEXEC);
  if (fd < 0) return "";
  bool written =
      ::write(fd, commands.data(), commands.size()) == static_cast<ssize_t>(commands.size());
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::string error;
  if (written) {
    bool dry_run = nft_ctx_get_dry_run(ctx_);
    nft_ctx_set_dry_run(ctx_, true);
    int rc = nft_run_cmd_from_filename(ctx_, path.c_str());
    nft_ctx_set_dry_run(ctx_, dry_run);
    error = ErrorText(nft_ctx_get_error_buffer(ctx_));
    (void)nft_ctx_get_output_buffer(ctx_);
    if (rc == 0) error.clear();  // passes now: keep the first answer
  }
  ::close(fd);
  // "script:6:68-70: Error: ..." reads better than the memfd's path.
  for (size_t at = error.find(path); at != std::string::npos; at = error.find(path, at)) {
    error.replace(at, path.size(), "script");
  }
  return error;
}

Status NftTable::Apply(const std::string& script) {
  if (applied_.has_value() && *applied_ == script) return Status::Ok();
  if (script.find("table ip " + table_ + " ") == std::string::npos) {
    return Invalid("apply nft table ip " + table_ + ": the script does not declare this table");
  }
  applied_.reset();
  LINTEL_RETURN_IF_ERROR(Run(script, "apply"));
  applied_ = script;
  return Status::Ok();
}

Status NftTable::Check(const std::string& script) {
  nft_ctx_set_dry_run(ctx_, true);
  Status status = Run(script, "check");
  nft_ctx_set_dry_run(ctx_, false);
  return status;
}

Status NftTable::Delete() {
  applied_.reset();
  // Creating first makes the delete succeed when the table is absent; both run
  // in one transaction, so a missing table never appears.
  return Run("table ip " + table_ + " {}\ndelete table ip " + table_ + "\n", "delete");
}

}  // namespace lintel::net
