// A POSIX shared-memory object mapped read-write into this process: the
// system shared-memory extension (`/v2/systemsharedmemory`, Triton server
// shared_memory_manager.cc). The name registry and the in-flight reference
// counts live in TypeScript (src/memory/shared-memory-manager.ts); this is the
// mapping and its bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace infera { namespace core {

/// Owns one mapping; munmap happens in the destructor, so the mapping lives
/// exactly as long as the last std::shared_ptr to it. The addon hands one
/// such reference to every JS ArrayBuffer over the mapping, which is how a
/// region stays mapped while any request still reads or writes it.
class SystemSharedMemoryRegion {
 public:
  /// Server side: opens the POSIX object `key` (shm_open O_RDWR) and maps
  /// [offset, offset + byte_size) of it. `name` is the registered region name
  /// used in messages. Errors, with Triton's messages:
  ///   INTERNAL    "Unable to open shared memory region: '<key>'" (shm_open)
  ///   INTERNAL    "Invalid shared memory region: '<key>'" (fstat)
  ///   INVALID_ARG "failed to register shared memory region '<name>': invalid args"
  ///               when offset + byte_size passes the object's size
  ///   INVALID_ARG "failed to register shared memory region '<name>': byte_size
  ///               must be greater than 0" (Triton passes 0 to mmap and
  ///               answers its EINVAL as "unable to process address
  ///               spaceInvalid argument")
  ///   INVALID_ARG "failed to register shared memory region '<name>': unable
  ///               to process address space<strerror>" when mmap fails
  /// The object's descriptor stays open with the mapping: CheckBacked reads
  /// the object's current size through it. The mapping is guarded against
  /// SIGBUS (bus_guard.h) for a shrink that lands between a check and an
  /// access.
  /// Unlike Triton, `offset` need not be a multiple of the page size: the
  /// mapping starts at the page below it.
  static Status Open(
      const std::string& name, const std::string& key, size_t offset,
      size_t byte_size, std::shared_ptr<SystemSharedMemoryRegion>* region);

  /// Client side (tests, benchmarks, embedding programs): creates the POSIX
  /// object `key` if needed, sets its size to `byte_size` and maps all of it.
  /// INVALID_ARG for byte_size 0; INTERNAL naming the failed call otherwise.
  static Status Create(
      const std::string& key, size_t byte_size,
      std::shared_ptr<SystemSharedMemoryRegion>* region);

  /// Removes the POSIX object `key` (shm_unlink); existing mappings stay
  /// valid. NOT_FOUND when it does not exist, INTERNAL otherwise.
  static Status Unlink(const std::string& key);

  ~SystemSharedMemoryRegion();
  SystemSharedMemoryRegion(const SystemSharedMemoryRegion&) = delete;
  SystemSharedMemoryRegion& operator=(const SystemSharedMemoryRegion&) = delete;

  /// First byte of the region (the object's byte at `offset`).
  uint8_t* Data() const { return data_; }
  size_t ByteSize() const { return byte_size_; }
  const std::string& Name() const { return name_; }
  const std::string& Key() const { return key_; }
  size_t Offset() const { return offset_; }

  /// The address of [offset, offset + byte_size) inside the region, after
  /// CheckRegionRange (INVALID_ARG with Triton's messages) and CheckBacked.
  Status Slice(size_t offset, size_t byte_size, uint8_t** ptr) const;

  /// OK when the object still holds every byte of [offset, offset +
  /// byte_size) of the region (offsets from the region's start; the range
  /// itself already checked by CheckRegionRange). The client owns the object
  /// and may shrink it (ftruncate) at any time; a page of the mapping past
  /// the object's end raises SIGBUS when touched, which would kill the
  /// server. So every read or write of a region's bytes checks this first:
  ///   INVALID_ARG "shared memory region '<name>' is no longer usable: its
  ///               object '<key>' is now <n> bytes, but the request uses bytes
  ///               up to <end> of it"
  ///   INTERNAL    "Invalid shared memory region: '<key>'" when fstat fails
  ///   INVALID_ARG "shared memory region '<name>' is no longer usable: its
  ///               object '<key>' shrank while the region was in use; unregister
  ///               and register it again" once a SIGBUS hit the mapping (the
  ///               guard of bus_guard.h put zero pages where the object ended)
  /// A region made by Create (the client side) has no descriptor: always OK.
  Status CheckBacked(size_t offset, size_t byte_size) const;

 private:
  SystemSharedMemoryRegion(
      std::string name, std::string key, size_t offset, size_t byte_size,
      void* mapping, size_t mapping_size, size_t delta, int fd, int guard);

  const std::string name_;
  const std::string key_;
  const size_t offset_;
  const size_t byte_size_;
  void* const mapping_;
  const size_t mapping_size_;
  uint8_t* const data_;
  // The object's descriptor (server side), for CheckBacked; -1 for Create.
  const int fd_;
  // The mapping's slot in the SIGBUS guard (bus_guard.h); -1 when unguarded.
  const int guard_;
};

}}  // namespace infera::core
