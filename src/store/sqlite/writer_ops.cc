// Writer: applying one operation inside the batch's transaction.
#include <string>
#include <utility>

#include "store/sqlite/reads.h"
#include "store/sqlite/writer.h"

namespace lintel::store::sqlite {
namespace {

constexpr const char* kKvLookup = "SELECT mod_rev, deleted FROM kv WHERE key = ?1";
constexpr const char* kInsertHistory =
    "INSERT INTO history(rev, key, deleted, create_rev, lease, prev_rev, value)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kUpsertKv =
    "INSERT INTO kv(key, mod_rev, lease, deleted) VALUES (?1, ?2, ?3, 0) ON CONFLICT(key)"
    " DO UPDATE SET mod_rev = excluded.mod_rev, lease = excluded.lease, deleted = 0";
constexpr const char* kTombstoneKv =
    "UPDATE kv SET mod_rev = ?2, lease = 0, deleted = 1 WHERE key = ?1";
constexpr const char* kKeysOfLease =
    "SELECT key FROM kv WHERE lease = ?1 AND lease <> 0 ORDER BY key";
constexpr const char* kInsertLease = "INSERT INTO lease(id, ttl_ms) VALUES (?1, ?2)";
constexpr const char* kDeleteLease = "DELETE FROM lease WHERE id = ?1";
constexpr const char* kSetMeta = "UPDATE meta SET value = ?2 WHERE name = ?1";

std::string Quote(std::string_view key) { return "\"" + std::string(key) + "\""; }

}  // namespace

Status Writer::Apply(WriteOp& op, Batch& b) {
  switch (op.kind) {
    case WriteOp::Kind::kCreate:
      return ApplyCreate(op, b);
    case WriteOp::Kind::kUpdate:
      return ApplyUpdate(op, b);
    case WriteOp::Kind::kDelete:
      return ApplyDelete(op, b);
    case WriteOp::Kind::kGrant:
      return ApplyGrant(op, b);
    case WriteOp::Kind::kRevoke:
      if (!leases_.Known(op.lease) || b.revoked.count(op.lease) != 0) {
        op.status = NotFound("lease " + std::to_string(op.lease) + " not found");
        return Status::Ok();
      }
      return RevokeLease(op.lease, b);
    case WriteOp::Kind::kCompact:
      return ApplyCompact(op);
  }
  return Internal("store writer: unknown op");
}

bool Writer::LeaseUsable(LeaseId id, const Batch& b) const {
  return id == 0 || (leases_.Live(id) && b.revoked.count(id) == 0);
}

Status Writer::ApplyCreate(WriteOp& op, Batch& b) {
  Revision tombstone = 0;  // the key's delete, if it had one: the new row's prev_rev
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kKvLookup, "create: lookup"));
    q.Bind(1, op.key);
    LINTEL_ASSIGN_OR_RETURN(bool exists, q.Step());
    if (exists && q.Int(1) == 0) {
      op.status = AlreadyExists("key " + Quote(op.key) + " already exists");
      return Status::Ok();
    }
    if (exists) {
      tombstone = q.Int(0);
    }
  }
  if (!LeaseUsable(op.lease, b)) {
    op.status = NotFound("lease " + std::to_string(op.lease) + " not found or expired");
    return Status::Ok();
  }
  Revision rev = revision_ + 1;
  LINTEL_RETURN_IF_ERROR(InsertHistory(rev, op.key, false, rev, op.lease, tombstone, op.value));
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kUpsertKv, "create: write key"));
    LINTEL_RETURN_IF_ERROR(q.Bind(1, op.key).Bind(2, rev).Bind(3, op.lease).Run());
  }
  revision_ = rev;
  op.revision = rev;
  Event& e = b.events.emplace_back();
  e.type = EventType::kPut;
  e.kv = KeyValue{std::string(op.key), std::string(op.value), rev, rev, op.lease};
  return Status::Ok();
}

Status Writer::ApplyUpdate(WriteOp& op, Batch& b) {
  LINTEL_ASSIGN_OR_RETURN(std::optional<KeyValue> current, ReadCurrent(*conn_, op.key));
  if (!current) {
    op.status = NotFound("key " + Quote(op.key) + " not found");
    return Status::Ok();
  }
  if (op.expected != 0 && current->mod_revision != op.expected) {
    op.status = Conflict("key " + Quote(op.key) + ": mod_revision is " +
                         std::to_string(current->mod_revision) + ", expected " +
                         std::to_string(op.expected));
    return Status::Ok();
  }
  if (!LeaseUsable(op.lease, b)) {
    op.status = NotFound("lease " + std::to_string(op.lease) + " not found or expired");
    return Status::Ok();
  }
  Revision rev = revision_ + 1;
  LINTEL_RETURN_IF_ERROR(InsertHistory(rev, op.key, false, current->create_revision, op.lease,
                                       current->mod_revision, op.value));
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kUpsertKv, "update: write key"));
    LINTEL_RETURN_IF_ERROR(q.Bind(1, op.key).Bind(2, rev).Bind(3, op.lease).Run());
  }
  revision_ = rev;
  op.revision = rev;
  Event& e = b.events.emplace_back();
  e.type = EventType::kPut;
  e.kv =
      KeyValue{std::string(op.key), std::string(op.value), current->create_revision, rev, op.lease};
  e.prev = std::move(current);
  return Status::Ok();
}

Status Writer::ApplyDelete(WriteOp& op, Batch& b) {
  LINTEL_ASSIGN_OR_RETURN(std::optional<KeyValue> current, ReadCurrent(*conn_, op.key));
  if (!current) {
    op.status = NotFound("key " + Quote(op.key) + " not found");
    return Status::Ok();
  }
  if (op.expected != 0 && current->mod_revision != op.expected) {
    op.status = Conflict("key " + Quote(op.key) + ": mod_revision is " +
                         std::to_string(current->mod_revision) + ", expected " +
                         std::to_string(op.expected));
    return Status::Ok();
  }
  return DeleteKey(std::move(*current), b, &op.revision);
}

Status Writer::DeleteKey(KeyValue&& current, Batch& b, Revision* revision) {
  Revision rev = revision_ + 1;
  LINTEL_RETURN_IF_ERROR(InsertHistory(rev, current.key, true, 0, 0, current.mod_revision, ""));
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kTombstoneKv, "delete: tombstone key"));
    LINTEL_RETURN_IF_ERROR(q.Bind(1, current.key).Bind(2, rev).Run());
  }
  revision_ = rev;
  if (revision != nullptr) {
    *revision = rev;
  }
  Event& e = b.events.emplace_back();
  e.type = EventType::kDelete;
  e.kv.key = current.key;
  e.kv.mod_revision = rev;
  e.prev = std::move(current);
  return Status::Ok();
}

Status Writer::ApplyGrant(WriteOp& op, Batch& b) {
  LeaseId id = lease_seq_ + 1;
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kInsertLease, "grant lease"));
    LINTEL_RETURN_IF_ERROR(q.Bind(1, id).Bind(2, static_cast<int64_t>(op.ttl.count())).Run());
  }
  lease_seq_ = id;
  op.granted = id;
  b.granted.push_back({id, op.ttl});
  return Status::Ok();
}

Status Writer::RevokeLease(LeaseId id, Batch& b) {
  std::vector<std::string> keys;
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kKeysOfLease, "revoke lease: find keys"));
    q.Bind(1, id);
    while (true) {
      LINTEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        break;
      }
      keys.push_back(q.String(0));
    }
  }
  for (const std::string& key : keys) {
    LINTEL_ASSIGN_OR_RETURN(std::optional<KeyValue> current, ReadCurrent(*conn_, key));
    if (!current) {
      return Internal("store writer: revoke lease: key " + Quote(key) + " vanished");
    }
    LINTEL_RETURN_IF_ERROR(DeleteKey(std::move(*current), b, nullptr));
  }
  {
    LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kDeleteLease, "revoke lease"));
    LINTEL_RETURN_IF_ERROR(q.Bind(1, id).Run());
  }
  b.revoked.insert(id);
  return Status::Ok();
}

Status Writer::ApplyCompact(WriteOp& op) {
  if (op.expected > revision_) {
    op.status =
        BadRequest("compact revision " + std::to_string(op.expected) +
                   " is in the future (current revision " + std::to_string(revision_) + ")");
    return Status::Ok();
  }
  if (op.expected > compacted_) {
    compacted_ = op.expected;
  }
  op.revision = compacted_;
  return Status::Ok();
}

Status Writer::InsertHistory(Revision rev, std::string_view key, bool deleted, Revision create_rev,
                             LeaseId lease, Revision prev_rev, std::string_view value) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kInsertHistory, "write history"));
  q.Bind(1, rev).Bind(2, key).Bind(3, int64_t{deleted ? 1 : 0}).Bind(4, create_rev);
  q.Bind(5, lease).Bind(6, prev_rev).Bind(7, value);
  return q.Run();
}

Status Writer::SetMeta(const char* name, int64_t value) {
  LINTEL_ASSIGN_OR_RETURN(Query q, conn_->Prepare(kSetMeta, "write meta"));
  return q.BindText(1, name).Bind(2, value).Run();
}

}  // namespace lintel::store::sqlite
