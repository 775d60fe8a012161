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
  ///   INVALID_ARG "failed to register shared memory region '<name>': unable
  ///               to process address space<strerror>" when mmap fails
  ///               (byte_size 0 included, as mmap refuses it)
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
  /// CheckRegionRange (INVALID_ARG with Triton's messages).
  Status Slice(size_t offset, size_t byte_size, uint8_t** ptr) const;

 private:
  SystemSharedMemoryRegion(
      std::string name, std::string key, size_t offset, size_t byte_size,
      void* mapping, size_t mapping_size, size_t delta);

  const std::string name_;
  const std::string key_;
  const size_t offset_;
  const size_t byte_size_;
  void* const mapping_;
  const size_t mapping_size_;
  uint8_t* const data_;
};

}}  // namespace infera::core
