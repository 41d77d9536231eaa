// A SQLite VFS that writes a WAL file's frames out in one call per sync (sqlite_vfs.cc).
// Sound only for connections that commit with synchronous=FULL (or EXTRA), as the pool's do:
// a commit that does not sync would publish frames still held in memory to other connections.
#pragma once

#include <string>

namespace flyte::core::db {

inline constexpr const char* kGatheringWalVfs = "flyte-gathering-wal";

// Registers the VFS once per process (not as the default); its name, or null when the
// default VFS cannot be wrapped.
const char* RegisterGatheringWalVfs();

// The SQLite URI filename that opens `path` through that VFS, or `path` itself when it is not
// registered or is already a URI ("file:...", which SQLite reads as one).
std::string SqliteUriThroughGatheringWal(const std::string& path);

}  // namespace flyte::core::db
