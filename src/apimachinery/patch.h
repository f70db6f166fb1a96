// Patches on JSON documents: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and
// the merge patches kubectl computes for client-side apply.
//
// Pure functions on values: inputs are never modified and nothing throws; any thread.
// Strategic merge patch is not here (it needs per-kind list metadata).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::apimachinery {

// Kube refuses longer JSON patches (RequestEntityTooLarge), as do we.
inline constexpr size_t kMaxJsonPatchOperations = 10000;

// RFC 7386: an object patch merges member by member (null deletes, objects recurse,
// anything else, arrays included, replaces); a non-object patch, null included, replaces
// the whole target. Never fails on JSON values; Internal if the JSON library throws.
Result<Json> ApplyMergePatch(const Json& target, const Json& patch);

// RFC 6902, all or nothing. The patch must be an array of objects, else BadRequest (kube
// answers 400 when it cannot decode the patch); more than kMaxJsonPatchOperations is
// RequestEntityTooLarge. An operation that is malformed or does not apply is Invalid
// (kube's 422), naming the operation's index and path:
//   jsonpatch test operation does not apply: operation 2, path "/spec/replicas":
//       value is 3, expected 2
//   jsonpatch remove operation does not apply: operation 0, path "/a/b": doc is missing
//       path "/a/b"
//   jsonpatch operation 1: unknown op "delete": must be one of add, remove, replace, move,
//       copy, test
// Array indices follow RFC 6901 ("0", "12"; "-" appends for add, move and copy
// destinations). Removing the whole document ("" path) is refused.
Result<Json> ApplyJsonPatch(const Json& target, const Json& patch);

// The RFC 7386 patch that turns `original` into `modified`: keys missing from `modified`
// become null, changed objects recurse, other changed values (arrays too) are given whole,
// equal members are left out; {} when the objects are equal. When either side is not an
// object the patch is `modified` itself (a replacing patch). As RFC 7386 cannot express a
// member set to null, such members come out as deletions.
Json CreateMergePatch(const Json& original, const Json& modified);

// Client-side apply for types without strategic-merge metadata, as kubectl's
// jsonmergepatch.CreateThreeWayJSONMergePatch computes it:
//   original: the last-applied configuration (null when none),
//   modified: the new manifest,
//   current:  the live object.
// The patch is the union of
//   - deletions: fields in `original` that `modified` no longer has (as nulls), and
//   - additions and changes: fields of `modified` that differ from `current`, nulls left
//     out.
// So fields that only `current` has (set by controllers or other clients) are left alone,
// a field the user dropped from the manifest is deleted even if someone changed it since,
// and lists are replaced whole. {} when nothing needs to change. Null arguments count as
// {}; a `modified` that is not an object is returned as the (replacing) patch.
// Kube's conflict check between the two halves cannot fire on parsed JSON, so this cannot
// fail.
Json CreateThreeWayMergePatch(const Json& original, const Json& modified, const Json& current);

// RFC 6901: "" is the whole document, otherwise "/"-separated reference tokens with "~1"
// for '/' and "~0" for '~'. BadRequest on a missing leading '/' or a bad '~' escape.
Result<std::vector<std::string>> SplitJsonPointer(std::string_view pointer);

}  // namespace lintel::apimachinery
