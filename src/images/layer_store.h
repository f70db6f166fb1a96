// LayerStore: unpacked layers under ROOT/layers/sha256/<diff id>/, shared by
// every image that has the layer.
//
//   ROOT/layers/sha256/<diff id>/root/        the layer's tree (an overlay lowerdir)
//   ROOT/layers/sha256/<diff id>/layer.json   marker: written last, before the rename
//
// A layer is unpacked into ROOT/tmp/layer-<suffix>/root, synced (syncfs),
// its marker written, and the directory renamed into place. A layer directory
// therefore exists complete or not at all; one without a marker (never made
// by this code, but possible after tampering) is removed and redone. Two
// processes unpacking the same layer both finish; the second rename finds the
// first's result and discards its own copy.
//
// Thread-safe; locking against garbage collection is the ImageStore's job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "images/digest.h"
#include "images/layer_unpack.h"

namespace lintel::images {

struct LayerInfo {
  Digest diff_id;
  int64_t bytes = 0;  // regular file content
  int64_t entries = 0;
};

class LayerStore {
 public:
  LayerStore(std::string root, UnpackOptions unpack, bool sync)
      : root_(std::move(root)), unpack_(std::move(unpack)), sync_(sync) {}

  std::string Dir(const Digest& diff_id) const;
  // The lowerdir: Dir + "/root".
  std::string TreeDir(const Digest& diff_id) const;
  // True when the layer is complete (its marker exists).
  bool Has(const Digest& diff_id) const;
  // The marker's content. NotFound when the layer is absent.
  Result<LayerInfo> Info(const Digest& diff_id) const;
  // Unpacks `blob_path` as layer `diff_id` unless already there. The diff id
  // of the content is checked; on any error nothing is left behind.
  Result<LayerInfo> Ensure(const Digest& diff_id, const std::string& blob_path) const;
  // OK if absent.
  Status Remove(const Digest& diff_id) const;
  // Every directory under layers/sha256, complete or not.
  Result<std::vector<Digest>> List() const;

 private:
  std::string root_;
  UnpackOptions unpack_;
  bool sync_;
};

}  // namespace lintel::images
