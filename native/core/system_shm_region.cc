#include "core/system_shm_region.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "core/bus_guard.h"
#include "core/region_bounds.h"

namespace infera { namespace core {

namespace {

std::string
ErrnoText(int err)
{
  return std::string(std::strerror(err));
}

size_t
PageSize()
{
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

SystemSharedMemoryRegion::SystemSharedMemoryRegion(
    std::string name, std::string key, size_t offset, size_t byte_size,
    void* mapping, size_t mapping_size, size_t delta, int fd, int guard)
    : name_(std::move(name)), key_(std::move(key)), offset_(offset),
      byte_size_(byte_size), mapping_(mapping), mapping_size_(mapping_size),
      data_(static_cast<uint8_t*>(mapping) + delta), fd_(fd), guard_(guard)
{
}

SystemSharedMemoryRegion::~SystemSharedMemoryRegion()
{
  // Unguarded before the range is unmapped and can be reused.
  UnguardMapping(guard_);
  munmap(mapping_, mapping_size_);
  if (fd_ != -1) close(fd_);
}

Status
SystemSharedMemoryRegion::Open(
    const std::string& name, const std::string& key, size_t offset,
    size_t byte_size, std::shared_ptr<SystemSharedMemoryRegion>* region)
{
  const int fd = shm_open(key.c_str(), O_RDWR, S_IRUSR | S_IWUSR);
  if (fd == -1) {
    return Status(
        StatusCode::INTERNAL,
        "Unable to open shared memory region: '" + key + "'");
  }
  struct stat st;
  if (fstat(fd, &st) == -1 || st.st_size < 0) {
    close(fd);
    return Status(
        StatusCode::INTERNAL, "Invalid shared memory region: '" + key + "'");
  }
  const size_t object_size = static_cast<size_t>(st.st_size);
  // Written so that offset + byte_size cannot wrap.
  if (offset > object_size || byte_size > object_size - offset) {
    close(fd);
    return Status(
        StatusCode::INVALID_ARG,
        "failed to register shared memory region '" + name + "': invalid args");
  }

  // mmap refuses a zero length, which Triton reports as the bare strerror
  // glued to its text ("unable to process address spaceInvalid argument").
  if (byte_size == 0) {
    close(fd);
    return Status(
        StatusCode::INVALID_ARG, "failed to register shared memory region '" +
                                     name + "': byte_size must be greater than 0");
  }
  const size_t delta = offset % PageSize();
  const size_t mapping_size = byte_size + delta;
  void* mapping = mmap(
      nullptr, mapping_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
      static_cast<off_t>(offset - delta));
  if (mapping == MAP_FAILED) {
    const int map_errno = errno;
    close(fd);
    return Status(
        StatusCode::INVALID_ARG,
        "failed to register shared memory region '" + name +
            "': unable to process address space" + ErrnoText(map_errno));
  }
  // The descriptor stays open for CheckBacked's fstat (Triton closes it).
  region->reset(new SystemSharedMemoryRegion(
      name, key, offset, byte_size, mapping, mapping_size, delta, fd,
      GuardMapping(mapping, mapping_size)));
  return Status::Success();
}

Status
SystemSharedMemoryRegion::Create(
    const std::string& key, size_t byte_size,
    std::shared_ptr<SystemSharedMemoryRegion>* region)
{
  if (byte_size == 0) {
    return Status(
        StatusCode::INVALID_ARG,
        "cannot create shared memory region '" + key + "' of 0 bytes");
  }
  const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT, S_IRUSR | S_IWUSR);
  if (fd == -1) {
    return Status(
        StatusCode::INTERNAL, "unable to create shared memory region '" + key +
                                  "': " + ErrnoText(errno));
  }
  if (ftruncate(fd, static_cast<off_t>(byte_size)) == -1) {
    const int err = errno;
    close(fd);
    return Status(
        StatusCode::INTERNAL, "unable to set the size of shared memory region '" +
                                  key + "': " + ErrnoText(err));
  }
  void* mapping =
      mmap(nullptr, byte_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  close(fd);
  if (mapping == MAP_FAILED) {
    return Status(
        StatusCode::INTERNAL, "unable to map shared memory region '" + key +
                                  "': " + ErrnoText(map_errno));
  }
  region->reset(
      new SystemSharedMemoryRegion(
      key, key, 0, byte_size, mapping, byte_size, 0, -1, -1));
  return Status::Success();
}

Status
SystemSharedMemoryRegion::Unlink(const std::string& key)
{
  if (shm_unlink(key.c_str()) == 0) return Status::Success();
  const int err = errno;
  if (err == ENOENT) {
    return Status(
        StatusCode::NOT_FOUND,
        "shared memory region '" + key + "' does not exist");
  }
  return Status(
      StatusCode::INTERNAL,
      "unable to unlink shared memory region '" + key + "': " + ErrnoText(err));
}

Status
SystemSharedMemoryRegion::Slice(size_t offset, size_t byte_size, uint8_t** ptr) const
{
  INFERA_RETURN_IF_ERROR(CheckRegionRange(name_, byte_size_, offset, byte_size));
  INFERA_RETURN_IF_ERROR(CheckBacked(offset, byte_size));
  *ptr = data_ + offset;
  return Status::Success();
}

Status
SystemSharedMemoryRegion::CheckBacked(size_t offset, size_t byte_size) const
{
  if (fd_ == -1) return Status::Success();
  if (MappingFaulted(guard_)) {
    return Status(
        StatusCode::INVALID_ARG,
        "shared memory region '" + name_ + "' is no longer usable: its object '" +
            key_ + "' shrank while the region was in use; unregister and register it again");
  }
  struct stat st;
  if (fstat(fd_, &st) == -1 || st.st_size < 0) {
    return Status(
        StatusCode::INTERNAL, "Invalid shared memory region: '" + key_ + "'");
  }
  // offset_ + offset + byte_size lies inside the mapping, so it cannot wrap.
  const size_t end = offset_ + offset + byte_size;
  if (static_cast<size_t>(st.st_size) >= end) return Status::Success();
  return Status(
      StatusCode::INVALID_ARG,
      "shared memory region '" + name_ + "' is no longer usable: its object '" +
          key_ + "' is now " + std::to_string(st.st_size) +
          " bytes, but the request uses bytes up to " + std::to_string(end) +
          " of it");
}

}}  // namespace infera::core
