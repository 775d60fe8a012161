// A SIGBUS guard for client shared memory. The client owns a registered
// POSIX shared-memory object and may shrink it at any moment; a page of the
// server's MAP_SHARED mapping past the object's new end then raises SIGBUS
// when touched, which kills the process (Triton dies of it). CheckBacked
// (system_shm_region.h) refuses a shrunk object before each use, but a shrink
// can land between that check and the access (while a model reads an input in
// place). This guard closes that window: a SIGBUS whose address lies in a
// guarded mapping replaces the faulting page with a private zero page, so the
// access completes, and marks the mapping faulted; its region then refuses
// every later use (and the request that faulted fails when it is checked after
// the run). A SIGBUS anywhere else goes to the previous handler or kills the
// process as before.
#pragma once

#include <cstddef>

namespace infera { namespace core {

/// Guards [start, start + length) until UnguardMapping and returns its slot;
/// the first call installs the process-wide SIGBUS handler. -1 (unguarded)
/// when sigaction failed or all 4096 slots are in use.
int GuardMapping(void* start, size_t length);

/// Stops guarding the slot from GuardMapping (before the range is unmapped).
void UnguardMapping(int slot);

/// Whether a SIGBUS hit the guarded slot since GuardMapping.
bool MappingFaulted(int slot);

}}  // namespace infera::core
