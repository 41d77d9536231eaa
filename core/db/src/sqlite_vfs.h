// A SQLite VFS that writes a WAL file's frames out in one call per sync (sqlite_vfs.cc).
// Sound only for connections that commit with synchronous=FULL (or EXTRA), as the pool's do:
// a commit that does not sync would publish frames still held in memory to other connections.
#pragma once

#include <memory>
#include <string>

namespace flyte::core::db {

inline constexpr const char* kGatheringWalVfs = "flyte-gathering-wal";

// Registers the VFS once per process (not as the default); its name, or null when the
// default VFS cannot be wrapped.
const char* RegisterGatheringWalVfs();

// The SQLite URI filename that opens `path` through that VFS, or `path` itself when it is not
// registered or is already a URI ("file:...", which SQLite reads as one).
std::string SqliteUriThroughGatheringWal(const std::string& path);

// Deferred WAL syncs (the pool's group commit): while a thread defers them, a WAL sync that
// SQLite asks for on that thread (a commit's) writes the gathered frames out but does not wait
// for the device; the WAL it owes a sync is handed back, to be synced on another thread before
// anyone is told that the commit happened. The commit is visible to other connections as soon
// as it returns, and durable once that sync is done. The first sync of each WAL file opened
// (the one that may also sync its directory) is never deferred, nor any sync asked for while a
// thread does not defer them (checkpoints included).
class WalSyncTarget {
 public:
  explicit WalSyncTarget(int fd) : fd_(fd) {}
  ~WalSyncTarget();
  WalSyncTarget(const WalSyncTarget&) = delete;
  WalSyncTarget& operator=(const WalSyncTarget&) = delete;
  // fdatasync(2) of the file: 0, or the errno it failed with.
  int Sync() const;

 private:
  int fd_;
};

// For tests of what follows a failed sync: while `error` is not 0, every deferred WAL sync
// (WalSyncTarget::Sync) fails with it instead of reaching the device.
void FailWalSyncsForTesting(int error);

// Starts deferring on the calling thread (one scope at a time per thread).
void BeginDeferringWalSyncs();
// Stops, and returns the WAL whose sync was deferred since the beginning, if any.
std::shared_ptr<WalSyncTarget> EndDeferringWalSyncs();
// A scope in which the calling thread does not defer them (a checkpoint that a committer runs
// inside its commit).
class WalSyncsNotDeferred {
 public:
  WalSyncsNotDeferred();
  ~WalSyncsNotDeferred();
  WalSyncsNotDeferred(const WalSyncsNotDeferred&) = delete;
  WalSyncsNotDeferred& operator=(const WalSyncsNotDeferred&) = delete;

 private:
  bool was_;
};

}  // namespace flyte::core::db
