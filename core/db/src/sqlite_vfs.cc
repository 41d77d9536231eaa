// A SQLite VFS over the platform's default one ("unix") that gathers the writes of a WAL file
// and hands them to the operating system in one call when SQLite syncs the file.
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the page), so a commit of
// N pages costs 2N write system calls before its sync. The frames of a transaction are written
// at consecutive offsets: gathered, they reach the kernel as one write, which copies the same
// bytes with a fraction of the per-call work (system call, page-cache lookup, inode time
// update, per call).
//
// Why this keeps SQLite's guarantees:
// - Other connections see a frame only once the writer publishes it in the WAL index, which it
//   does after syncing the WAL when the commit is synchronous (synchronous=FULL, which every
//   connection of the pool sets; sqlite_vfs.h says so). The sync writes out everything
//   gathered before it syncs, also when the device's part of it is deferred.
// - The writer's own reads of the WAL (a page it spilled mid-transaction, a checkpoint), its
//   size and truncation queries, file controls and closing write the gathered bytes out first.
// - A write that fails is reported by the call that writes it out (a sync, a read): SQLite
//   treats either as an I/O error of the transaction, as it would the write itself.
// - A process that dies before the sync loses only frames of a transaction that was not
//   committed: recovery ignores a WAL tail whose frames are missing or do not check.
// Every other file (the database, its shared-memory index, journals) is the default VFS's own
// file object, untouched.
#include "sqlite_vfs.h"

#include <atomic>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include <sqlite3.h>

namespace flyte::core::db {

namespace {

// Beyond this many gathered bytes, write them out without waiting for the sync.
constexpr size_t kMaxGathered = 8u << 20;

sqlite3_vfs* g_base = nullptr;

// The calling thread's deferral (see sqlite_vfs.h): whether it defers, and what it owes.
thread_local bool t_defer_syncs = false;
thread_local std::shared_ptr<WalSyncTarget> t_owed_sync;

// The object SQLite holds for a WAL file: ours first, the default VFS's right after it.
struct WalFile {
  sqlite3_file head;  // pMethods: kWalMethods
  std::string* gathered;
  sqlite3_int64 gathered_at;
  // A descriptor of its own on the same file, for deferred syncs (null: none could be opened,
  // nothing is deferred), shared with the syncs still owed when the file is closed.
  std::shared_ptr<WalSyncTarget>* sync_target;
  bool synced_once;
  sqlite3_file* base() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
static_assert(alignof(WalFile) <= alignof(std::max_align_t));

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

// The default VFS writes at most 128 KiB - 1 bytes per call (its write helper masks the count to
// 17 bits), so gathered bytes go out in pieces below that.
constexpr size_t kMaxWrite = 0x1f000;

int Flush(WalFile* w) {
  std::string& g = *w->gathered;
  sqlite3_file* b = w->base();
  int rc = SQLITE_OK;
  for (size_t done = 0; done < g.size() && rc == SQLITE_OK; done += kMaxWrite) {
    size_t n = std::min(kMaxWrite, g.size() - done);
    rc = b->pMethods->xWrite(b, g.data() + done, static_cast<int>(n),
                             w->gathered_at + static_cast<sqlite3_int64>(done));
  }
  g.clear();
  return rc;
}

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  sqlite3_file* b = w->base();
  int rc2 = b->pMethods ? b->pMethods->xClose(b) : SQLITE_OK;
  delete w->gathered;
  w->gathered = nullptr;
  delete w->sync_target;
  w->sync_target = nullptr;
  return rc != SQLITE_OK ? rc : rc2;
}

int WalRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->base()->pMethods->xRead(w->base(), out, amount, offset);
}

int WalWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  std::string& g = *w->gathered;
  if (!g.empty() && offset != w->gathered_at + static_cast<sqlite3_int64>(g.size())) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  if (g.empty()) w->gathered_at = offset;
  try {
    g.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  } catch (const std::bad_alloc&) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
    return w->base()->pMethods->xWrite(w->base(), data, amount, offset);
  }
  if (g.size() >= kMaxGathered) return Flush(w);
  return SQLITE_OK;
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->base()->pMethods->xTruncate(w->base(), size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  if (t_defer_syncs && w->synced_once && w->sync_target != nullptr && *w->sync_target) {
    // Written out, synced later (sqlite_vfs.h). A thread writes one database's WAL.
    t_owed_sync = *w->sync_target;
    return SQLITE_OK;
  }
  int rc = w->base()->pMethods->xSync(w->base(), flags);
  if (rc == SQLITE_OK) w->synced_once = true;
  return rc;
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->base()->pMethods->xFileSize(w->base(), size);
}

int WalLock(sqlite3_file* f, int level) {
  return Wal(f)->base()->pMethods->xLock(Wal(f)->base(), level);
}
int WalUnlock(sqlite3_file* f, int level) {
  return Wal(f)->base()->pMethods->xUnlock(Wal(f)->base(), level);
}
int WalCheckReservedLock(sqlite3_file* f, int* out) {
  return Wal(f)->base()->pMethods->xCheckReservedLock(Wal(f)->base(), out);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->base()->pMethods->xFileControl(w->base(), op, arg);
}

int WalSectorSize(sqlite3_file* f) { return Wal(f)->base()->pMethods->xSectorSize(Wal(f)->base()); }
int WalDeviceCharacteristics(sqlite3_file* f) {
  return Wal(f)->base()->pMethods->xDeviceCharacteristics(Wal(f)->base());
}

// A WAL file is never memory-mapped nor given a shared-memory index (those are the database
// file's): version 1 of the methods is all SQLite calls on it.
const sqlite3_io_methods kWalMethods = {
    1,         WalClose,     WalRead,       WalWrite,
    WalTruncate, WalSync,    WalFileSize,   WalLock,
    WalUnlock, WalCheckReservedLock, WalFileControl, WalSectorSize,
    WalDeviceCharacteristics, nullptr, nullptr, nullptr,
    nullptr,   nullptr,      nullptr};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not a WAL file: the default VFS's own object, in place.
    return g_base->xOpen(g_base, name, file, flags, out_flags);
  }
  WalFile* w = Wal(file);
  w->head.pMethods = nullptr;
  w->gathered = nullptr;
  w->gathered_at = 0;
  w->sync_target = nullptr;
  w->synced_once = false;
  int rc = g_base->xOpen(g_base, name, w->base(), flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite calls xClose only when pMethods is set: the default VFS's close, if it needs one.
    if (w->base()->pMethods) w->base()->pMethods->xClose(w->base());
    return rc;
  }
  w->gathered = new (std::nothrow) std::string();
  if (w->gathered == nullptr) {
    w->base()->pMethods->xClose(w->base());
    return SQLITE_NOMEM;
  }
  // The same file, opened again just after SQLite opened (or created) it. Without it, every
  // sync is SQLite's own.
  if (name != nullptr) {
    int fd = ::open(name, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      w->sync_target = new (std::nothrow) std::shared_ptr<WalSyncTarget>();
      if (w->sync_target == nullptr) {
        ::close(fd);
      } else {
        try {
          *w->sync_target = std::make_shared<WalSyncTarget>(fd);
        } catch (const std::bad_alloc&) {
          ::close(fd);
        }
      }
    }
  }
  w->head.pMethods = &kWalMethods;
  (void)vfs;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_base->xDlSym(g_base, h, sym); }
void DlClose(sqlite3_vfs*, void* h) { g_base->xDlClose(g_base, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_base->xGetLastError ? g_base->xGetLastError(g_base, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}
int SetSystemCall(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
  return g_base->xSetSystemCall(g_base, name, p);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs*, const char* name) {
  return g_base->xGetSystemCall(g_base, name);
}
const char* NextSystemCall(sqlite3_vfs*, const char* name) {
  return g_base->xNextSystemCall(g_base, name);
}

sqlite3_vfs g_vfs;

}  // namespace

WalSyncTarget::~WalSyncTarget() { ::close(fd_); }

namespace {
std::atomic<int> g_failing_syncs{0};
}  // namespace

void FailWalSyncsForTesting(int error) { g_failing_syncs = error; }

int WalSyncTarget::Sync() const {
  if (int error = g_failing_syncs.load(); error != 0) return error;
  for (;;) {
    if (::fdatasync(fd_) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

void BeginDeferringWalSyncs() {
  t_owed_sync.reset();
  t_defer_syncs = true;
}

std::shared_ptr<WalSyncTarget> EndDeferringWalSyncs() {
  t_defer_syncs = false;
  return std::move(t_owed_sync);
}

WalSyncsNotDeferred::WalSyncsNotDeferred() : was_(t_defer_syncs) { t_defer_syncs = false; }
WalSyncsNotDeferred::~WalSyncsNotDeferred() { t_defer_syncs = was_; }

const char* RegisterGatheringWalVfs() {
  static std::once_flag once;
  static const char* registered = nullptr;
  std::call_once(once, [] {
    if (sqlite3_initialize() != SQLITE_OK) return;
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr || g_base->iVersion < 3) return;
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 3;
    g_vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kGatheringWalVfs;
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    g_vfs.xSetSystemCall = SetSystemCall;
    g_vfs.xGetSystemCall = GetSystemCall;
    g_vfs.xNextSystemCall = NextSystemCall;
    if (sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK) registered = kGatheringWalVfs;
  });
  return registered;
}

std::string SqliteUriThroughGatheringWal(const std::string& path) {
  // A name that is already a URI is the operator's, parameters and all: left as written.
  if (path.rfind("file:", 0) == 0) return path;
  const char* vfs = RegisterGatheringWalVfs();
  if (vfs == nullptr) return path;
  // RFC 3986 unreserved characters and '/' stay; everything else is percent-encoded, so that
  // '?', '#' and '%' in a path are not read as the URI's own.
  static const char kHex[] = "0123456789ABCDEF";
  // An absolute path goes after an empty authority ("file:///..."), so that one starting "//"
  // is not read as a host.
  std::string uri = path.rfind('/', 0) == 0 ? "file://" : "file:";
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      uri.push_back(static_cast<char>(c));
    } else {
      uri.push_back('%');
      uri.push_back(kHex[c >> 4]);
      uri.push_back(kHex[c & 15]);
    }
  }
  uri += "?vfs=";
  uri += vfs;
  return uri;
}

}  // namespace flyte::core::db
