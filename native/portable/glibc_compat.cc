// Older glibc symbol versions for the shipped prebuild (native/portable/portable.cmake).
//
// Built on a recent glibc, the addon would ask for the newest version of each libc symbol it
// uses, so it would not load where glibc is older. Every symbol below is linked through
// `-Wl,--wrap=<symbol>` to `__wrap_<symbol>` defined here, which binds the version glibc 2.28
// already had (the references inside static archives such as cudart_static and libstdc++.a are
// redirected too, which `.symver` alone would not do):
//  - pthread_*, sem_*, dl*: moved from libpthread/libdl into libc in glibc 2.34, which gave
//    them a new version; the old one (GLIBC_2.2.5, dlmopen GLIBC_2.3.4) is still exported by
//    libc on 2.34+ and by libpthread/libdl before, so one tail jump serves both. The link records
//    libc.so.6 as their provider; glibc before 2.30 fails a lookup that reaches the recorded
//    provider without finding the symbol (BZ #24741), so this relies on libpthread and libdl
//    coming before libc in the search order, as they do: Node.js links both itself.
//  - shm_open, shm_unlink: before 2.34 in librt, which Node.js does not link, so the lookup
//    would reach libc.so.6 first and fail on glibc < 2.30. They are implemented here instead,
//    as Linux defines them: a file of the tmpfs mounted at /dev/shm.
//  - fstat (GLIBC_2.33): before 2.33 a header inline over __fxstat(_STAT_VER, ...).
//  - __libc_single_threaded (GLIBC_2.32): libstdc++'s "no threads yet" fast path; 0 means
//    "assume threads", always true in Node.js.
//  - arc4random (GLIBC_2.36): std::random_device in libstdc++.a; getrandom (2.25) instead.
// The list is what the linked binary asked for; test/unit/native/prebuild-glibc.test.ts fails
// when a new one appears.
#if !defined(__x86_64__) || !defined(__linux__)
#error "glibc_compat.cc is for x86_64 Linux (the symbol versions below are x86_64's)"
#endif

#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

// __wrap_<name>: a hidden trampoline that jumps to <name>@<version> through the PLT.
#define INFERA_COMPAT_JUMP(name, version)                                  \
  __asm__(".symver infera_compat_real_" #name ", " #name "@" version "\n" \
          ".globl __wrap_" #name "\n"                                      \
          ".hidden __wrap_" #name "\n"                                     \
          ".type __wrap_" #name ", @function\n"                            \
          "__wrap_" #name ":\n"                                            \
          "  jmp infera_compat_real_" #name "@PLT\n"                       \
          ".size __wrap_" #name ", . - __wrap_" #name "\n");

#define INFERA_COMPAT_JUMPS(X) \
  X(__pthread_key_create, "GLIBC_2.2.5") \
  X(dlclose, "GLIBC_2.2.5") \
  X(dlerror, "GLIBC_2.2.5") \
  X(dlmopen, "GLIBC_2.3.4") \
  X(dlopen, "GLIBC_2.2.5") \
  X(dlsym, "GLIBC_2.2.5") \
  X(dlvsym, "GLIBC_2.2.5") \
  X(pthread_condattr_setpshared, "GLIBC_2.2.5") \
  X(pthread_create, "GLIBC_2.2.5") \
  X(pthread_detach, "GLIBC_2.2.5") \
  X(pthread_getspecific, "GLIBC_2.2.5") \
  X(pthread_join, "GLIBC_2.2.5") \
  X(pthread_key_create, "GLIBC_2.2.5") \
  X(pthread_key_delete, "GLIBC_2.2.5") \
  X(pthread_kill, "GLIBC_2.2.5") \
  X(pthread_mutex_trylock, "GLIBC_2.2.5") \
  X(pthread_mutexattr_destroy, "GLIBC_2.2.5") \
  X(pthread_mutexattr_init, "GLIBC_2.2.5") \
  X(pthread_mutexattr_setpshared, "GLIBC_2.2.5") \
  X(pthread_mutexattr_settype, "GLIBC_2.2.5") \
  X(pthread_once, "GLIBC_2.2.5") \
  X(pthread_rwlock_destroy, "GLIBC_2.2.5") \
  X(pthread_rwlock_init, "GLIBC_2.2.5") \
  X(pthread_rwlock_rdlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_timedrdlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_timedwrlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_tryrdlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_trywrlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_unlock, "GLIBC_2.2.5") \
  X(pthread_rwlock_wrlock, "GLIBC_2.2.5") \
  X(pthread_rwlockattr_destroy, "GLIBC_2.2.5") \
  X(pthread_rwlockattr_init, "GLIBC_2.2.5") \
  X(pthread_rwlockattr_setpshared, "GLIBC_2.2.5") \
  X(pthread_setspecific, "GLIBC_2.2.5") \
  X(pthread_spin_destroy, "GLIBC_2.2.5") \
  X(pthread_spin_init, "GLIBC_2.2.5") \
  X(pthread_spin_lock, "GLIBC_2.2.5") \
  X(pthread_spin_trylock, "GLIBC_2.2.5") \
  X(pthread_spin_unlock, "GLIBC_2.2.5") \
  X(sem_destroy, "GLIBC_2.2.5") \
  X(sem_init, "GLIBC_2.2.5") \
  X(sem_post, "GLIBC_2.2.5") \
  X(sem_timedwait, "GLIBC_2.2.5") \
  X(sem_trywait, "GLIBC_2.2.5") \
  X(sem_wait, "GLIBC_2.2.5")

INFERA_COMPAT_JUMPS(INFERA_COMPAT_JUMP)

extern "C" {

// _STAT_VER for x86_64's struct stat (kernel layout), as glibc < 2.33 headers passed it.
int infera_compat_fxstat(int ver, int fd, struct stat* buf);
__asm__(".symver infera_compat_fxstat, __fxstat@GLIBC_2.2.5");
__attribute__((visibility("hidden"))) int __wrap_fstat(int fd, struct stat* buf) {
  return infera_compat_fxstat(1, fd, buf);
}

__attribute__((visibility("hidden"))) char __wrap___libc_single_threaded = 0;

__attribute__((visibility("hidden"))) uint32_t __wrap_arc4random(void) {
  uint32_t value = 0;
  std::size_t got = 0;
  auto* out = reinterpret_cast<unsigned char*>(&value);
  while (got < sizeof value) {
    ssize_t n = getrandom(out + got, sizeof value - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR) break;  // no entropy source: keep what we have
  }
  return value;
}

// "/dev/shm/<name>" for a POSIX shared-memory object name ("/name" or "name": one path
// component); false (errno EINVAL or ENAMETOOLONG) for any other name.
static bool shm_path(const char* name, char (&path)[sizeof "/dev/shm/" + NAME_MAX]) {
  while (*name == '/') ++name;
  const std::size_t length = std::strlen(name);
  if (length == 0 || std::strchr(name, '/') != nullptr) {
    errno = EINVAL;
    return false;
  }
  if (length >= NAME_MAX) {
    errno = ENAMETOOLONG;
    return false;
  }
  std::memcpy(path, "/dev/shm/", sizeof "/dev/shm/" - 1);
  std::memcpy(path + sizeof "/dev/shm/" - 1, name, length + 1);
  return true;
}

__attribute__((visibility("hidden"))) int __wrap_shm_open(const char* name, int oflag, mode_t mode) {
  char path[sizeof "/dev/shm/" + NAME_MAX];
  if (!shm_path(name, path)) return -1;
  const int fd = open(path, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EISDIR) errno = EINVAL;
  return fd;
}

__attribute__((visibility("hidden"))) int __wrap_shm_unlink(const char* name) {
  char path[sizeof "/dev/shm/" + NAME_MAX];
  if (!shm_path(name, path)) return -1;
  return unlink(path);
}

}  // extern "C"
