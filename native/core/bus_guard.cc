#include "core/bus_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace infera { namespace core {

namespace {

// Fixed-size and lock-free: the signal handler may only read atomics.
constexpr int kSlots = 4096;

struct Slot {
  std::atomic<uintptr_t> start{0};
  std::atomic<size_t> length{0};
  std::atomic<bool> faulted{false};
};

Slot slots[kSlots];
std::mutex slots_mutex;  // serializes GuardMapping / UnguardMapping only
struct sigaction previous;
std::once_flag install_once;
bool installed = false;

void
Forward(int sig, siginfo_t* info, void* context)
{
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(sig, info, context);
      return;
    }
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // Default action: restore it; returning re-runs the access, which then kills
  // the process with SIGBUS as it would have without this guard.
  signal(sig, SIG_DFL);
}

void
OnSigbus(int sig, siginfo_t* info, void* context)
{
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : slots) {
    const uintptr_t start = s.start.load(std::memory_order_acquire);
    if (start == 0 || addr < start) continue;
    if (addr - start >= s.length.load(std::memory_order_acquire)) continue;
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    void* at = reinterpret_cast<void*>(addr & ~(page - 1));
    // A private zero page in place of the one past the object's end; mmap is a
    // plain system call, safe here in practice though not on POSIX's list.
    if (mmap(at, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
      break;
    }
    s.faulted.store(true, std::memory_order_release);
    return;
  }
  Forward(sig, info, context);
}

void
Install()
{
  struct sigaction action = {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  installed = sigaction(SIGBUS, &action, &previous) == 0;
}

}  // namespace

int
GuardMapping(void* start, size_t length)
{
  std::call_once(install_once, Install);
  if (!installed || start == nullptr || length == 0) return -1;
  std::lock_guard<std::mutex> lock(slots_mutex);
  for (int i = 0; i < kSlots; i++) {
    if (slots[i].start.load(std::memory_order_relaxed) != 0) continue;
    slots[i].faulted.store(false, std::memory_order_relaxed);
    slots[i].length.store(length, std::memory_order_relaxed);
    slots[i].start.store(reinterpret_cast<uintptr_t>(start), std::memory_order_release);
    return i;
  }
  return -1;
}

void
UnguardMapping(int slot)
{
  if (slot < 0 || slot >= kSlots) return;
  std::lock_guard<std::mutex> lock(slots_mutex);
  slots[slot].start.store(0, std::memory_order_release);
  slots[slot].length.store(0, std::memory_order_release);
}

bool
MappingFaulted(int slot)
{
  return slot >= 0 && slot < kSlots && slots[slot].faulted.load(std::memory_order_acquire);
}

}}  // namespace infera::core
